"""Exports with a reason: the audit trail and the users list as CSV or JSON
Lines, streamed, each one recorded (PIPA safety-measure standard art. 8(2):
downloads of personal data are checked for their reason; docs/pipa.md).

The rules, written once for the pages, the API and the CLI:

* everything is validated before anything is read or written: the reason
  (required, at most :data:`MAX_REASON` characters), the format, the trail's
  filters and the date range (:func:`check_reason`, :func:`audit_filters`);
* the export is recorded before its first byte: a ``data_exported`` entry
  with ``outcome: "started"``, the ``reason``, the ``dataset``, the
  ``format``, the ``filters`` and an ``export_id``; when the stream ends a
  second ``data_exported`` entry with the same fields adds ``rows`` and the
  outcome (``ok``, or ``failed`` when the stream stopped early: the
  download was cut, or a read or record failed);
* the data is read a chunk at a time (:data:`~adminapp.firebase.audit.
  EXPORT_CHUNK` entries, or a page of :data:`~adminapp.domain.end_users.
  MAX_PAGE_SIZE` users) and each chunk is encoded and handed on before the
  next is read: memory stays bounded whatever the size of the data;
* each chunk of the users list is an access record with the task
  ``download`` naming that chunk's users (at most MAX_SUBJECTS each), written
  before the chunk leaves: a record that cannot be written stops the export;
* CSV cells that a spreadsheet would run as a formula (starting with
  ``= + - @``, a tab or a carriage return) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..domain.audit import EXPORT_EVENT, DataSubject, audit_target
from ..domain.end_users import MAX_PAGE_SIZE, EndUser
from ..errors import BackendUnavailable, InvalidInput
from ..firebase.audit import EXPORT_CHUNK, AuditTrail
from ..firebase.users import FirebaseUsers
from ..i18n_marks import N_
from .users import Actor

# A reason is a sentence or two, not a document.
MAX_REASON = 500
MAX_FILTER = 254
FORMATS = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
# Excel (Korean Windows included) reads a CSV as the system's code page
# unless it starts with a byte order mark; other tools may not want one.
BOM = "\ufeff"
# What a spreadsheet takes for the start of a formula (OWASP: CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")
AUDIT_COLUMNS = (
    "seq", "time", "event", "actor", "target", "target_uid", "outcome", "reason", "ip",
    "user_agent", "request_id", "task", "subject_count", "subject_uids", "query",
    "dataset", "format", "filters", "rows", "export_id",
)  # fmt: skip
USER_COLUMNS = (
    "uid", "email", "phone", "name", "disabled", "email_verified", "created_at",
    "last_sign_in_at",
)  # fmt: skip


@dataclass(frozen=True)
class AuditFilters:
    """The trail's filters and a date range (UTC days, both included)."""

    event: str | None = None
    actor: str | None = None
    target: str | None = None
    since: date | None = None
    until: date | None = None

    def recorded(self) -> dict:
        """As the export's entry keeps them: the ones given, dates as text."""
        values = {
            "event": self.event,
            "actor": self.actor,
            "target": self.target,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {name: value for name, value in values.items() if value is not None}


def check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            N_("Say why you are exporting this data: the reason is recorded."),
            code="reason_required",
        )
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            N_("The reason has at most %(max)s characters."),
            code="reason_too_long",
            params={"max": MAX_REASON},
        )
    return reason


def check_format(value: object) -> str:
    if value not in FORMATS:
        raise InvalidInput(N_("Choose CSV or JSON Lines."), code="bad_format")
    return value


def _day(name: str, value: object) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(N_("%(name)s must be a date such as 2026-11-30."), params={"name": name})


def audit_filters(
    events: Iterable[str],
    *,
    event: object = None,
    actor: object = None,
    target: object = None,
    since: object = None,
    until: object = None,
) -> AuditFilters:
    """The trail's filters as the page, the API and the CLI send them, checked."""
    if event in (None, ""):
        event = None
    elif event not in tuple(events):
        raise InvalidInput(N_("Choose an event from the list."), code="bad_event")
    texts = {}
    for name, value in (("actor", actor), ("target", target)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(N_("%(name)s is too long."), params={"name": name})
        if value and len(value.strip()) > MAX_FILTER:
            raise InvalidInput(N_("%(name)s is too long."), params={"name": name})
        texts[name] = value
    first, last = _day("since", since), _day("until", until)
    if first and last and first > last:
        raise InvalidInput(N_("The first day comes after the last."), code="bad_range")
    return AuditFilters(
        event=event,
        actor=(texts["actor"] or "").strip().lower() or None,
        target=audit_target(texts["target"]),
        since=first,
        until=last,
    )


def csv_safe(value: object) -> object:
    """A cell a spreadsheet shows as text, never runs."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _cell(value: object) -> object:
    """A value as one CSV cell (called per cell: the common cases first)."""
    if value is None:
        return None
    if isinstance(value, str):
        return "'" + value if value[:1] in FORMULA_STARTS else value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return csv_safe(" ".join(str(item) for item in value))
    if isinstance(value, dict):
        return csv_safe(json.dumps(value, sort_keys=True, ensure_ascii=False))
    return value


def _plain(value: object) -> object:
    """A value as JSON writes it (times as ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class Encoder:
    """Rows (dicts) to the bytes of one format, a chunk at a time."""

    def __init__(self, format: str, columns: tuple[str, ...], *, bom: bool = False):
        self.format = format
        self.columns = columns
        self.bom = bom and format == "csv"

    def head(self) -> bytes:
        if self.format != "csv":
            return b""
        return ((BOM if self.bom else "") + self._csv([self.columns])).encode()

    def rows(self, rows: list[dict]) -> bytes:
        if self.format == "csv":
            return self._csv(
                [_cell(row.get(name)) for name in self.columns] for row in rows
            ).encode()
        return "".join(
            json.dumps(
                {name: _plain(row.get(name)) for name in self.columns},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
            for row in rows
        ).encode()

    @staticmethod
    def _csv(rows: Iterable[Iterable[object]]) -> str:
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        return text.getvalue()


@dataclass(frozen=True)
class Export:
    export_id: str
    dataset: str
    format: str
    filename: str
    media_type: str
    # The file's bytes, a chunk at a time; recorded as it ends.
    chunks: Iterator[bytes]


def user_row(user: EndUser) -> dict:
    return {
        "uid": user.uid,
        "email": user.email,
        "phone": user.phone,
        "name": user.display_name,
        "disabled": user.disabled,
        "email_verified": user.email_verified,
        "created_at": user.created_at,
        "last_sign_in_at": user.last_sign_in_at,
    }


@dataclass(frozen=True, kw_only=True)
class Exports:
    audit: AuditTrail
    users: FirebaseUsers
    clock: Callable[[], datetime]
    # Entries (or users) read per query: what an export holds in memory.
    chunk: int = EXPORT_CHUNK

    def audit_trail(
        self, filters: AuditFilters, format: str, reason: str, actor: Actor, *, bom: bool = False
    ) -> Export:
        """Record the export, then return its stream: the entries the
        filters select, newest first."""
        chunks = self.audit.export_chunks(
            event=filters.event,
            actor=filters.actor,
            target=filters.target,
            since=f"{filters.since:%Y%m%d}" if filters.since else None,
            until=f"{filters.until + timedelta(days=1):%Y%m%d}" if filters.until else None,
            chunk=self.chunk,
        )
        return self._start(
            "audit", format, reason, filters.recorded(), actor, chunks, AUDIT_COLUMNS, bom
        )

    def users_list(self, format: str, reason: str, actor: Actor, *, bom: bool = False) -> Export:
        """Record the export, then return its stream: every user of the
        product, a page of Firebase's at a time, each page an access record."""
        return self._start(
            "users", format, reason, {}, actor, self._user_pages(), USER_COLUMNS, bom, actor
        )

    def _user_pages(self) -> Iterator[list[EndUser]]:
        token = None
        while True:
            page = self.users.list_users(token, min(self.chunk, MAX_PAGE_SIZE))
            if page.users:
                yield page.users
            if not page.next_token:
                return
            token = page.next_token

    def _start(
        self,
        dataset: str,
        format: str,
        reason: str,
        filters: dict,
        actor: Actor,
        chunks: Iterator[list],
        columns: tuple[str, ...],
        bom: bool,
        downloads_by: Actor | None = None,
    ) -> Export:
        reason, format = check_reason(reason), check_format(format)
        export = {
            "dataset": dataset,
            "format": format,
            "filters": filters,
            "export_id": secrets.token_hex(8),
        }
        self.audit.record(
            EXPORT_EVENT,
            actor=actor.name,
            outcome="started",
            reason=reason,
            client=actor.client,
            export=export,
        )
        encoder = Encoder(format, columns, bom=bom)
        stream = self._stream(encoder, chunks, reason, actor, export, downloads_by)
        return Export(
            export_id=export["export_id"],
            dataset=dataset,
            format=format,
            filename=f"{dataset}-{self.clock():%Y%m%dT%H%M%SZ}.{format}",
            media_type=MEDIA_TYPES[format],
            chunks=stream,
        )

    def _stream(
        self,
        encoder: Encoder,
        chunks: Iterator[list],
        reason: str,
        actor: Actor,
        export: dict,
        downloads_by: Actor | None,
    ) -> Iterator[bytes]:
        rows, finished = 0, False
        try:
            yield encoder.head()
            for chunk in chunks:
                if downloads_by is not None:
                    # Recorded before the chunk leaves; a failure stops the export.
                    self.audit.record_access(
                        "download",
                        actor=actor.name,
                        subjects=[DataSubject(uid=user.uid, email=user.email) for user in chunk],
                        client=actor.client,
                        export_id=export["export_id"],
                    )
                    chunk = [user_row(user) for user in chunk]
                # Counted as handed to the server: a client that goes away
                # during this chunk leaves it counted (rows sent, not received).
                rows += len(chunk)
                yield encoder.rows(chunk)
            finished = True
        finally:
            # A failed commit is in the security log (AuditedBatch), and the
            # started entry already names the export.
            with suppress(BackendUnavailable):
                self.audit.record(
                    EXPORT_EVENT,
                    actor=actor.name,
                    outcome="ok" if finished else "failed",
                    reason=reason,
                    client=actor.client,
                    export={**export, "rows": rows},
                )
