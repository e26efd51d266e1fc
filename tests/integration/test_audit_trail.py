"""The audit trail: what is recorded, and the page that reads it."""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.testing.firebase import DEFAULT_PASSWORD
from tests.support.web import csrf_token, exchange, post_form, session_cookie

OWNER = "boss@example.com"
FIELDS = {
    *("id", "seq", "time", "event", "actor", "target", "outcome", "reason", "ip", "user_agent"),
    # The target's Firebase uid (users console) and what the target filter matches.
    *("target_uid", "subjects"),
    # The request that wrote it, and when the TTL policy deletes it.
    *("request_id", "expire_at"),
    # Its link in the chain (adminapp/firebase/audit_chain.py).
    *("chain", "n", "link", "prev", "prev_expire_at", "mac"),
}
# Invitations and role changes also say the role given and the one before, as
# data (the owners' alerts tell a raise from a lowering by them).
ROLE_FIELDS = {
    "admin_invited": {"role"},
    "admin_role_changed": {"role", "previous_role"},
}


@pytest.fixture
def owner_client(signed_in_as):
    client = signed_in_as(OWNER, "owner")
    client.environ_base["HTTP_USER_AGENT"] = "AuditTest/1.0"
    return client


def test_entries_have_every_field_and_nothing_secret(app, owner_client, store, auth_emulator):
    # A refused sign-in, an invitation, a role change, a session ended, a sign-out.
    auth_emulator.create_user("outsider@example.com")
    outsider = app.test_client()
    outsider_token = auth_emulator.sign_in("outsider@example.com")
    exchange(outsider, outsider_token)
    post_form(owner_client, "/admin/admins", {"email": "new@example.com", "role": "viewer"})
    post_form(owner_client, "/admin/admins/new@example.com/role", {"role": "admin"})
    cookie = session_cookie(owner_client).value
    csrf = csrf_token(owner_client)
    post_form(owner_client, "/admin/logout")

    entries = store.audit()
    events = {e["event"] for e in entries}
    assert {"sign_in", "admin_invited", "admin_role_changed", "sign_out"} <= events
    for entry in entries:
        assert set(entry) == FIELDS | ROLE_FIELDS.get(entry["event"], set()), entry
        assert isinstance(entry["time"], datetime)
        assert entry["outcome"] in ("ok", "refused")
        assert entry["ip"] == "127.0.0.1"
    changed = next(e for e in entries if e["event"] == "admin_role_changed")
    assert (changed["role"], changed["previous_role"]) == ("admin", "viewer")
    refused = next(e for e in entries if e["outcome"] == "refused")
    assert refused["event"] == "sign_in" and refused["reason"] == "not_admin"
    assert refused["actor"] == "outsider@example.com"
    blob = repr(entries)
    session_ids = [s["id"] for s in store.sessions()]
    for secret in [outsider_token, cookie, csrf, DEFAULT_PASSWORD, *session_ids]:
        assert secret not in blob


_seeded = itertools.count()


def seed(
    store,
    count: int,
    *,
    event="sign_in",
    actor="someone@example.com",
    user_agent=lambda index: None,
):
    """Entries one second apart, in the past, each with a unique id, written
    straight into Firestore (as entries stored by older versions are)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(count):
        index = next(_seeded)
        when = start + timedelta(seconds=index)
        seq = f"{when:%Y%m%dT%H%M%S%f}Z-{index:08x}"
        store.client.collection("admin_audit").document(seq).set(
            {
                "seq": seq,
                "time": when,
                "event": event,
                "actor": actor,
                "target": None,
                "outcome": "ok",
                "reason": None,
                "ip": "10.0.0.1",
                "user_agent": user_agent(index),
            }
        )


def rows(page_html: str) -> list[str]:
    return re.findall(r'<td class="actor" data-label="Actor">([^<]+)</td>', page_html)


def test_newest_first_with_paging_both_ways(owner_client, store):
    seed(store, 120, actor="bulk@example.com")
    first = owner_client.get("/admin/audit?actor=bulk@example.com").get_data(as_text=True)
    assert len(rows(first)) == 50
    times = re.findall(r'<time datetime="([^"]+)"', first)
    assert times == sorted(times, reverse=True)
    older_link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "Newer" not in first

    second = owner_client.get(older_link).get_data(as_text=True)
    second_times = re.findall(r'<time datetime="([^"]+)"', second)
    assert len(second_times) == 50 and max(second_times) < min(times)
    newer_link = re.search(r'<a rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    back = owner_client.get(newer_link).get_data(as_text=True)
    assert re.findall(r'<time datetime="([^"]+)"', back) == times

    third_link = re.search(r'<a rel="next" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    third = owner_client.get(third_link).get_data(as_text=True)
    assert len(rows(third)) == 20
    assert 'rel="next"' not in third


# ~8 KB User-Agents, as the audit's refused exchanges stored them: the same
# beginning with a different end, or a different beginning each time.
# A fresh marker per run keeps earlier tests' cached results out of the count.
_RUN = uuid.uuid4().hex
HOSTILE_AGENTS = {
    "same-beginning": lambda i: f"Mozilla/5.0 ({_RUN}; Linux x86_64) " + "A" * 8000 + f" {i}",
    "different-beginnings": lambda i: f"Agent{i}/1.0 ({_RUN}; Linux x86_64) " + "A" * 8000,
}


@pytest.mark.parametrize("agents", HOSTILE_AGENTS, ids=list(HOSTILE_AGENTS))
def test_long_stored_user_agents_are_parsed_cut(owner_client, store, monkeypatch, agents):
    from adminapp.client import MAX_USER_AGENT
    from adminapp.web.console import filters

    parsed: list[int] = []
    parse = filters.parse

    def spy(user_agent):
        parsed.append(len(user_agent))
        return parse(user_agent)

    monkeypatch.setattr(filters, "parse", spy)
    seed(store, 50, actor="noisy@example.com", user_agent=HOSTILE_AGENTS[agents])

    page = owner_client.get("/admin/audit?actor=noisy@example.com")

    assert page.status_code == 200
    assert len(rows(page.get_data(as_text=True))) == 50
    assert parsed and max(parsed) <= MAX_USER_AGENT
    # Variants that differ only past the limit are one cache entry.
    assert len(parsed) == (1 if agents == "same-beginning" else 50)


def test_filters_by_event_and_actor(owner_client, store):
    seed(store, 3, event="admin_removed", actor="a@example.com")
    seed(store, 2, event="sign_out", actor="a@example.com")
    seed(store, 4, event="admin_removed", actor="b@example.com")
    page = owner_client.get("/admin/audit?event=admin_removed&actor=A@example.com")
    assert rows(page.get_data(as_text=True)) == ["a@example.com"] * 3
    only_event = owner_client.get("/admin/audit?event=sign_out").get_data(as_text=True)
    assert rows(only_event) == ["a@example.com"] * 2


@pytest.mark.parametrize(
    "query", ["event=made_up", "before=garbage", "after=2026", "actor=" + "x" * 300]
)
def test_bad_filters_are_400(owner_client, query):
    assert owner_client.get(f"/admin/audit?{query}").status_code == 400


def test_viewers_read_the_trail(signed_in_as):
    viewer = signed_in_as("viewer@example.com", "viewer")
    assert viewer.get("/admin/audit").status_code == 200


def test_access_refused_at_the_guard_is_audited(signed_in_as, store):
    viewer = signed_in_as("viewer@example.com", "viewer")
    assert viewer.get("/admin/admins/boss@example.com/remove").status_code == 403
    [entry] = store.audit(event="access_refused")
    assert entry["actor"] == "viewer@example.com"
    assert entry["reason"] == "insufficient_role"
    assert entry["target"] == "/admin/admins/boss@example.com/remove"


def test_refusals_reach_the_trail_up_to_a_bound_and_the_log_always(signed_in_as, store, caplog):
    audited = 20  # AUDITED_REFUSALS in adminapp/web/guard.py
    viewer = signed_in_as("viewer@example.com", "viewer")
    over = 5
    tries = audited + over
    with caplog.at_level(logging.INFO, logger="adminapp.security"):
        statuses = [
            viewer.get(f"/admin/admins/boss{i}@example.com/remove").status_code
            for i in range(tries)
        ]

    assert statuses == [403] * tries
    assert len(store.audit(event="access_refused")) == audited
    logged = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "adminapp.security"
    ]
    refusals = [line for line in logged if line["event"] == "access_refused"]
    assert len(refusals) == tries
    assert [line.get("audited") for line in refusals[-over:]] == [False] * over
    assert all(line["reason"] == "insufficient_role" for line in refusals)
