"""The monthly review of access records (PIPA safety-measure standard art.
8(2)): one calendar month of the audit trail, summarised for an inspector.

- per admin: how many data subjects they handled, and at what hours (in
  the admin's own time zone);
- access outside working hours (WORKING_HOURS, WORKING_DAYS), in the
  admin's own time zone;
- bulk lookups: more than ACCESS_BULK_SUBJECTS different data subjects
  within ACCESS_BULK_MINUTES;
- exports (``data_exported``) and their reasons;
- failed sign-ins and locks after wrong codes;
- changes to access rights (ACCESS_RIGHT_EVENTS: roles, factors, locks).

Each finding carries the ids of the entries behind it. The month is read
once, in time order, a page at a time (firebase/audit_months.py); what is
kept grows with the number of admins and of different data subjects, not
with the number of entries, and each list of findings keeps its first
SHOWN items and counts the rest.

An owner marks a month reviewed with a note: an ``access_review_completed``
entry whose target is the month. Marking it again is allowed and recorded
again (a second look after a finding is a review too); the page shows the
newest first.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..client import Client
from ..config import Settings
from ..domain.audit import ACCESS_RIGHT_EVENTS
from ..domain.working_hours import WorkingHours
from ..errors import InvalidInput
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.audit_months import TrailMonths, id_just_after
from ..i18n_marks import N_
from ..timezones import valid_zone

REVIEW_EVENT = "access_review_completed"
EXPORT_EVENT = "data_exported"
# A failed sign-in or a lock: sign_in with one of these outcomes, or these events.
FAILED_SIGN_IN_OUTCOMES = frozenset({"failed", "refused"})
SIGN_IN_TROUBLE_EVENTS = frozenset({"second_factor_failed", "second_factor_locked"})
# Each list of findings shows this many items and counts the rest.
SHOWN = 200
# Entries behind one admin's out-of-hours or one bulk lookup, by id.
ENTRY_IDS_SHOWN = 50
MAX_NOTE = 1000
# A month the trail could hold: the app did not exist before 2000, and far
# years would overflow a time zone's conversion.
FIRST_YEAR = 2000
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
# Control characters other than tab and line breaks have no place in a note.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

BAD_MONTH = N_("Give the month as YYYY-MM, for example 2026-11, from 2000 on.")
FUTURE_MONTH = N_("%(month)s has not begun yet: choose this month or an earlier one.")
MONTH_NOT_OVER = N_("%(month)s is not over yet: mark it reviewed once it has ended.")
BAD_NOTE = N_("Write a note of 1 to %(max)d characters: what you checked and what you found.")


@dataclass(frozen=True)
class Month:
    """A calendar month in a time zone: the reviewer's."""

    year: int
    month: int
    zone: str

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=ZoneInfo(self.zone))

    @property
    def end(self) -> datetime:
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(year, month, 1, tzinfo=ZoneInfo(self.zone))

    def over(self, now: datetime) -> bool:
        return self.end <= now

    def previous(self) -> Month:
        year, month = (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)
        return Month(year, month, self.zone)


@dataclass(frozen=True)
class EntryRef:
    """One entry behind a finding: its id (the trail's paging cursor) and
    enough to recognise it."""

    seq: str
    time: datetime | None
    event: str
    actor: str | None


@dataclass
class Listing:
    """The first SHOWN findings of a kind, and how many there were."""

    items: list = field(default_factory=list)
    total: int = 0

    def add(self, item) -> None:
        self.total += 1
        if len(self.items) < SHOWN:
            self.items.append(item)


@dataclass
class AdminActivity:
    """What one admin did with personal data in the month."""

    actor: str
    # The zone their hours are counted in: their own, else the default.
    zone: str
    records: int = 0
    subjects: int = 0
    # Entries per hour of the day (0-23) in ``zone``.
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    out_of_hours: int = 0
    # The first ENTRY_IDS_SHOWN of them.
    out_of_hours_entries: list[EntryRef] = field(default_factory=list)


@dataclass
class BulkLookup:
    """A stretch in which an admin handled more than ACCESS_BULK_SUBJECTS
    different data subjects within ACCESS_BULK_MINUTES (overlapping windows
    merged into one)."""

    actor: str
    start: datetime
    end: datetime
    # Different data subjects across the stretch, and the most in one window.
    subjects: int
    peak: int
    records: int
    # The first ENTRY_IDS_SHOWN entries, oldest first; the last entry's id.
    entries: list[EntryRef]
    last_seq: str


@dataclass
class Export:
    """One export: its first entry (services/exports.py writes one when it
    starts and one when it ends, with the rows sent and the outcome)."""

    entry: EntryRef
    reason: str | None
    dataset: str | None
    format: str | None
    rows: int | None
    outcome: str | None = None


@dataclass(frozen=True)
class Incident:
    """A failed sign-in, a lock, or a change to access rights."""

    entry: EntryRef
    target: str | None
    outcome: str
    reason: str | None
    ip: str | None


@dataclass(frozen=True)
class Review:
    """An owner marked the month reviewed."""

    entry: EntryRef
    note: str


@dataclass
class MonthlyReview:
    month: Month
    over: bool
    working_hours: WorkingHours
    bulk_subjects: int
    bulk_window: timedelta
    entries_read: int
    admins: list[AdminActivity]
    bulk_lookups: Listing
    exports: Listing
    sign_in_failures: Listing
    access_right_changes: Listing
    # Newest first.
    reviews: list[Review]

    @property
    def out_of_hours(self) -> int:
        return sum(admin.out_of_hours for admin in self.admins)


def _ref(entry: dict) -> EntryRef:
    when = entry.get("time")
    if not isinstance(when, datetime):
        when = None  # not an entry the app wrote: skipped, never a 500
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return EntryRef(
        seq=entry.get("seq") or "", time=when, event=entry.get("event"), actor=entry.get("actor")
    )


def _rows(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _BulkWatch:
    """One admin's sliding window over their access records."""

    def __init__(self, actor: str, limit: int, window: timedelta, found: Listing):
        self._actor, self._limit, self._window, self._found = actor, limit, window, found
        self._recent: deque[tuple[EntryRef, tuple[str, ...]]] = deque()
        self._counts: Counter[str] = Counter()
        self._open: BulkLookup | None = None
        self._open_subjects: set[str] = set()

    def see(self, ref: EntryRef, uids: tuple[str, ...]) -> None:
        self._recent.append((ref, uids))
        self._counts.update(uids)
        while self._recent and self._recent[0][0].time <= ref.time - self._window:
            _old, gone = self._recent.popleft()
            self._counts.subtract(gone)
            for uid in gone:
                if self._counts[uid] <= 0:
                    del self._counts[uid]
        distinct = len(self._counts)
        if distinct <= self._limit:
            self.close()
            return
        if self._open is None:
            first = self._recent[0][0]
            self._open = BulkLookup(
                actor=self._actor,
                start=first.time,
                end=ref.time,
                subjects=0,
                peak=distinct,
                records=0,
                entries=[],
                last_seq=ref.seq,
            )
            for earlier, subjects in self._recent:
                self._extend(earlier, subjects)
        else:
            self._extend(ref, uids)
        self._open.peak = max(self._open.peak, distinct)

    def _extend(self, ref: EntryRef, uids: tuple[str, ...]) -> None:
        lookup = self._open
        lookup.end, lookup.last_seq = ref.time, ref.seq
        lookup.records += 1
        if len(lookup.entries) < ENTRY_IDS_SHOWN:
            lookup.entries.append(ref)
        self._open_subjects.update(uids)
        lookup.subjects = len(self._open_subjects)

    def close(self) -> None:
        if self._open is not None:
            self._found.add(self._open)
            self._open, self._open_subjects = None, set()


class AccessReview:
    def __init__(
        self,
        *,
        months: TrailMonths,
        directory: AdminDirectory,
        audit: AuditTrail,
        settings: Settings,
        clock: Callable[[], datetime],
    ):
        self._months = months
        self._directory = directory
        self._audit = audit
        self._settings = settings
        self._clock = clock

    # -- which month --

    def month(self, text: str | None, zone: str) -> Month:
        """The month ``text`` (``YYYY-MM``) in ``zone``; without one, the
        last month that is over. A malformed or future month is refused (400)."""
        zone = valid_zone(zone) or self._settings.default_timezone
        now = self._clock()
        if text is None:
            local = now.astimezone(ZoneInfo(zone))
            return Month(local.year, local.month, zone).previous()
        match = _MONTH.match(text)
        if match is None or int(match.group(1)) < FIRST_YEAR:
            raise InvalidInput(BAD_MONTH, code="bad_month")
        month = Month(int(match.group(1)), int(match.group(2)), zone)
        if month.start > now:
            raise InvalidInput(FUTURE_MONTH, code="bad_month", params={"month": month.label})
        return month

    # -- the summary --

    def summarise(self, month: Month) -> MonthlyReview:
        settings = self._settings
        hours = WorkingHours(*settings.working_hours, days=settings.working_days)
        zones = {admin.email: admin.timezone for admin in self._directory.list()}
        activity: dict[str, AdminActivity] = {}
        subjects: dict[str, set[str]] = {}
        watches: dict[str, _BulkWatch] = {}
        bulk, exports, failures, rights = Listing(), Listing(), Listing(), Listing()
        exports_seen: dict[str, Export] = {}  # export_id -> its one finding
        read = 0
        for entry in self._months.between(month.start, month.end):
            read += 1
            ref = _ref(entry)
            if ref.time is None:
                continue
            event, actor = ref.event, ref.actor
            if entry.get("task") and actor:
                admin = activity.get(actor)
                if admin is None:
                    zone = valid_zone(zones.get(actor)) or settings.default_timezone
                    admin = activity[actor] = AdminActivity(actor=actor, zone=zone)
                    subjects[actor] = set()
                    watches[actor] = _BulkWatch(
                        actor, settings.access_bulk_subjects, settings.access_bulk_window, bulk
                    )
                uids = tuple(
                    dict.fromkeys(u for u in entry.get("subject_uids") or () if isinstance(u, str))
                )
                local = ref.time.astimezone(ZoneInfo(admin.zone))
                admin.records += 1
                admin.hours[local.hour] += 1
                subjects[actor].update(uids)
                if not hours.within(local):
                    admin.out_of_hours += 1
                    if len(admin.out_of_hours_entries) < ENTRY_IDS_SHOWN:
                        admin.out_of_hours_entries.append(ref)
                watches[actor].see(ref, uids)
            if event == EXPORT_EVENT:
                self._count_export(exports, exports_seen, ref, entry)
            if self._sign_in_trouble(entry):
                failures.add(self._incident(ref, entry))
            if event in ACCESS_RIGHT_EVENTS:
                rights.add(self._incident(ref, entry))
        for watch in watches.values():
            watch.close()
        for actor, admin in activity.items():
            admin.subjects = len(subjects[actor])
        return MonthlyReview(
            month=month,
            over=month.over(self._clock()),
            working_hours=hours,
            bulk_subjects=settings.access_bulk_subjects,
            bulk_window=settings.access_bulk_window,
            entries_read=read,
            admins=sorted(activity.values(), key=lambda admin: (-admin.subjects, admin.actor)),
            bulk_lookups=bulk,
            exports=exports,
            sign_in_failures=failures,
            access_right_changes=rights,
            reviews=self.reviews(month),
        )

    @staticmethod
    def _count_export(
        exports: Listing, seen: dict[str, Export], ref: EntryRef, entry: dict
    ) -> None:
        """An export is listed once: services/exports.py writes an entry when
        it starts and one when it ends (the same ``export_id``, the rows sent
        and the outcome), and the two are one finding, linked to the first.
        Entries written in the same microsecond may come in either order. A
        closing entry whose start fell in the month before is listed alone."""
        export_id = entry.get("export_id")
        known = seen.get(export_id) if export_id else None
        if known is not None:
            if entry.get("outcome") == "started":
                known.entry = ref
            else:
                known.rows = _rows(entry.get("rows"))
                known.outcome = entry.get("outcome")
            return
        export = Export(
            entry=ref,
            reason=entry.get("reason"),
            dataset=entry.get("dataset"),
            format=entry.get("format"),
            rows=_rows(entry.get("rows")),
            outcome=entry.get("outcome"),
        )
        exports.add(export)
        if export_id:
            seen[export_id] = export

    @staticmethod
    def _sign_in_trouble(entry: dict) -> bool:
        event = entry.get("event")
        if event == "sign_in":
            return entry.get("outcome") in FAILED_SIGN_IN_OUTCOMES
        return event in SIGN_IN_TROUBLE_EVENTS

    @staticmethod
    def _incident(ref: EntryRef, entry: dict) -> Incident:
        return Incident(
            entry=ref,
            target=entry.get("target"),
            outcome=entry.get("outcome") or "ok",
            reason=entry.get("reason"),
            ip=entry.get("ip"),
        )

    # -- marking it reviewed --

    def reviews(self, month: Month) -> list[Review]:
        """Who marked ``month`` reviewed, when and with what note; newest first."""
        return [
            Review(entry=_ref(entry), note=entry.get("reason") or "")
            for entry in self._months.entries_about(REVIEW_EVENT, month.label)
        ]

    def mark_reviewed(self, month: Month, note: str, *, actor: str, client: Client | None) -> None:
        """Record that ``actor`` reviewed ``month``, with ``note``: one
        audit entry, written only once the month is over and the note valid."""
        note = clean_note(note)
        if not month.over(self._clock()):
            raise InvalidInput(MONTH_NOT_OVER, code="month_not_over", params={"month": month.label})
        self._audit.record(
            REVIEW_EVENT, actor=actor, target=month.label, reason=note, client=client
        )


def clean_note(note: str | None) -> str:
    """A reviewer's note, trimmed; refused (400) when empty, too long or
    holding control characters."""
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE or _CONTROL.search(note):
        raise InvalidInput(BAD_NOTE, code="bad_note", params={"max": MAX_NOTE})
    return note


def trail_cursor_at(seq: str) -> str:
    """The trail page's ``before=`` cursor that starts the page at the entry
    ``seq``: how a finding links to the entries behind it."""
    return id_just_after(seq)
