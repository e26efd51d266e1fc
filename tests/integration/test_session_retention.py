"""Retention of session records: the field Firestore's TTL policy deletes
after, the policy that names it, and what `flask sessions` says about it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adminapp.firebase.sessions import EXPIRE_AT, SESSIONS
from adminapp.testing.firebase import OWNER
from tests.support.settings import base_config
from tests.support.ttl import ttl_policies
from tests.support.web import sign_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_the_ttl_policy_names_the_field_the_app_writes():
    assert (SESSIONS, EXPIRE_AT) in ttl_policies()


def test_a_new_session_record_expires_a_week_after_its_planned_end(
    client, auth_emulator, owner, store
):
    sign_in(client, auth_emulator, OWNER)

    records = store.sessions(email=OWNER, spent_pending=True)
    assert len(records) == 2  # the pending one (ended) and the full one
    for record in records:
        assert record[EXPIRE_AT] == record["expires_at"] + timedelta(days=7)


@pytest.mark.parametrize("config", [base_config(SESSION_RETENTION_DAYS="30")])
def test_the_retention_is_a_setting(client, auth_emulator, owner, store):
    sign_in(client, auth_emulator, OWNER)

    [record] = store.sessions(email=OWNER)
    assert record[EXPIRE_AT] == record["expires_at"] + timedelta(days=30)


def test_expiry_reports_counts_by_day_and_the_records_without_the_field(
    cli, client, auth_emulator, owner, store
):
    sign_in(client, auth_emulator, OWNER)
    [full] = store.sessions(email=OWNER)
    days = Counter(r[EXPIRE_AT].date() for r in store.sessions(email=OWNER, spent_pending=True))
    old = store.client.collection(SESSIONS).document("a" * 64)
    old.set({**{k: v for k, v in full.items() if k not in ("id", EXPIRE_AT)}, "email": OWNER})
    overdue = store.client.collection(SESSIONS).document("b" * 64)
    overdue.set(
        {
            **{k: v for k, v in full.items() if k != "id"},
            EXPIRE_AT: datetime.now(UTC) - timedelta(hours=1),
        }
    )

    result = cli.invoke(args=["sessions", "expiry"])

    assert result.exit_code == 0, result.output
    # The pending record (5 minutes) and the full one (12 hours).
    for day, count in days.items():
        assert f"  {day:%Y-%m-%d}  {count:>6}" in result.output
    assert "Past expire_at, deleted within about a day: 1" in result.output
    assert (
        "Without expire_at (kept until deleted; see 'sessions backfill-expiry'): 1" in result.output
    )
    # Counts and days only: no key, address or address of a client.
    for secret in ("a" * 64, full["id"], OWNER, full["ip"] or "127.0.0.1"):
        assert secret not in result.output

    backfilled = cli.invoke(args=["sessions", "backfill-expiry"])

    assert backfilled.exit_code == 0 and "Set expire_at on 1 session record." in backfilled.output
    assert old.get().to_dict()[EXPIRE_AT] == full["expires_at"] + timedelta(days=7)
    again = cli.invoke(args=["sessions", "expiry"])
    days[old.get().to_dict()[EXPIRE_AT].date()] += 1
    for day, count in days.items():
        assert f"  {day:%Y-%m-%d}  {count:>6}" in again.output
    assert (
        "Without expire_at (kept until deleted; see 'sessions backfill-expiry'): 0" in again.output
    )
    assert (
        "Set expire_at on 0 session records."
        in cli.invoke(args=["sessions", "backfill-expiry"]).output
    )
