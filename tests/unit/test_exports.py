"""The export's parts without a server: the chunked reader on the in-memory
Firestore, the CSV cells a spreadsheet would run, the rules on a reason.
The whole path (routes, recording, 100k entries) is
tests/integration/test_exports.py."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from adminapp.errors import InvalidInput
from adminapp.services.exports import (
    AUDIT_COLUMNS,
    Encoder,
    audit_filters,
    check_reason,
    csv_safe,
)


def test_the_reader_asks_one_query_per_chunk_and_holds_one_chunk(memory_services, clock):
    for n in range(7):
        memory_services.audit.record("sign_in", actor=f"a{n}@example.com")
        clock.advance(seconds=1)
    api = memory_services.backend.firestore._firestore_api
    queries = []
    run_query = api.run_query
    api.run_query = lambda *a, **k: queries.append(1) or run_query(*a, **k)

    chunks = memory_services.audit.export_chunks(chunk=3)
    first = next(chunks)
    assert len(queries) == 1 and len(first) == 3  # nothing read ahead
    rest = list(chunks)

    assert [len(chunk) for chunk in (first, *rest)] == [3, 3, 1]
    actors = [entry["actor"] for chunk in (first, *rest) for entry in chunk]
    assert actors == [f"a{n}@example.com" for n in reversed(range(7))]
    assert len(queries) == 3


def test_the_date_range_bounds_the_entry_ids(memory_services, clock):
    memory_services.audit.record("sign_in", actor="today@example.com")
    day = f"{clock.now:%Y%m%d}"
    inside = list(memory_services.audit.export_chunks(since=day, until="99991231"))
    before = list(memory_services.audit.export_chunks(until=day))
    assert [e["actor"] for chunk in inside for e in chunk] == ["today@example.com"]
    assert before == []


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+82 10", "'+82 10"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        (3, 3),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_prefixed(value, cell):
    assert csv_safe(value) == cell


def test_every_csv_cell_is_checked_lists_and_dicts_included():
    encoder = Encoder("csv", AUDIT_COLUMNS)
    text = encoder.rows([{"subject_uids": ["-uid", "b"], "filters": {"a": 1}, "actor": "=x"}])
    [row] = csv.reader(io.StringIO(text.decode()))
    values = dict(zip(AUDIT_COLUMNS, row, strict=True))
    assert (values["subject_uids"], values["actor"], values["filters"]) == (
        "'-uid b",
        "'=x",
        '{"a": 1}',
    )


@pytest.mark.parametrize("reason", [None, "", "  ", "x" * 501, 7, ["why"]])
def test_a_reason_is_required_and_bounded(reason):
    with pytest.raises(InvalidInput):
        check_reason(reason)


def test_a_reason_is_kept_trimmed():
    assert check_reason("  ticket 42 \n") == "ticket 42"


def test_the_filters_are_checked_and_normalised():
    filters = audit_filters(
        ("sign_in",), event="sign_in", actor=" A@Example.com ", since="2026-11-01"
    )
    assert (filters.event, filters.actor, filters.since) == (
        "sign_in",
        "a@example.com",
        date(2026, 11, 1),
    )
    for bad in ({"event": "x"}, {"since": "soon"}, {"since": "2026-11-02", "until": "2026-11-01"}):
        with pytest.raises(InvalidInput):
            audit_filters(("sign_in",), **bad)
