"""The audit trail: security events in Firestore and in the log.

Every event becomes one structured (JSON) log line on the
``adminapp.security`` logger, written once the change it records is saved:
an event staged in a batch is logged when the batch commits, so the log never
says "sign_in ok" for a sign-in whose write failed. Events about a known
person are also written to the ``admin_audit`` collection. Anonymous noise (a
forged cookie, a request without a session) is logged only: writing it to
Firestore would let anyone on the internet make us pay for writes and drown
the trail.

Callers pass only facts that are safe to keep: never a token, cookie,
password, reset code or session id.

Access records (접속기록, PIPA's safety-measure standard, art. 2 and 8) live in
the same trail: every look at personal data is an entry of the event
``personal_data_accessed`` naming the data subjects and the task
(:data:`TASKS`), and every change to an end user carries its task too. One
collection means one place to filter, retain (``expire_at``) and chain
(docs/pipa.md).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from google.cloud import firestore
from google.cloud.firestore import FieldFilter, WriteBatch

from ..client import Client
from .audit_chain import AuditChain, Verification, verify
from .backend import FirebaseBackend
from .expiry import count_expiry

AUDIT = "admin_audit"
# Granting, changing and revoking an admin's access: the core of the access
# rights the standard keeps 3 years (ACCESS_RIGHT_EVENTS below).
ADMIN_CHANGES = (
    "admin_invited",
    # An invitation found a Firebase account it did not make and took it
    # back (services/management.py): sign-ins ended, password replaced.
    "invitation_took_back_account",
    "admin_role_changed",
    "admin_changed",
    "admin_disabled",
    "admin_enabled",
    "admin_removed",
    # Roles from the identity provider (ROLE_RULES, services/access.py): a
    # first sign-in that a rule admitted, a rule-made admin whose matching
    # rule now gives another role, and one whom no rule matches any more.
    "admin_created_by_rule",
    "admin_role_changed_by_rule",
    "admin_role_dropped_by_rule",
)
# Defining what a custom role grants changes the access of everyone holding
# it (services/roles.py): access rights too.
ROLE_CHANGES = ("role_created", "role_changed", "role_deleted")
security_log = logging.getLogger("adminapp.security")
# Every event the trail records, for the audit page's filter.
EVENTS = (
    "sign_in",
    "sign_out",
    "access_refused",
    "session_ended",
    "sessions_ended",
    *ADMIN_CHANGES,
    *ROLE_CHANGES,
    "password_reset_requested",
    "password_reset_completed",
    # The users console (adminapp/services/users.py): actions on end users.
    "user_disabled",
    "user_enabled",
    "user_tokens_revoked",
    "user_password_reset_sent",
    "user_email_verified",
    "user_claims_set",
    "user_deleted",
    "second_factor_passed",
    "second_factor_failed",
    "second_factor_added",
    "second_factor_removed",
    "second_factor_renamed",
    "recovery_codes_generated",
    "second_factors_reset",
    "step_up",
    "service_account_changed",
    # A passkey's signature counter went backwards: a cloned authenticator?
    "passkey_clone_suspected",
    # The per-admin bound on wrong codes (services/mfa/lockout.py).
    "second_factor_locked",
    "second_factor_unlocked",
    # Firebase's own second factor (services/mfa/firebase_factors.py).
    "firebase_factor_refused",
    "firebase_factor_trusted",
    "firebase_factor_distrusted",
    # An access record: an admin looked at personal data (record_access).
    "personal_data_accessed",
    # A download of the trail or the users list, with its reason
    # (services/exports.py): one entry before the first byte, one at the end.
    "data_exported",
    # An owner marked a month's access records reviewed (target: the month,
    # reason: their note; services/access_review.py).
    "access_review_completed",
)
ACCESS_EVENT = "personal_data_accessed"
EXPORT_EVENT = "data_exported"
# The fields an export's entries add (services/exports.py), read by the
# monthly review: which data set, in which format, filtered how, how many
# rows (on the closing entry), and the id that pairs the two entries.
EXPORT_FIELDS = ("dataset", "format", "filters", "rows", "export_id")
# The events that grant, change or revoke an admin's access rights (PIPA
# safety-measure standard art. 5(3)): kept at least ACCESS_RIGHTS_MINIMUM
# (3 years), whatever ACCESS_RECORD_RETENTION_DAYS says. Declared here once;
# retention, the chain's classes and docs/pipa.md follow from it.
ACCESS_RIGHT_EVENTS = frozenset(
    {
        *ADMIN_CHANGES,
        *ROLE_CHANGES,
        "second_factors_reset",
        "second_factor_locked",
        "second_factor_unlocked",
        "service_account_changed",
        "firebase_factor_trusted",
        "firebase_factor_distrusted",
    }
)
# Three years, counting a leap day.
ACCESS_RIGHTS_MINIMUM = timedelta(days=3 * 365 + 1)
# Firestore's TTL policy deletes an entry some time after this field's time.
EXPIRE_AT = "expire_at"
# What was done with personal data, in the vocabulary of the PIPC's standard
# on safety measures (조회, 검색, 출력, 수정, 삭제, 다운로드). Stored in English;
# pages show them in the reader's language (adminapp/web/labels.py).
TASKS = ("view", "search", "print", "edit", "delete", "download")
# One access record names at most this many data subjects (a users page is
# at most 1000 users: adminapp/firebase/users.py MAX_PAGE_SIZE).
MAX_SUBJECTS = 1000
# A search query is kept as typed, up to an email address's length.
MAX_QUERY = 254
PAGE_SIZE = 50
# The fields of an entry that its log line repeats (time and user agent are
# the log record's own or too long to be useful there).
# The chain's link is logged too: Cloud Logging then holds a copy of each
# chain's last link, which the trail alone cannot vouch for (audit_chain.py).
LOGGED_FIELDS = (
    "actor", "target", "target_uid", "task", "subject_count", "outcome", "reason", "ip",
    "request_id", "link", "dataset", "format", "rows", "export_id",
)  # fmt: skip
# How many entries an export reads per query: what it holds in memory.
EXPORT_CHUNK = 500
# How many entries verification reads per query.
VERIFY_PAGE = 500
# Entry ids look like 20261122T235958123456Z-1a2b3c4d: time-ordered, unique.
_ENTRY_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")


def retention_for(event: str, retention: timedelta) -> timedelta:
    """How long an entry of ``event`` is kept (``retention``:
    ACCESS_RECORD_RETENTION_DAYS)."""
    return max(retention, ACCESS_RIGHTS_MINIMUM) if event in ACCESS_RIGHT_EVENTS else retention


def retention_class(event: str) -> str:
    """Entries of one class all keep the same time: ``access_rights`` or
    ``records``."""
    return "access_rights" if event in ACCESS_RIGHT_EVENTS else "records"


@dataclass(frozen=True)
class RetentionReport:
    """What Firestore's TTL policy will delete from the trail, and when."""

    # First day of the UTC month of expire_at -> entries, for months to come.
    by_month: dict[date, int]
    # Past their expire_at: Firestore deletes them within about a day.
    overdue: int
    # Written before expire_at existed: kept until deleted by hand.
    without_expiry: int
    # The retention of each class (retention_class) for entries written now.
    retention: dict[str, timedelta]


def valid_cursor(value: str) -> bool:
    return bool(_ENTRY_ID.match(value))


def audit_target(value: str | None) -> str | None:
    """A target filter as typed: emails are stored lowercased, uids as they are."""
    value = (value or "").strip()
    return value.lower() if "@" in value else value or None


@dataclass(frozen=True)
class AuditEntry:
    seq: str
    time: datetime
    event: str
    actor: str | None
    target: str | None
    outcome: str
    reason: str | None
    ip: str | None
    user_agent: str | None
    # The Firebase uid of the target, for actions on end users (the target
    # is then their email, or the uid again when they have none).
    target_uid: str | None = None
    # Access records (and changes to end users): the task (TASKS), the data
    # subjects' uids, the search as typed, and the request that did it.
    task: str | None = None
    subject_uids: tuple[str, ...] = ()
    query: str | None = None
    request_id: str | None = None
    # Invitations and role changes: the role given, and the one before.
    role: str | None = None
    previous_role: str | None = None


@dataclass(frozen=True)
class DataSubject:
    """Whose personal data was handled: their uid (the product's id for
    them) and, where the page showed it, their email."""

    uid: str
    email: str | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    newer: str | None  # pass as ``after`` to get the page before this one
    older: str | None  # pass as ``before`` to get the page after this one


def log_event(event: str, **fields) -> None:
    """One JSON line per security event; ``None`` fields are left out. With
    LOG_FORMAT=json the fields are the line's own (``audit``), not a string
    inside its message (adminapp/logs.py)."""
    line = {"event": event, **{k: v for k, v in fields.items() if v is not None}}
    security_log.info(
        json.dumps(line, default=str, sort_keys=True),
        extra={"audit": json.loads(json.dumps(line, default=str))},
    )


class AuditedBatch(WriteBatch):
    """A write batch whose audit entries are chained when it commits
    (audit_chain.py) and reach the security log only once it has committed.
    If the commit fails, each event is logged with ``outcome: "error"``
    instead (the response is an error too), keeping what was attempted, by
    whom."""

    def __init__(
        self, client, chain: AuditChain, listeners: tuple[Callable[[dict], None], ...] = ()
    ):
        super().__init__(client)
        self._chain = chain
        # Told of each entry once it is saved (AuditTrail.on_commit).
        self._listeners = listeners
        # (document, entry, retention class), created at commit, once chained.
        self._entries: list[tuple[firestore.DocumentReference, dict, str]] = []

    def add_entry(self, reference, entry: dict) -> None:
        self._entries.append((reference, entry, retention_class(entry["event"])))

    def commit(self, *args, **kwargs):
        if not self._entries:
            return super().commit(*args, **kwargs)
        # Each entry's place in its chain, before the writes are staged.
        failed = self._chain.link((retention, entry) for _ref, entry, retention in self._entries)
        for reference, entry, _retention in self._entries:
            self.create(reference, entry)
        try:
            result = super().commit(*args, **kwargs)
        except Exception:
            failed()
            for _reference, entry, _retention in self._entries:
                fields = _logged(entry)
                log_event(entry["event"], **{**fields, "outcome": "error", "error": "not_saved"})
            raise
        for _reference, entry, _retention in self._entries:
            log_event(entry["event"], **_logged(entry))
        self._tell_listeners()
        return result

    def _tell_listeners(self) -> None:
        """After the commit, so a listener never acts on a change that was
        not saved; a listener's failure is logged, never the caller's."""
        for _reference, entry, _retention in self._entries:
            for listener in self._listeners:
                try:
                    listener(entry)
                except Exception:
                    security_log.exception("audit listener failed on %s", entry["event"])


def _logged(entry: dict) -> dict:
    """The fields of an entry its log line repeats. An export's reason is
    text a person typed (it may name someone): it stays in the entry, under
    its MAC, and out of the log."""
    fields = {name: entry.get(name) for name in LOGGED_FIELDS}
    if entry["event"] == EXPORT_EVENT:
        fields.pop("reason")
    return fields


class AuditTrail:
    def __init__(
        self,
        backend: FirebaseBackend,
        clock: Callable[[], datetime],
        *,
        retention: timedelta,
        chain_key: bytes,
    ):
        self._backend = backend
        self._clock = clock
        self.retention = retention
        self._chain_key = chain_key
        self._chain = AuditChain(chain_key, clock)
        # EVENTS plus those declared by product blueprints (adminapp.web.products).
        self.events: tuple[str, ...] = EVENTS
        self._listeners: tuple[Callable[[dict], None], ...] = ()

    def on_commit(self, listener: Callable[[dict], None]) -> None:
        """Call ``listener(entry)`` for every entry once its batch has
        committed (the owners' alerts: services/alerts.py). It runs on the
        committing thread: it must be quick and hand slow work elsewhere."""
        self._listeners = (*self._listeners, listener)

    def declare(self, events: tuple[str, ...]) -> None:
        """Add a product's events: the trail records and filters only declared ones."""
        self.events = tuple(dict.fromkeys((*self.events, *events)))

    def _entry(
        self,
        event: str,
        *,
        actor: str | None,
        target: str | None,
        target_uid: str | None,
        outcome: str,
        reason: str | None,
        client: Client | None,
        task: str | None = None,
        subjects: tuple[DataSubject, ...] = (),
        query: str | None = None,
        role: str | None = None,
        previous_role: str | None = None,
        export: dict | None = None,
    ) -> tuple[str, dict]:
        if event not in self.events:
            # A typo in an event name would hide entries from the filters.
            raise ValueError(f"undeclared audit event {event!r}")
        if task is not None and task not in TASKS:
            raise ValueError(f"unknown access task {task!r}")
        now = self._clock()
        # Sortable and unique: the id orders entries newest-first and serves
        # as the paging cursor (Firestore cursors are avoided on purpose).
        entry_id = f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"
        entry = {
            "seq": entry_id,
            "time": now,
            "event": event,
            "actor": actor,
            "target": target,
            "target_uid": target_uid,
            # What the trail's "target" filter matches (array-contains): the
            # target's email and uid, and every data subject's, so either
            # finds the entry.
            "subjects": list(
                dict.fromkeys(
                    value
                    for value in (
                        target,
                        target_uid,
                        *(key for subject in subjects for key in (subject.uid, subject.email)),
                    )
                    if value
                )
            ),
            "outcome": outcome,
            "reason": reason,
            "ip": client.ip if client else None,
            "user_agent": client.user_agent if client else None,
            "request_id": client.request_id if client else None,
            EXPIRE_AT: now + retention_for(event, self.retention),
        }
        if task is not None:
            entry["task"] = task
            entry["subject_uids"] = list(
                dict.fromkeys([*([target_uid] if target_uid else []), *(s.uid for s in subjects)])
            )
            entry["subject_count"] = len(entry["subject_uids"])
        if query is not None:
            entry["query"] = query[:MAX_QUERY]
        # Changes to an admin's role say it as data, not only in ``reason``:
        # the owners' alerts tell a raise from a lowering by them.
        if role is not None:
            entry["role"] = role
        if previous_role is not None:
            entry["previous_role"] = previous_role
        if export is not None:
            if set(export) - set(EXPORT_FIELDS):
                raise ValueError(
                    f"unknown export fields {sorted(set(export) - set(EXPORT_FIELDS))}"
                )
            entry.update(export)
        return entry_id, entry

    def batch(self) -> AuditedBatch:
        """A batch to stage a change and its audit entry in."""
        return AuditedBatch(self._backend.firestore, self._chain, self._listeners)

    def stage(
        self,
        batch: AuditedBatch,
        event: str,
        *,
        actor: str | None,
        target: str | None = None,
        target_uid: str | None = None,
        outcome: str = "ok",
        reason: str | None = None,
        client: Client | None = None,
        task: str | None = None,
        subjects: tuple[DataSubject, ...] = (),
        query: str | None = None,
        role: str | None = None,
        previous_role: str | None = None,
        export: dict | None = None,
    ) -> None:
        """Add an entry to the caller's batch, so it is written with the change."""
        entry_id, entry = self._entry(
            event,
            actor=actor,
            target=target,
            target_uid=target_uid,
            outcome=outcome,
            reason=reason,
            client=client,
            task=task,
            subjects=subjects,
            query=query,
            role=role,
            previous_role=previous_role,
            export=export,
        )
        batch.add_entry(self._backend.firestore.collection(AUDIT).document(entry_id), entry)

    def record(self, event: str, *, actor: str | None, **details) -> None:
        """Write one entry on its own; ``details`` are :meth:`stage`'s keywords."""
        batch = self.batch()
        self.stage(batch, event, actor=actor, **details)
        self._backend.commit(batch, f"audit {event}")

    def record_access(
        self,
        task: str,
        *,
        actor: str,
        subjects: Iterable[DataSubject],
        query: str | None = None,
        outcome: str = "ok",
        reason: str | None = None,
        client: Client | None = None,
        export_id: str | None = None,
    ) -> None:
        """Write an access record: ``actor`` did ``task`` (:data:`TASKS`) to
        the personal data of ``subjects``. One write, no read. A single
        subject is also the entry's target, so the trail shows them by name.
        ``export_id`` ties a ``download`` to its export's entries."""
        subjects = tuple(subjects)
        if len(subjects) > MAX_SUBJECTS:
            raise ValueError(f"an access record names at most {MAX_SUBJECTS} data subjects")
        only = subjects[0] if len(subjects) == 1 else None
        self.record(
            ACCESS_EVENT,
            actor=actor,
            target=(only.email.lower() if only.email else only.uid) if only else None,
            target_uid=only.uid if only else None,
            task=task,
            subjects=subjects,
            query=query,
            outcome=outcome,
            reason=reason,
            client=client,
            export={"export_id": export_id} if export_id else None,
        )

    def verify(self) -> Verification:
        """Check every chain of the trail (audit_chain.py): one query per
        VERIFY_PAGE entries, in link order, and one that counts the entries
        written before the chain existed."""
        collection = self._backend.firestore.collection(AUDIT)
        with self._backend.firestore_call("count unchained audit entries"):
            unchained = sum(
                1
                for snapshot in collection.select(["link"]).stream(**self._backend.rpc_options())
                if not (snapshot.to_dict() or {}).get("link")
            )
        return verify(
            self._chain_key, self._linked_entries(), now=self._clock(), unchained=unchained
        )

    def _linked_entries(self) -> Iterator[tuple[str, dict]]:
        after = ""
        while True:
            query = (
                self._backend.firestore.collection(AUDIT)
                .where(filter=FieldFilter("link", ">", after))
                .order_by("link")
                .limit(VERIFY_PAGE)
            )
            with self._backend.firestore_call("read audit chain"):
                snapshots = list(query.stream(**self._backend.rpc_options()))
            for snapshot in snapshots:
                yield snapshot.id, snapshot.to_dict() or {}
            if len(snapshots) < VERIFY_PAGE:
                return
            after = snapshots[-1].get("link")

    def export_chunks(
        self,
        *,
        event: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: str | None = None,
        until: str | None = None,
        chunk: int = EXPORT_CHUNK,
    ) -> Iterator[list[dict]]:
        """The entries the trail's filters select, newest first, as stored,
        ``chunk`` at a time: one query per chunk, keyed on the entry id as
        :meth:`page` is, so no more than one chunk is ever held. ``since``
        and ``until`` bound the entry ids (``since <= seq < until``): an id
        begins with its UTC time, so a date prefix such as ``20261101`` is a
        time bound."""
        before = until
        while True:
            query = self._filtered(event=event, actor=actor, target=target)
            if since:
                query = query.where(filter=FieldFilter("seq", ">=", since))
            if before:
                query = query.where(filter=FieldFilter("seq", "<", before))
            query = query.order_by("seq", direction=firestore.Query.DESCENDING).limit(chunk)
            with self._backend.firestore_call("export audit entries"):
                snapshots = list(query.stream(**self._backend.rpc_options()))
            entries = [snapshot.to_dict() or {} for snapshot in snapshots]
            if entries:
                yield entries
            if len(snapshots) < chunk:
                return
            before = entries[-1]["seq"]

    def _filtered(self, *, event: str | None, actor: str | None, target: str | None):
        """The trail's filters (the page's, the API's and the export's)."""
        query = self._backend.firestore.collection(AUDIT)
        if event:
            query = query.where(filter=FieldFilter("event", "==", event))
        if actor:
            query = query.where(filter=FieldFilter("actor", "==", actor))
        if target:
            query = query.where(filter=FieldFilter("subjects", "array_contains", target))
        return query

    def retention_report(self) -> RetentionReport:
        """Count the entries by the month their expire_at falls in."""
        query = self._backend.firestore.collection(AUDIT).select([EXPIRE_AT])
        with self._backend.firestore_call("count audit entries by expiry"):
            counts = count_expiry(
                (
                    (snapshot.to_dict() or {}).get(EXPIRE_AT)
                    for snapshot in query.stream(**self._backend.rpc_options())
                ),
                self._clock(),
                lambda when: when.date().replace(day=1),
            )
        return RetentionReport(
            by_month=counts.by_period,
            overdue=counts.overdue,
            without_expiry=counts.without_expiry,
            retention={
                "records": self.retention,
                "access_rights": max(self.retention, ACCESS_RIGHTS_MINIMUM),
            },
        )

    def page(
        self,
        *,
        event: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        before: str | None = None,
        after: str | None = None,
        size: int = PAGE_SIZE,
    ) -> AuditPage:
        """One page of entries, newest first, optionally filtered.

        Paging uses the entry ids (time-ordered and unique) as keys in a
        where-filter: ``before`` gives older entries, ``after`` newer ones.
        Firestore query cursors would do the same, but the local emulator
        does not implement them.
        """
        query = self._filtered(event=event, actor=actor, target=target)
        if after:
            query = query.where(filter=FieldFilter("seq", ">", after)).order_by(
                "seq", direction=firestore.Query.ASCENDING
            )
        else:
            if before:
                query = query.where(filter=FieldFilter("seq", "<", before))
            query = query.order_by("seq", direction=firestore.Query.DESCENDING)
        with self._backend.firestore_call("list audit entries"):
            snapshots = list(query.limit(size + 1).stream(**self._backend.rpc_options()))
        entries = [_entry(snapshot.to_dict()) for snapshot in snapshots[:size]]
        more = len(snapshots) > size
        if after:
            entries.reverse()
            return AuditPage(
                entries=entries,
                newer=entries[0].seq if more and entries else None,
                older=entries[-1].seq if entries else None,
            )
        return AuditPage(
            entries=entries,
            newer=entries[0].seq if before and entries else None,
            older=entries[-1].seq if more and entries else None,
        )


_ENTRY_FIELDS = {field.name for field in fields(AuditEntry)}


def _entry(data: dict) -> AuditEntry:
    values = {name: data.get(name) for name in _ENTRY_FIELDS}
    values["outcome"] = values["outcome"] or "ok"
    values["subject_uids"] = tuple(values["subject_uids"] or ())
    return AuditEntry(**values)
