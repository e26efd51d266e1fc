"""The monthly review of access records (PIPA art. 8(2)): a month of the
trail summarised for owners on /admin/audit/review and by `flask audit
review`, each finding linked to its entries, and the owner's mark that the
month was reviewed, itself recorded. On the emulators; entries are written
by the app's own trail (its clock set to the moment an entry describes)
or, for the bulk lookup, by the real users console.

docs/pipa.md names these tests.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from adminapp.domain.audit import DataSubject
from adminapp.domain.roles import OWNER
from adminapp.firebase.audit import AUDIT
from adminapp.firebase.audit_months import id_at
from adminapp.services.exports import audit_filters
from adminapp.services.users import Actor
from adminapp.web.context import services
from adminapp.web.permissions import registry
from tests.integration.test_factor_reset_and_step_up import expire_step_up
from tests.support.settings import base_config
from tests.support.web import ORIGIN, post_form

SEOUL = ZoneInfo("Asia/Seoul")
REVIEWER = "reviewer@example.com"
SEOUL_ADMIN = "seoul.admin@example.com"
UTC_ADMIN = "utc.admin@example.com"
BULK = 3  # ACCESS_BULK_SUBJECTS here: a fourth person within the window is bulk
PAGE = "/admin/audit/review"


@pytest.fixture
def config() -> dict[str, str]:
    return base_config(
        ACCESS_BULK_SUBJECTS=str(BULK),
        ACCESS_BULK_MINUTES="10",
        WORKING_HOURS="09:00-18:00",
        WORKING_DAYS="mon-fri",
    )


@pytest.fixture
def reviewer(signed_in_as):
    """An owner who reviews in Seoul time."""
    return signed_in_as(REVIEWER, "owner", timezone="Asia/Seoul")


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def last_month() -> tuple[int, int]:
    """The month before this one, in Seoul: over, so it can be marked reviewed."""
    first = datetime.now(SEOUL).replace(day=1)
    before = first - timedelta(days=1)
    return before.year, before.month


def shift(year: int, month: int, by: int) -> tuple[int, int]:
    """The month ``by`` months after (or before) year-month."""
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def in_month(year: int, month: int, weekday: int, hour: int, minute: int = 0) -> datetime:
    """The first ``weekday`` (Monday 0) of the month at hour:minute, Seoul time."""
    day = next(d for d in range(1, 8) if datetime(year, month, d).weekday() == weekday)
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


def at(app, monkeypatch, moment: datetime, write) -> None:
    """Write entries through the app's own trail, as if at ``moment``."""
    with app.app_context():
        audit = services().audit
        monkeypatch.setattr(audit, "_clock", lambda: moment.astimezone(UTC))
        write(audit)
        monkeypatch.undo()


def look(audit, actor: str, *uids: str, task: str = "view") -> None:
    audit.record_access(task, actor=actor, subjects=[DataSubject(uid) for uid in uids])


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def row(response, table: str, **data: str) -> str:
    """The <tr> of table ``table`` whose data-* attributes are ``data``."""
    html = response.get_data(as_text=True)
    body = html[html.index(f'id="{table}"') :]
    body = body[: body.index("</table>")]
    for found in re.findall(r"<tr [^>]*>.*?</tr>", body, re.S):
        if all(f'data-{name}="{value}"' in found for name, value in data.items()):
            return found
    raise AssertionError(f"no row {data} in {table}")


def query_of(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def rows(response, table: str) -> list[str]:
    html = response.get_data(as_text=True)
    body = html[html.index(f'id="{table}"') :]
    return re.findall(r"<tr data-[^>]*>.*?</tr>", body[: body.index("</table>")], re.S)


# -- bulk lookups ---------------------------------------------------------------


@pytest.fixture
def bulk_lookup(app, signed_in_as, auth_emulator):
    """Through the real users console: one admin opens five people's pages
    in a few seconds (more than BULK), another opens two."""
    customers = [auth_emulator.create_user(f"customer{n}@example.com").uid for n in range(5)]
    browser = signed_in_as("browser@example.com", "viewer")
    for uid in customers:
        assert browser.get(f"/admin/users/{uid}").status_code == 200
    careful = signed_in_as("careful@example.com", "viewer")
    for uid in customers[:2]:
        assert careful.get(f"/admin/users/{uid}").status_code == 200
    now = datetime.now(SEOUL)
    return label(now.year, now.month), customers


def test_a_bulk_lookup_shows_on_the_review_page(reviewer, bulk_lookup, store):
    month, _customers = bulk_lookup
    looks = sorted(store.audit(actor="browser@example.com", event="personal_data_accessed"),
                   key=lambda entry: entry["seq"])  # fmt: skip

    response = reviewer.get(PAGE, query_string={"month": month})

    assert response.status_code == 200
    found = row(response, "review-bulk", actor="browser@example.com")
    # All five looks are behind the finding, by id: from the first in the window.
    assert re.search(r'data-entries="([^"]*)"', found).group(1).split() == [
        entry["seq"] for entry in looks
    ]
    assert 'data-subjects="5"' in found
    # The finding links to the trail's entries of that admin.
    link = unescape(re.search(r'href="([^"]+)"', found).group(1))
    assert query_of(link) == {
        "actor": "browser@example.com",
        "event": "personal_data_accessed",
        "before": query_of(link)["before"],
    }
    trail = reviewer.get(link)
    assert trail.status_code == 200
    assert trail.get_data(as_text=True).count('data-event="personal_data_accessed"') == 5
    # Two people in the window is not bulk; the per-admin table counts both.
    assert [r for r in rows(response, "review-bulk") if "careful@example.com" in r] == []
    assert 'class="subjects">2<' in row(response, "review-admins", actor="careful@example.com")
    assert 'class="subjects">5<' in row(response, "review-admins", actor="browser@example.com")
    assert "Bulk lookups" in page_text(response)


def test_a_bulk_lookup_shows_in_the_command(app, cli, bulk_lookup, store):
    month, _customers = bulk_lookup
    looks = store.audit(actor="browser@example.com", event="personal_data_accessed")
    first = min(looks, key=lambda entry: entry["seq"])

    result = cli.invoke(args=["audit", "review", "--month", month, "--timezone", "Asia/Seoul"])

    assert result.exit_code == 0, result.output
    assert "Bulk lookups: 1" in result.output
    assert re.search(r"browser@example\.com .* 5 data subjects .* in 5 records", result.output)
    assert first["seq"] in result.output
    assert not re.search(r"careful@example\.com .* data subjects \(at most", result.output)

    as_json = json.loads(cli.invoke(args=["audit", "review", "--month", month, "--json"]).output)
    [lookup] = as_json["bulk_lookups"]["items"]
    assert (lookup["actor"], lookup["subjects"], lookup["records"]) == (
        "browser@example.com",
        5,
        5,
    )


def test_looks_spread_beyond_the_window_are_not_a_bulk_lookup(app, monkeypatch, reviewer):
    year, month = last_month()
    start = in_month(year, month, 1, 10)
    for n in range(8):  # 8 people, one every 11 minutes: never 4 within 10 minutes
        at(app, monkeypatch, start + timedelta(minutes=11 * n),
           lambda audit, n=n: look(audit, UTC_ADMIN, f"person-{n}"))  # fmt: skip

    response = reviewer.get(PAGE, query_string={"month": label(year, month)})

    assert response.status_code == 200
    assert rows(response, "review-bulk") == []
    assert 'class="subjects">8<' in row(response, "review-admins", actor=UTC_ADMIN)


# -- working hours, in each admin's time zone ---------------------------------------


@pytest.fixture
def seoul_month(app, monkeypatch, store):
    """Last month: a Seoul admin's looks on a Wednesday at 10:30 (in hours),
    23:10 (after hours) and on a Saturday at 11:00 (weekend), Seoul time;
    an admin in the default zone (UTC) at 01:30 UTC on a Wednesday."""
    store.add_admin(SEOUL_ADMIN, "viewer", timezone="Asia/Seoul")
    store.add_admin(UTC_ADMIN, "viewer")
    year, month = last_month()
    moments = {
        "in_hours": in_month(year, month, 2, 10, 30),
        "late": in_month(year, month, 2, 23, 10),
        "weekend": in_month(year, month, 5, 11, 0),
    }
    for name, moment in moments.items():
        at(app, monkeypatch, moment, lambda audit, name=name: look(audit, SEOUL_ADMIN, name))
    utc_night = datetime(year, month, in_month(year, month, 2, 12).day, 1, 30, tzinfo=UTC)
    at(app, monkeypatch, utc_night, lambda audit: look(audit, UTC_ADMIN, "night"))
    seqs = {
        entry["subject_uids"][0]: entry["seq"]
        for entry in store.audit(event="personal_data_accessed")
    }
    return label(year, month), seqs


def test_access_outside_working_hours_is_flagged_in_the_admins_time_zone(reviewer, seoul_month):
    month, seqs = seoul_month

    response = reviewer.get(PAGE, query_string={"month": month})

    assert response.status_code == 200
    seoul = row(response, "review-admins", actor=SEOUL_ADMIN)
    assert 'data-count="2"' in seoul and "Asia/Seoul" in seoul
    # The hours are the admin's own: 10h, 23h and 11h in Seoul.
    assert re.findall(r'data-hour="(\d+)"', seoul) == ["10", "11", "23"]
    flagged = {
        re.search(r'data-entry="([^"]+)"', r).group(1)
        for r in rows(response, "review-out-of-hours")
        if SEOUL_ADMIN in r
    }
    assert flagged == {seqs["late"], seqs["weekend"]}
    # 10:30 in Seoul is 01:30 UTC: in hours for them, and not flagged.
    assert seqs["in_hours"] not in response.get_data(as_text=True).split("review-out-of-hours")[1]
    # The admin without a zone of their own follows DEFAULT_TIMEZONE (UTC).
    utc = row(response, "review-admins", actor=UTC_ADMIN)
    assert 'data-count="1"' in utc and re.findall(r'data-hour="(\d+)"', utc) == ["1"]
    late = row(response, "review-out-of-hours", entry=seqs["late"])
    # Shown in the admin's own time: 23:10 Seoul time, whatever the reader's zone.
    assert "11:10" in late and "KST" in late


@pytest.mark.parametrize(
    ("locale", "spelled"),
    [("en", "09:00-18:00 (Mon, Tue, Wed, Thu, Fri)"), ("ko", "09:00-18:00 (월, 화, 수, 목, 금)")],
)
def test_the_working_days_are_named_in_the_readers_language(signed_in_as, locale, spelled):
    reader = signed_in_as(REVIEWER, "owner", locale=locale)

    page = reader.get(PAGE).get_data(as_text=True)

    basis = unescape(re.search(r'<p[^>]*id="review-basis"[^>]*>(.*?)</p>', page, re.S).group(1))
    assert spelled in basis
    assert "mon," not in basis  # the setting's own spelling (WORKING_DAYS) stays out


def test_out_of_hours_in_the_command(cli, seoul_month):
    month, seqs = seoul_month

    result = cli.invoke(args=["audit", "review", "--month", month, "--timezone", "Asia/Seoul"])

    assert result.exit_code == 0, result.output
    flagged = re.findall(r"outside working hours: \w+ \S+ \S+ KST  (\S+)", result.output)
    assert set(flagged) == {seqs["late"], seqs["weekend"]}
    assert seqs["in_hours"] not in flagged


# -- exports, failed sign-ins, access rights ------------------------------------------


def stored_export(store, moment: datetime, actor: str, **fields) -> str:
    """An entry of ``data_exported`` as the export stores it (reason,
    dataset, format, rows)."""
    when = moment.astimezone(UTC)
    seq = f"{id_at(when)}-0000abcd"
    store.client.collection(AUDIT).document(seq).set(
        {"seq": seq, "time": when, "event": "data_exported", "actor": actor, "outcome": "ok",
         "subjects": [], **fields}
    )  # fmt: skip
    return seq


def test_exports_are_listed_with_their_reasons(app, monkeypatch, reviewer, store):
    year, month = last_month()
    with_reason = stored_export(
        store, in_month(year, month, 1, 14), UTC_ADMIN,
        reason="Data subject request #42", dataset="users", format="csv", rows=120,
    )  # fmt: skip
    without = stored_export(store, in_month(year, month, 3, 15), UTC_ADMIN, dataset="audit")
    # Next month's export is not this month's.
    stored_export(store, in_month(*shift(year, month, 1), 1, 9), UTC_ADMIN, reason="x")
    at(app, monkeypatch, in_month(year, month, 1, 11),
       lambda audit: look(audit, UTC_ADMIN, "someone"))  # fmt: skip

    response = reviewer.get(PAGE, query_string={"month": label(year, month)})

    listed = rows(response, "review-exports")
    assert [re.search(r'data-entry="([^"]+)"', r).group(1) for r in listed] == [
        with_reason,
        without,
    ]
    first = page_text(response).split("Exports and their reasons")[1]
    assert "Data subject request #42" in first and "users (csv)" in first and "120" in first
    assert "No reason given" in row(response, "review-exports", entry=without)
    assert "No reason given" not in row(response, "review-exports", entry=with_reason)


def test_a_real_export_is_listed_once_with_the_rows_it_sent(app, monkeypatch, reviewer):
    # services/exports.py writes two entries per export, when it starts and
    # when it ends: the review lists the export once, with the rows sent.
    year, month = last_month()

    def export(audit):
        look(audit, UTC_ADMIN, "someone")
        look(audit, UTC_ADMIN, "someone-else")
        owner = Actor(name=UTC_ADMIN, role=OWNER, permissions=registry().of_role(OWNER))
        filters = audit_filters(audit.events, event="personal_data_accessed")
        download = services().exports.audit_trail(filters, "csv", "Auditor's sample", owner)
        b"".join(download.chunks)

    at(app, monkeypatch, in_month(year, month, 2, 10), export)

    response = reviewer.get(PAGE, query_string={"month": label(year, month)})

    listed_rows = rows(response, "review-exports")
    assert len(listed_rows) == 1, listed_rows
    [listed] = listed_rows
    text = unescape(re.sub(r"<[^>]+>", " ", listed))
    assert "Auditor's sample" in text and "audit (csv)" in text
    assert re.search(r"\b2\b", text), text  # the two access records it sent


def test_failed_sign_ins_and_locks_are_listed(app, monkeypatch, reviewer, store, auth_emulator):
    year, month = last_month()
    moment = in_month(year, month, 1, 9, 15)

    def trouble(audit):
        audit.record("sign_in", actor="mallory@example.com", outcome="refused",
                     reason="not_an_admin")  # fmt: skip
        audit.record("second_factor_failed", actor=UTC_ADMIN, outcome="refused",
                     reason="too_many_attempts")  # fmt: skip
        audit.record("second_factor_locked", actor=UTC_ADMIN, target=UTC_ADMIN,
                     outcome="refused", reason="10 wrong codes")  # fmt: skip
        audit.record("sign_in", actor=UTC_ADMIN)  # a sign-in that worked
        audit.record("sign_out", actor=UTC_ADMIN)

    at(app, monkeypatch, moment, trouble)

    response = reviewer.get(PAGE, query_string={"month": label(year, month)})

    listed = [
        re.search(r'data-event="([^"]+)"', r).group(1)
        for r in rows(response, "review-sign-in-failures")
    ]
    assert sorted(listed) == ["second_factor_failed", "second_factor_locked", "sign_in"]
    refused = row(response, "review-sign-in-failures", event="sign_in")
    assert "mallory@example.com" in refused and "not_an_admin" in refused
    assert UTC_ADMIN not in refused


def test_role_and_factor_changes_are_listed(app, monkeypatch, reviewer, store, auth_emulator):
    store.add_admin("promoted@example.com", "viewer")
    store.add_admin("reset@example.com", "admin")
    year, month = last_month()

    def changes(audit):
        management = services().management
        management.change_role(
            "promoted@example.com",
            "admin",
            actor=REVIEWER,
            client=None,
            holds=services().permissions.of_role("owner"),
        )
        management.reset_factors_by_operator("reset@example.com", operator=REVIEWER)
        look(audit, REVIEWER, "not-a-change", task="edit")

    at(app, monkeypatch, in_month(year, month, 4, 16), changes)

    response = reviewer.get(PAGE, query_string={"month": label(year, month)})

    listed = rows(response, "review-access-rights")
    events = sorted(re.search(r'data-event="([^"]+)"', r).group(1) for r in listed)
    assert events == ["admin_role_changed", "second_factors_reset"]
    assert "promoted@example.com" in row(response, "review-access-rights",
                                         event="admin_role_changed")  # fmt: skip
    # Each finding opens the trail at its entry, filtered to its event and admin.
    link = unescape(re.search(r'href="([^"]+)"', listed[0]).group(1))
    assert query_of(link)["actor"] == REVIEWER and "before" in query_of(link)
    trail = reviewer.get(link)
    assert trail.status_code == 200 and 'data-event="' in trail.get_data(as_text=True)


# -- marking a month reviewed ----------------------------------------------------------


def reviews(store) -> list[dict]:
    return sorted(store.audit(event="access_review_completed"), key=lambda e: e["seq"])


def test_marking_a_month_reviewed_is_recorded_and_shown(reviewer, store):
    month = label(*last_month())

    response = post_form(reviewer, PAGE, {"month": month, "note": "Checked; nothing odd."})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{PAGE}?month={month}")
    [entry] = reviews(store)
    assert (entry["actor"], entry["target"], entry["reason"]) == (
        REVIEWER,
        month,
        "Checked; nothing odd.",
    )
    assert entry["ip"] == "127.0.0.1" and entry["outcome"] == "ok"
    page = reviewer.get(PAGE, query_string={"month": month})
    assert f'data-reviewer="{REVIEWER}"' in page.get_data(as_text=True)
    assert "Checked; nothing odd." in page_text(page)
    # Another month is not reviewed by it.
    earlier = label(*shift(*last_month(), -1))
    assert 'id="not-reviewed"' in reviewer.get(PAGE, query_string={"month": earlier}).get_data(
        as_text=True
    )


def test_reviewing_twice_records_both_and_shows_the_latest(reviewer, store):
    month = label(*last_month())
    post_form(reviewer, PAGE, {"month": month, "note": "First look."})
    post_form(reviewer, PAGE, {"month": month, "note": "Second look after the bulk lookup."})

    assert [entry["reason"] for entry in reviews(store)] == [
        "First look.",
        "Second look after the bulk lookup.",
    ]
    text = page_text(reviewer.get(PAGE, query_string={"month": month}))
    latest = text.index("Second look after the bulk lookup.")
    assert latest < text.index("First look.")
    assert "Earlier reviews of this month: 1" in text


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_only_owners_may_review(signed_in_as, store, role):
    client = signed_in_as(f"{role}@example.com", role)
    month = label(*last_month())

    assert client.get(PAGE, query_string={"month": month}).status_code == 403
    response = post_form(client, PAGE, {"month": month, "note": "I reviewed it."})

    assert response.status_code == 403
    assert reviews(store) == []


def test_signed_out_requests_are_refused(app, clean, store):
    client = app.test_client()
    month = label(*last_month())

    page = client.get(PAGE, query_string={"month": month})
    assert page.status_code == 302 and page.headers["Location"].startswith("/admin/login")
    response = client.post(PAGE, data={"month": month, "note": "x"}, headers={"Origin": ORIGIN})

    assert response.status_code in (400, 401)
    assert reviews(store) == []


@pytest.mark.parametrize(
    "month", ["2026-13", "2026-1", "nov", "1999-12", "2026-11-01", "", "9999-01"]
)
def test_a_bad_or_future_month_is_a_clear_400(reviewer, cli, month):
    response = reviewer.get(PAGE, query_string={"month": month})

    assert response.status_code == 400
    assert "YYYY-MM" in page_text(response) or "has not begun" in page_text(response)
    result = cli.invoke(args=["audit", "review", "--month", month])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_next_month_is_refused_and_this_month_is_shown_in_progress(reviewer):
    now = datetime.now(SEOUL)
    following = label(*shift(now.year, now.month, 1))

    assert reviewer.get(PAGE, query_string={"month": following}).status_code == 400
    current = reviewer.get(PAGE, query_string={"month": label(now.year, now.month)})
    assert current.status_code == 200
    html = current.get_data(as_text=True)
    assert 'id="review-in-progress"' in html and 'id="mark-reviewed"' not in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"note": ""}, "Write a note"),
        ({"note": "   "}, "Write a note"),
        ({"note": "x" * 1001}, "Write a note"),
        ({"note": "bell\x07"}, "Write a note"),
        ({"month": "2026-13", "note": "fine"}, "YYYY-MM"),
        ({"month": "current", "note": "fine"}, "is not over yet"),
    ],
)
def test_a_bad_note_or_month_writes_nothing(reviewer, store, fields, message):
    now = datetime.now(SEOUL)
    month = {"current": label(now.year, now.month)}.get(fields.get("month"), fields.get("month"))
    data = {"month": month or label(*last_month()), "note": fields["note"]}

    response = post_form(reviewer, PAGE, data)

    assert response.status_code == 400
    assert message in page_text(response)
    assert reviews(store) == []


def test_marking_without_the_csrf_token_is_refused(reviewer, store):
    response = reviewer.post(
        PAGE, data={"month": label(*last_month()), "note": "ok"}, headers={"Origin": ORIGIN}
    )

    assert response.status_code == 400
    assert reviews(store) == []


def test_marking_needs_a_fresh_second_factor(reviewer, store):
    expire_step_up(store, REVIEWER)

    prompt = post_form(reviewer, PAGE, {"month": label(*last_month()), "note": "Checked."})

    assert prompt.status_code == 401
    assert "Confirm it is you" in prompt.get_data(as_text=True)
    assert reviews(store) == []
