"""Session lifetime, idle timeout, revocation and ending sessions in bulk."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.testing.firebase import OWNER
from tests.support.web import sign_in

JSON = {"Accept": "application/json"}


@pytest.fixture
def signed_in(client, auth_emulator, owner):
    sign_in(client, auth_emulator, OWNER)
    return client


def only_session(store) -> dict:
    [session] = store.sessions(email=OWNER)
    return session


def test_session_past_its_absolute_end_is_refused(signed_in, store):
    session = only_session(store)
    store.update_session(session["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert signed_in.get("/admin/", headers=JSON).status_code == 401


def test_idle_session_is_refused(signed_in, store):
    session = only_session(store)
    store.update_session(session["id"], last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
    response = signed_in.get("/admin/", headers=JSON)
    assert response.status_code == 401
    assert "inactivity" in response.get_json()["message"]


def test_activity_is_recorded_at_most_every_few_minutes(signed_in, store):
    first = only_session(store)["last_seen_at"]
    signed_in.get("/admin/")
    assert only_session(store)["last_seen_at"] == first  # no write on every request

    store.update_session(
        only_session(store)["id"], last_seen_at=datetime.now(UTC) - timedelta(minutes=6)
    )
    signed_in.get("/admin/")
    assert only_session(store)["last_seen_at"] > first  # sliding renewal


def test_revoked_firebase_user_is_refused_at_the_next_recheck(
    signed_in, store, auth_emulator, owner
):
    time.sleep(1.1)  # revocation counts from the next whole second
    auth_emulator.revoke(owner.uid)
    assert signed_in.get("/admin/").status_code == 200  # within the re-check bound

    session = only_session(store)
    store.update_session(session["id"], auth_checked_at=datetime.now(UTC) - timedelta(minutes=6))
    assert signed_in.get("/admin/", headers=JSON).status_code == 401
    assert only_session(store)["ended_reason"] == "tokens_revoked"


@pytest.mark.parametrize(
    ("change", "reason"), [("disable", "user_disabled"), ("delete", "user_deleted")]
)
def test_disabled_or_deleted_firebase_user_is_refused_at_the_recheck(
    signed_in, store, auth_emulator, owner, change, reason
):
    getattr(auth_emulator, change)(owner.uid)
    session = only_session(store)
    store.update_session(session["id"], auth_checked_at=datetime.now(UTC) - timedelta(minutes=6))
    assert signed_in.get("/admin/", headers=JSON).status_code == 401
    assert only_session(store)["ended_reason"] == reason


def test_end_sessions_ends_all_but_the_one_kept(app, auth_emulator, owner, store):
    browsers = [app.test_client() for _ in range(3)]
    for browser in browsers:
        sign_in(browser, auth_emulator, OWNER)
    keep = next(s for s in store.sessions(email=OWNER))
    ended = app.extensions["adminapp"].access.end_sessions(
        OWNER, "ended_by_test", actor=OWNER, client=None, keep_key=keep["id"]
    )
    assert ended == 2
    statuses = sorted(b.get("/admin/", headers=JSON).status_code for b in browsers)
    assert statuses == [200, 401, 401]
    [entry] = store.audit(event="sessions_ended")
    assert entry["target"] == OWNER and entry["reason"] == "ended_by_test"
