"""The audit trail's rules that need no Firestore (adminapp/domain/audit.py):
entry ids and the cursor check, the target filter as typed, and the
declared events a product adds to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adminapp.domain.audit import (
    ACCESS_RIGHT_EVENTS,
    EVENTS,
    AuditEvents,
    audit_target,
    new_entry_id,
    retention_for,
    valid_cursor,
)


def test_entry_ids_are_cursors_that_sort_by_time():
    earlier = datetime(2026, 11, 22, 23, 59, 58, 123456, tzinfo=UTC)
    ids = [new_entry_id(earlier + timedelta(microseconds=n)) for n in (0, 1, 1_000_000)]
    assert all(valid_cursor(entry_id) for entry_id in ids)
    assert ids == sorted(ids)
    assert ids[0].startswith("20261122T235958123456Z-")
    assert new_entry_id(earlier) != new_entry_id(earlier)  # same instant, two entries


def test_anything_else_is_not_a_cursor():
    for value in ("", "20261122T235958123456Z", "20261122T235958123456Z-1A2B3C4D", "x" * 24):
        assert not valid_cursor(value)


def test_a_target_filter_is_trimmed_and_emails_lowercased():
    assert audit_target("  Alice@Example.COM ") == "alice@example.com"
    assert audit_target(" uid-AbC ") == "uid-AbC"
    assert audit_target("   ") is None
    assert audit_target(None) is None


def test_a_product_adds_its_events_after_the_built_in_ones_once():
    events = AuditEvents()
    assert events.names == EVENTS and "note_added" not in events
    events.declare(["note_added", "sign_in"])
    events.declare(["note_added"])
    assert events.names == (*EVENTS, "note_added")
    assert "note_added" in events


def test_access_rights_keep_three_years_whatever_the_setting():
    event = sorted(ACCESS_RIGHT_EVENTS)[0]
    assert retention_for(event, timedelta(days=30)) == timedelta(days=1096)
    assert retention_for("sign_in", timedelta(days=30)) == timedelta(days=30)
    assert retention_for(event, timedelta(days=2000)) == timedelta(days=2000)
