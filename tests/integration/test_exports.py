"""Exports with a reason (PIPA art. 8(2)): the audit trail and the users list
as CSV and JSON Lines, streamed, each recorded with its reason before the
first byte; refused without a reason, for viewers and admins.

docs/pipa.md names these tests.
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from firebase_admin import auth

from adminapp.web.context import EXTENSION_KEY
from tests.support.web import ORIGIN, csrf_token

OWNER = "boss@example.com"
EXPORTS = "data_exported"
BIG = 100_000


@pytest.fixture
def owner_client(signed_in_as):
    return signed_in_as(OWNER, "owner")


@pytest.fixture
def services(app):
    return app.extensions[EXTENSION_KEY]


def headers(client) -> dict[str, str]:
    return {"Origin": ORIGIN, "X-CSRFToken": csrf_token(client)}


def export_audit(client, **body):
    return client.post("/admin/api/audit/export", headers=headers(client), json=body)


def exports(store) -> list[dict]:
    return sorted(store.audit(event=EXPORTS), key=lambda entry: entry["seq"])


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def jsonl_rows(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines()]


def seed_trail(services, count: int, **details) -> None:
    for n in range(count):
        services.audit.record("sign_in", actor=f"seed{n}@example.com", **details)


@pytest.mark.long
def test_the_audit_export_streams_100k_entries_in_bounded_memory(
    owner_client, services, store, monkeypatch
):
    """100k entries, 500 a chunk (the reader's chunk size), through the
    route, the encoder and the recording. The entries are made on the fly in
    the reader's place (Firestore's side, the chunked queries, is the next
    test): the app must pull one chunk, send it, then pull the next."""
    made = {"chunks": 0}
    time = datetime(2026, 11, 1, tzinfo=UTC)

    def chunks(**_filters):
        for first in range(0, BIG, 500):
            made["chunks"] += 1
            yield [
                {
                    "seq": f"20261101T{n:012d}Z-{n:08x}",
                    "time": time,
                    "event": "personal_data_accessed",
                    "actor": "admin@example.com",
                    "task": "view",
                    "subject_uids": [f"uid-{n}"],
                    "ip": "203.0.113.7",
                    "outcome": "ok",
                }
                for n in range(first, first + 500)
            ]

    monkeypatch.setattr(services.audit, "export_chunks", chunks)

    response = export_audit(owner_client, reason="Quarterly inspection", format="csv")
    assert response.status_code == 200 and response.is_streamed
    assert made["chunks"] == 0  # recorded and answered, nothing read yet
    lines, size, window = 0, 0, 0
    for pieces, piece in enumerate(response.response, start=1):  # as sent, never joined
        # The head, then one piece per chunk: never a chunk read ahead.
        assert made["chunks"] <= pieces
        if pieces == 100:
            tracemalloc.start()
        if 100 <= pieces < 160:
            window += len(piece)
        if pieces == 160:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        size += len(piece)
        lines += piece.count(b"\r\n")
        del piece

    assert lines == BIG + 1  # the header and every entry
    assert made["chunks"] == BIG // 500 and size > 10_000_000
    # Over 60 chunks (30,000 entries) the app held about one at a time.
    assert peak < window / 4, (peak, window)
    started, ended = exports(store)
    assert (started["outcome"], ended["outcome"], ended["rows"]) == ("started", "ok", BIG)


def test_the_audit_export_reads_the_trail_in_chunks_with_its_filters(owner_client, services, store):
    seed_trail(services, 7, target="alice@example.com")
    services.audit.record("sign_out", actor="other@example.com")
    services.exports = replace(services.exports, chunk=3)  # 7 entries: three queries

    response = export_audit(
        owner_client, reason="Alice asked for her records", format="jsonl", event="sign_in"
    )

    rows = jsonl_rows(response.get_data())
    assert response.status_code == 200
    seeded = [row["actor"] for row in rows if row["actor"].startswith("seed")]
    assert seeded == [f"seed{n}@example.com" for n in reversed(range(7))]
    assert {row["event"] for row in rows} == {"sign_in"} and len(rows) == 8  # and the owner's
    target = export_audit(
        owner_client, reason="the same", format="jsonl", target="ALICE@example.com"
    ).get_data()
    assert len(jsonl_rows(target)) == 7
    today = datetime.now(UTC).date()
    before = export_audit(
        owner_client, reason="the same", format="jsonl", until=str(today - timedelta(days=1))
    )
    assert jsonl_rows(before.get_data()) == []
    within = export_audit(
        owner_client, reason="the same", format="jsonl", since=str(today), until=str(today)
    )
    assert len(jsonl_rows(within.get_data())) >= 8


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_both_formats_parse_back(owner_client, services, format):
    seed_trail(services, 3, target="하늘@example.com")

    response = export_audit(
        owner_client, reason="감사 준비", format=format, target="하늘@example.com"
    )

    rows = (csv_rows if format == "csv" else jsonl_rows)(response.get_data())
    assert [row["target"] for row in rows] == ["하늘@example.com"] * 3
    assert [row["actor"] for row in rows] == [f"seed{n}@example.com" for n in (2, 1, 0)]
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response.headers["Content-Disposition"].endswith(f'.{format}"')
    assert response.headers["Cache-Control"] == "no-store"


def test_the_byte_order_mark_is_asked_for(owner_client, services):
    seed_trail(services, 1)
    plain = export_audit(owner_client, reason="r", format="csv").get_data()
    marked = export_audit(owner_client, reason="r", format="csv", bom=True).get_data()
    assert not plain.startswith(b"\xef\xbb\xbf") and marked.startswith(b"\xef\xbb\xbfseq,")


@pytest.mark.parametrize("reason", [None, "", "   \n", "x" * 501])
def test_an_export_without_a_reason_is_refused_and_nothing_is_recorded(
    owner_client, auth_emulator, store, reason
):
    auth_emulator.create_user("customer@example.com")
    body = {"format": "csv"} if reason is None else {"format": "csv", "reason": reason}

    audit = export_audit(owner_client, **body)
    users = owner_client.post("/admin/api/users/export", headers=headers(owner_client), json=body)
    page = owner_client.post(
        "/admin/users/export",
        data={"csrf_token": csrf_token(owner_client), "format": "csv", "reason": reason or ""},
        headers={"Origin": ORIGIN},
    )
    assert (audit.status_code, users.status_code, page.status_code) == (400, 400, 400)
    assert audit.get_json()["error"] in ("reason_required", "reason_too_long", "bad_request")
    assert exports(store) == []
    assert store.audit(event="personal_data_accessed") == []


def test_bad_filters_are_refused_before_anything_is_recorded(owner_client, store):
    for body in (
        {"event": "no_such_event"},
        {"since": "yesterday"},
        {"since": "2026-11-30", "until": "2026-11-01"},
        {"actor": "a" * 300},
        {"format": "xlsx"},
        {"surprise": 1},
        {"reason": 42},
        {"reason": ["a list"]},
    ):
        response = export_audit(owner_client, **{"reason": "r", "format": "csv", **body})
        assert response.status_code == 400, body
    assert exports(store) == []


def test_the_export_is_recorded_with_its_reason_before_the_first_byte(
    owner_client, services, store
):
    seed_trail(services, 2)

    response = export_audit(owner_client, reason="Monthly check, ticket 42", format="csv")

    # Nothing of the body is read yet: the entry is there already.
    [started] = exports(store)
    assert (started["outcome"], started["reason"], started["actor"]) == (
        "started",
        "Monthly check, ticket 42",
        OWNER,
    )
    assert (started["dataset"], started["format"], started["filters"]) == ("audit", "csv", {})
    assert "rows" not in started and started["ip"] == "127.0.0.1"
    assert response.headers["X-Export-Id"] == started["export_id"]
    rows = csv_rows(response.get_data())
    [_, ended] = exports(store)
    assert (ended["outcome"], ended["rows"], ended["export_id"]) == (
        "ok",
        len(rows),
        started["export_id"],
    )
    assert ended["reason"] == "Monthly check, ticket 42"
    # The started entry is the newest when the reading begins: it is in the file.
    assert rows[0]["event"] == EXPORTS and rows[0]["reason"] == "Monthly check, ticket 42"


def test_a_download_cut_short_is_recorded_as_failed_with_the_rows_sent(
    owner_client, services, store
):
    seed_trail(services, 5)
    services.exports = replace(services.exports, chunk=2)

    response = export_audit(owner_client, reason="cut", format="jsonl")
    stream = iter(response.response)
    next(stream)  # the head (empty for JSON Lines)
    next(stream)  # the first chunk
    response.close()  # the client went away

    [_, ended] = exports(store)
    assert (ended["outcome"], ended["rows"]) == ("failed", 2)


def test_the_filters_are_recorded(owner_client, store):
    export_audit(
        owner_client,
        reason="r",
        format="csv",
        event="sign_in",
        actor=" Seed1@Example.com ",
        since="2026-11-01",
    ).get_data()

    started, _ = exports(store)
    assert started["filters"] == {
        "event": "sign_in",
        "actor": "seed1@example.com",
        "since": "2026-11-01",
    }


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_viewers_and_admins_are_refused(signed_in_as, store, role):
    client = signed_in_as(f"{role}@example.com", role)

    refused = [
        export_audit(client, reason="r", format="csv").status_code,
        client.post(
            "/admin/api/users/export",
            headers=headers(client),
            json={"reason": "r", "format": "csv"},
        ).status_code,
        client.get("/admin/audit/export").status_code,
    ]

    assert refused == [403, 403, 403]
    assert exports(store) == []


def test_formula_injection_is_neutralised(owner_client, auth_emulator, services):
    sheet = auth_emulator.create_user("sheet@example.com")
    auth.update_user(sheet.uid, display_name='=HYPERLINK("http://x")', app=auth_emulator.app)
    services.audit.record("sign_in", actor="@evil", target="+1+1", reason="-2")

    users = csv_rows(
        owner_client.post(
            "/admin/api/users/export",
            headers=headers(owner_client),
            json={"reason": "r", "format": "csv"},
        ).get_data()
    )
    trail = csv_rows(export_audit(owner_client, reason="r", format="csv", actor="@evil").get_data())

    [sheet] = [row for row in users if row["email"] == "sheet@example.com"]
    assert sheet["name"] == '\'=HYPERLINK("http://x")'
    [entry] = trail
    assert (entry["actor"], entry["target"], entry["reason"]) == ("'@evil", "'+1+1", "'-2")
    # JSON Lines keeps the values as they are: no spreadsheet runs them.
    [as_json] = jsonl_rows(
        export_audit(owner_client, reason="r", format="jsonl", actor="@evil").get_data()
    )
    assert as_json["actor"] == "@evil"


def test_the_users_export_records_a_download_of_everyone_in_it(
    owner_client, auth_emulator, services, store
):
    made = {auth_emulator.create_user(f"user{n}@example.com").uid for n in range(4)}
    # Pages of 2 users: one access record each.
    services.exports = replace(services.exports, chunk=2)

    response = owner_client.post(
        "/admin/api/users/export",
        headers=headers(owner_client),
        json={"reason": "Migration to the new CRM", "format": "jsonl"},
    )
    rows = jsonl_rows(response.get_data())

    assert made <= {row["uid"] for row in rows}
    assert set(rows[0]) == {
        "uid", "email", "phone", "name", "disabled", "email_verified", "created_at",
        "last_sign_in_at",
    }  # fmt: skip
    started, ended = exports(store)
    assert (started["dataset"], started["reason"]) == ("users", "Migration to the new CRM")
    assert ended["rows"] == len(rows)
    downloads = store.audit(event="personal_data_accessed", task="download")
    assert len(downloads) == -(-len(rows) // 2)
    assert {d["export_id"] for d in downloads} == {started["export_id"]}
    assert sorted(uid for d in downloads for uid in d["subject_uids"]) == sorted(
        row["uid"] for row in rows
    )


def test_the_page_forms_download(owner_client, auth_emulator, services, store):
    auth_emulator.create_user("customer@example.com")
    seed_trail(services, 2)
    form = owner_client.get("/admin/audit/export?event=sign_in")
    assert form.status_code == 200 and 'id="audit-export"' in form.get_data(as_text=True)
    assert 'id="users-export"' in owner_client.get("/admin/users/").get_data(as_text=True)

    audit = owner_client.post(
        "/admin/audit/export",
        data={
            "csrf_token": csrf_token(owner_client),
            "actor": "seed1@example.com",
            "reason": "Inspection",
            "format": "csv",
            "bom": "y",
        },
        headers={"Origin": ORIGIN},
    ).get_data()  # read before the next request: the stream keeps its request open
    users = owner_client.post(
        "/admin/users/export",
        data={"csrf_token": csrf_token(owner_client), "reason": "Inspection", "format": "csv"},
        headers={"Origin": ORIGIN},
    ).get_data()

    assert audit.startswith(b"\xef\xbb\xbf")
    assert [row["actor"] for row in csv_rows(audit)] == ["seed1@example.com"]
    assert "customer@example.com" in {row["email"] for row in csv_rows(users)}
    assert [e["dataset"] for e in exports(store) if e["outcome"] == "started"] == [
        "audit",
        "users",
    ]


def test_a_page_form_without_its_csrf_token_is_refused(owner_client, store):
    response = owner_client.post(
        "/admin/audit/export", data={"reason": "r", "format": "csv"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 400
    assert exports(store) == []


def test_the_cli_exports_to_a_file_with_its_reason(app, services, store, tmp_path):
    seed_trail(services, 3)
    output = tmp_path / "trail.jsonl"

    result = app.test_cli_runner().invoke(
        args=["audit", "export", "--reason", "Backup", "--format", "jsonl", "-o", str(output)]
    )
    refused = app.test_cli_runner().invoke(args=["audit", "export", "--reason", " "])

    assert result.exit_code == 0, result.output
    assert len(jsonl_rows(output.read_bytes())) >= 3
    assert refused.exit_code != 0 and "reason" in refused.output
    started = [e for e in exports(store) if e["outcome"] == "started"]
    assert [(e["actor"].startswith("cli"), e["reason"]) for e in started] == [(True, "Backup")]
