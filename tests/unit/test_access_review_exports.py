"""An export's two entries (services/exports.py: one when it starts, one
when it ends) are one finding of the monthly review, in either order: entries
written in the same microsecond sort by their random suffix."""

from __future__ import annotations

import pytest

from adminapp.services.access_review import AccessReview, EntryRef, Listing

STARTED = {"export_id": "e1", "outcome": "started", "reason": "audit", "dataset": "users"}
CLOSED = {**STARTED, "outcome": "ok", "rows": 120}


def ref(seq: str) -> EntryRef:
    return EntryRef(seq=seq, time=None, event="data_exported", actor="owner@example.com")


@pytest.mark.parametrize("order", ["started first", "closed first"])
def test_an_export_is_one_finding_with_its_rows_and_its_first_entry(order):
    entries = [("a-start", STARTED), ("b-close", CLOSED)]
    if order == "closed first":
        entries.reverse()
    exports, seen = Listing(), {}

    for seq, entry in entries:
        AccessReview._count_export(exports, seen, ref(seq), entry)

    [export] = exports.items
    assert exports.total == 1
    assert export.entry.seq == "a-start"  # the finding links to the start
    assert (export.rows, export.outcome, export.reason) == (120, "ok", "audit")


def test_exports_without_an_id_are_each_a_finding():
    exports, seen = Listing(), {}
    for seq in ("a", "b"):
        AccessReview._count_export(exports, seen, ref(seq), {"reason": "x", "rows": 1})
    assert exports.total == 2
