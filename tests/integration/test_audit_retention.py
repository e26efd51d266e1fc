"""Retention of the audit trail and its access records (PIPA art. 5(3) and
8(1)): the field Firestore's TTL policy deletes after, the longer minimum of
changes to access rights, the setting's floor, and `flask audit retention`.

docs/pipa.md names these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adminapp.domain.audit import ACCESS_RIGHT_EVENTS, EVENTS
from adminapp.firebase.audit import AUDIT, EXPIRE_AT
from adminapp.testing.firebase import OWNER
from tests.support.settings import base_config
from tests.support.ttl import ttl_policies
from tests.support.web import sign_in

ROOT = Path(__file__).resolve().parents[2]
STAFF = "staff@example.com"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_the_ttl_policy_names_the_field_the_app_writes():
    assert (AUDIT, EXPIRE_AT) in ttl_policies()


def test_access_right_events_are_declared_events():
    assert set(EVENTS) >= ACCESS_RIGHT_EVENTS
    assert {"admin_invited", "admin_role_changed", "admin_removed", "second_factors_reset"} <= (
        ACCESS_RIGHT_EVENTS
    )


def _role_change(app, store, auth_emulator):
    store.add_admin(STAFF, "viewer")
    with app.app_context():
        from adminapp.web.context import services

        owner_holds = services().permissions.of_role("owner")
        services().management.change_role(
            STAFF, "admin", actor=OWNER, client=None, holds=owner_holds
        )


@pytest.mark.parametrize(
    ("config", "records", "rights"),
    [(base_config(), 730, 1096), (base_config(ACCESS_RECORD_RETENTION_DAYS="1500"), 1500, 1500)],
)
def test_entries_expire_after_the_retention_and_access_right_changes_after_three_years(
    app, client, auth_emulator, owner, store, records, rights
):
    sign_in(client, auth_emulator, OWNER)
    _role_change(app, store, auth_emulator)

    [signed_in] = store.audit(event="sign_in")
    assert signed_in[EXPIRE_AT] == signed_in["time"] + timedelta(days=records)
    [changed] = store.audit(event="admin_role_changed")
    assert changed[EXPIRE_AT] == changed["time"] + timedelta(days=rights)


def test_retention_reports_counts_by_month_and_entries_without_the_field(
    app, cli, client, auth_emulator, owner, store
):
    sign_in(client, auth_emulator, OWNER)
    _role_change(app, store, auth_emulator)
    entries = store.audit()
    months = {entry[EXPIRE_AT].strftime("%Y-%m") for entry in entries}
    store.client.collection(AUDIT).document("old").set({"event": "sign_in"})
    store.client.collection(AUDIT).document("due").set(
        {"event": "sign_in", EXPIRE_AT: datetime.now(UTC) - timedelta(days=1)}
    )

    result = cli.invoke(args=["audit", "retention"])

    assert result.exit_code == 0, result.output
    assert "kept 730 days" in result.output and "access rights 1096 days" in result.output
    for month in months:
        count = sum(1 for e in entries if e[EXPIRE_AT].strftime("%Y-%m") == month)
        assert f"  {month}  {count:>6}" in result.output
    assert "Past expire_at, deleted within about a day: 1" in result.output
    assert "Without expire_at (written before retention; kept): 1" in result.output
