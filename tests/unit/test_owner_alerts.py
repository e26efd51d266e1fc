"""The owners' alerts are declared once (services/alerts.py): every event
in the table is an audit event the trail records, and a role change alerts
only when the new role outranks the old."""

from __future__ import annotations

import pytest

from adminapp.domain.audit import EVENTS
from adminapp.services.alerts import ALERTS, ROLE_RAISED


def test_every_alerting_event_is_a_declared_audit_event():
    assert set(ALERTS) <= set(EVENTS)
    assert {"admin_invited", "second_factors_reset", "second_factor_locked"} <= set(ALERTS)


@pytest.mark.parametrize(
    ("before", "after", "outcome", "alerts"),
    [
        ("viewer", "admin", "ok", True),
        ("admin", "owner", "ok", True),
        ("viewer", "owner", "ok", True),
        ("owner", "admin", "ok", False),  # lowered
        ("admin", "admin", "ok", False),  # unchanged
        ("viewer", "owner", "refused", False),  # not saved (the last-owner rule)
        (None, "owner", "ok", False),  # no role before: not a change of role
        ("viewer", "emperor", "ok", False),  # not a role the app knows
    ],
)
def test_a_role_change_alerts_only_when_it_raises_the_rank(before, after, outcome, alerts):
    entry = {"event": "admin_role_changed", "outcome": outcome, "role": after}
    if before is not None:
        entry["previous_role"] = before
    assert ROLE_RAISED.applies(entry) is alerts
