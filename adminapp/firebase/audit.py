"""The audit trail's storage: security events in Firestore and in the log.

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

What the trail records (the declared events, access records' tasks and
subjects, retention by event) is ``adminapp/domain/audit.py``; access
records share this one collection, so there is one place to filter, retain
(``expire_at``) and chain (docs/pipa.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime, timedelta

from google.cloud import firestore
from google.cloud.firestore import FieldFilter, WriteBatch

from ..client import Client
from ..domain.audit import (
    ACCESS_EVENT,
    ACCESS_RIGHTS_MINIMUM,
    EXPORT_EVENT,
    EXPORT_FIELDS,
    MAX_QUERY,
    MAX_SUBJECTS,
    TASKS,
    AuditEntry,
    AuditEvents,
    AuditPage,
    DataSubject,
    RetentionReport,
    new_entry_id,
    retention_class,
    retention_for,
)
from ..errors import Refused
from ..logs import log_event, security_log
from .audit_chain import AuditChain, Verification, verify
from .backend import FirebaseBackend
from .entry_writes import create_write
from .expiry import count_expiry

AUDIT = "admin_audit"
# Firestore's TTL policy deletes an entry some time after this field's time.
EXPIRE_AT = "expire_at"
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
            staged = create_write(reference._document_path, entry)
            if staged is None:
                self.create(reference, entry)
            else:
                # The same Write, without the SDK's wrappers (entry_writes.py).
                self._add_write_pbs([staged])
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
        events: AuditEvents | None = None,
    ):
        self._backend = backend
        self._clock = clock
        self.retention = retention
        self._chain_key = chain_key
        self._chain = AuditChain(chain_key, clock)
        # EVENTS plus those declared by product blueprints (adminapp.web.products).
        self._events = events if events is not None else AuditEvents()
        self._listeners: tuple[Callable[[dict], None], ...] = ()

    def on_commit(self, listener: Callable[[dict], None]) -> None:
        """Call ``listener(entry)`` for every entry once its batch has
        committed (the owners' alerts: services/alerts.py). It runs on the
        committing thread: it must be quick and hand slow work elsewhere."""
        self._listeners = (*self._listeners, listener)

    @property
    def events(self) -> tuple[str, ...]:
        """The declared events, for the trail's filters."""
        return self._events.names

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
        if event not in self._events:
            # A typo in an event name would hide entries from the filters.
            raise ValueError(f"undeclared audit event {event!r}")
        if task is not None and task not in TASKS:
            raise ValueError(f"unknown access task {task!r}")
        now = self._clock()
        # The paging cursor too (Firestore cursors are avoided on purpose).
        entry_id = new_entry_id(now)
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

    @contextmanager
    def refusals(
        self,
        event: str,
        kinds: tuple[type[Refused], ...],
        *,
        actor: str,
        target: str,
        client: Client | None,
    ) -> Iterator[None]:
        """Let a refusal of one of ``kinds`` through, recorded first as a
        refused ``event`` with its code as the reason: an attempt the rules
        stopped (the last owner, someone above the actor) stays in the trail."""
        try:
            yield
        except kinds as refusal:
            self.record(
                event,
                actor=actor,
                target=target,
                outcome="refused",
                reason=refusal.code,
                client=client,
            )
            raise

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
