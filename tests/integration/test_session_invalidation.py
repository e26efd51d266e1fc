"""The session cache with its invalidation channel: two gunicorn instances,
one real redis-server, a 60-second cache.

Each test first shows that instance B answers the cookie from its cache (no
Firestore round trip in ``Server-Timing``), then makes a change through
instance A (or the CLI) and polls B until it refuses: well within the TTL,
so only the channel can have told B. Nothing here sleeps for the TTL.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_client
import requests
from firebase_admin import auth

from adminapp.cache.session_invalidation import channel_name
from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from tests.support.instances import (
    ROOT,
    Instance,
    eventually,
    instance,
    redis_server,
    started_together,
)
from tests.support.settings import LOG_DIR, PROJECT_ID, base_config

STAFF = "staff@example.com"
ME = "/admin/api/me"
JSON = {"Accept": "application/json"}
CACHE_SECONDS = "60"
# Revocation must reach the other instance within this (the target).
BOUND = 1.0
NO_FIRESTORE = 'firestore;desc="round trips";dur=0'
ONE_FIRESTORE = 'firestore;desc="round trips";dur=1'


@pytest.fixture
def redis():
    with redis_server() as server:
        yield server


@pytest.fixture
def config(redis):
    return base_config(
        SESSION_CACHE_SECONDS=CACHE_SECONDS,
        SESSION_INVALIDATION_URL=redis.uri,
        SERVER_TIMING="true",
    )


@pytest.fixture
def two_instances(clean, config):
    with started_together(config, LOG_DIR) as (a, b):
        yield a, b


@pytest.fixture
def owner(owner, store):
    """The owner the tests' scripts act as: a service account, whose bearer
    calls need no Firebase second-factor claim (see the API's bearer rule)."""
    store.update_admin(OWNER, service_account=True)
    return owner


@pytest.fixture
def staff(auth_emulator, store):
    user = auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "admin")
    return user


def served_from_cache(b: Instance, cookie: str) -> bool:
    response = b.get(ME, cookie, headers=dict(JSON))
    return response.status_code == 200 and NO_FIRESTORE in response.headers["Server-Timing"]


def cached_on(b: Instance, cookie: str) -> str:
    """B serves ``cookie`` from its cache from now on (once its channel is live)."""
    eventually(lambda: served_from_cache(b, cookie), within=10)
    return cookie


def refused_within_the_bound(b: Instance, cookie: str) -> None:
    took = eventually(lambda: b.get(ME, cookie, headers=dict(JSON)).status_code != 200, BOUND)
    assert took <= BOUND


def bearer(auth_emulator, email: str = OWNER) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_emulator.sign_in(email)}"}


def staff_session_key(store) -> str:
    [session] = [s for s in store.sessions(email=STAFF) if s["active"]]
    return session["id"]


# -- every publishing change -------------------------------------------------


def test_a_sign_out_on_one_instance_is_refused_on_the_other_within_a_second(
    two_instances, auth_emulator, staff
):
    a, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))

    assert a.sign_out(cookie).status_code == 302

    refused_within_the_bound(b, cookie)


def test_an_owner_ending_one_session_is_refused_on_the_other_instance(
    two_instances, auth_emulator, owner, staff, store
):
    a, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
    key = staff_session_key(store)

    ended = requests.delete(
        f"{a.url}/admin/api/sessions/{key}", headers=bearer(auth_emulator), timeout=10
    )
    assert ended.status_code == 200

    refused_within_the_bound(b, cookie)


def test_ending_all_other_sessions_is_refused_on_the_other_instance(
    two_instances, auth_emulator, staff
):
    a, b = two_instances
    mine = b.sign_in(auth_emulator.sign_in(STAFF))
    other = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
    cached_on(b, mine)

    response = a.post_form("/admin/sessions/end-others", mine)
    assert response.status_code in (302, 303)

    refused_within_the_bound(b, other)
    assert b.get(ME, mine).status_code == 200  # the session that asked stays


def test_signing_out_everywhere_is_refused_on_the_other_instance(
    two_instances, auth_emulator, staff
):
    a, b = two_instances
    here = a.sign_in(auth_emulator.sign_in(STAFF))
    there = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))

    response = a.post_form("/admin/sessions/end-all", here)
    assert response.status_code == 303

    refused_within_the_bound(b, there)


@pytest.mark.parametrize(
    "change",
    [{"disabled": True}, "removal"],
    ids=["disabled", "removed"],
)
def test_disabling_or_removing_an_admin_is_refused_on_the_other_instance(
    two_instances, auth_emulator, owner, staff, change
):
    a, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))

    url = f"{a.url}/admin/api/admins/{STAFF}"
    if change == "removal":
        done = requests.delete(url, headers=bearer(auth_emulator), timeout=10)
    else:
        done = requests.patch(url, headers=bearer(auth_emulator), json=change, timeout=10)
    assert done.status_code == 200

    refused_within_the_bound(b, cookie)


def test_a_role_change_reaches_the_other_instance_within_a_second(
    two_instances, auth_emulator, owner, staff
):
    a, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))

    changed = requests.patch(
        f"{a.url}/admin/api/admins/{STAFF}",
        headers=bearer(auth_emulator),
        json={"role": "viewer"},
        timeout=10,
    )
    assert changed.status_code == 200

    took = eventually(lambda: b.get(ME, cookie).json()["admin"]["role"] == "viewer", BOUND)
    assert took <= BOUND


def test_a_custom_role_edit_reaches_the_other_instance_within_a_second(
    two_instances, auth_emulator, owner, staff, store
):
    """A role edit changes what every holder may do: B, serving the holder
    from its cache, applies it within the channel's bound."""
    a, b = two_instances
    created = requests.post(
        f"{a.url}/admin/api/roles",
        headers=bearer(auth_emulator),
        json={"name": "support", "permissions": ["users.read"]},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    store.update_admin(STAFF, role="support")
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
    assert b.get(ME, cookie).json()["admin"]["permissions"] == ["users.read"]

    changed = requests.patch(
        f"{a.url}/admin/api/roles/support",
        headers=bearer(auth_emulator),
        json={"permissions": ["users.read", "users.reset"]},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text

    took = eventually(
        lambda: b.get(ME, cookie).json()["admin"]["permissions"] == ["users.read", "users.reset"],
        BOUND,
    )
    assert took <= BOUND


def test_enabling_an_admin_is_published(two_instances, auth_emulator, owner, staff, redis):
    # A disabled admin has no session left to serve from a cache, so what
    # enabling must do is tell the other instances; listen to the channel.
    a, _ = two_instances
    url = f"{a.url}/admin/api/admins/{STAFF}"
    owner_headers = bearer(auth_emulator)
    disabled = requests.patch(url, headers=owner_headers, json={"disabled": True}, timeout=10)
    assert disabled.status_code == 200
    listener = redis_client.Redis.from_url(redis.uri).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel_name(PROJECT_ID))

    enabled = requests.patch(url, headers=owner_headers, json={"disabled": False}, timeout=10)
    assert enabled.status_code == 200

    messages = []
    eventually(lambda: messages.append(listener.get_message(timeout=0.1)) or any(messages), 2)
    assert json.loads(next(m for m in messages if m)["data"])["emails"] == [STAFF]
    listener.close()


def test_a_completed_password_reset_is_refused_on_the_other_instance(
    two_instances, auth_emulator, staff
):
    a, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
    link = auth.generate_password_reset_link(STAFF, app=auth_emulator.app)
    code = link.split("oobCode=")[1].split("&")[0]

    response = a.post_form(
        "/admin/resetpassword/confirm",
        data={"oob_code": code, "password": "a new passphrase", "repeat": "a new passphrase"},
    )
    assert response.status_code == 303, response.text
    assert DEFAULT_PASSWORD  # the old password no longer opens anything

    refused_within_the_bound(b, cookie)


def test_the_periodic_recheck_finding_revoked_tokens_is_refused_on_the_other_instance(
    two_instances, auth_emulator, staff, store
):
    a, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
    time.sleep(1.1)  # revocation counts from the next whole second
    auth_emulator.revoke(staff.uid)
    store.update_session(
        staff_session_key(store), auth_checked_at=datetime.now(UTC) - timedelta(minutes=6)
    )

    # A has not cached this session: it reads the record, finds the re-check
    # due, asks Firebase, and ends the session.
    assert a.get(ME, cookie).status_code == 401

    refused_within_the_bound(b, cookie)


def test_a_change_made_with_the_cli_is_refused_on_the_instances(
    two_instances, auth_emulator, staff, config
):
    _, b = two_instances
    cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))

    flask = str(ROOT / ".venv" / "bin" / "flask")
    done = subprocess.run(
        [flask, "--app", "wsgi", "sessions", "revoke", "--email", STAFF],
        cwd=ROOT,
        env={**os.environ, "GRPC_VERBOSITY": "ERROR", **config},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr

    refused_within_the_bound(b, cookie)


# -- Redis down: fail closed ---------------------------------------------------


def test_without_redis_the_cache_is_bypassed_and_nothing_stale_is_accepted(
    two_instances, auth_emulator, staff, redis
):
    a, b = two_instances
    leaving = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
    staying = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))

    redis.stop()

    # B stops trusting its cache: every guarded request reads Firestore again ...
    def reads_firestore() -> bool:
        response = b.get(ME, staying, headers=dict(JSON))
        return response.status_code == 200 and ONE_FIRESTORE in response.headers["Server-Timing"]

    eventually(reads_firestore, within=3)
    # ... so a sign-out on A, whose publication cannot be delivered, applies at once.
    assert a.sign_out(leaving).status_code == 302
    assert b.get(ME, leaving).status_code == 401
    assert "session invalidation not published" in a.output()
    assert "session invalidation channel down" in b.output()
    assert b.get(ME, staying).status_code == 200  # the others keep working

    redis.start()

    cached_on(b, staying)  # the cache is used again ...
    assert b.get(ME, leaving).status_code == 401  # ... and did not keep the ended one


def test_the_channel_is_off_without_redis(clean, auth_emulator, staff):
    # Single-process mode: the per-process TTL cache, as before the channel.
    config = base_config(SESSION_CACHE_SECONDS=CACHE_SECONDS, SERVER_TIMING="true")
    with instance(config, LOG_DIR) as b:
        cookie = cached_on(b, b.sign_in(auth_emulator.sign_in(STAFF)))
        assert "session invalidation" not in b.output()
        assert served_from_cache(b, cookie)
