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
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime

from google.cloud import firestore
from google.cloud.firestore import FieldFilter, WriteBatch

from ..client import Client
from .backend import FirebaseBackend

AUDIT = "admin_audit"
security_log = logging.getLogger("adminapp.security")
# Every event the trail records, for the audit page's filter.
EVENTS = (
    "sign_in",
    "sign_out",
    "access_refused",
    "session_ended",
    "sessions_ended",
    "admin_invited",
    # An invitation found a Firebase account it did not make and took it
    # back (services/management.py): sign-ins ended, password replaced.
    "invitation_took_back_account",
    "admin_role_changed",
    "admin_changed",
    "admin_disabled",
    "admin_enabled",
    "admin_removed",
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
)
PAGE_SIZE = 50
# The fields of an entry that its log line repeats (time and user agent are
# the log record's own or too long to be useful there).
LOGGED_FIELDS = ("actor", "target", "target_uid", "outcome", "reason", "ip")
# Entry ids look like 20261122T235958123456Z-1a2b3c4d: time-ordered, unique.
_ENTRY_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")


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
    """A write batch whose audit events reach the security log only once it
    has committed. If the commit fails, each event is logged with
    ``outcome: "error"`` instead (the response is an error too), keeping
    what was attempted, by whom."""

    def __init__(self, client):
        super().__init__(client)
        self._events: list[tuple[str, dict]] = []

    def log_on_commit(self, event: str, fields: dict) -> None:
        self._events.append((event, fields))

    def commit(self, *args, **kwargs):
        try:
            result = super().commit(*args, **kwargs)
        except Exception:
            for event, fields in self._events:
                log_event(event, **{**fields, "outcome": "error", "error": "not_saved"})
            raise
        for event, fields in self._events:
            log_event(event, **fields)
        return result


class AuditTrail:
    def __init__(self, backend: FirebaseBackend, clock: Callable[[], datetime]):
        self._backend = backend
        self._clock = clock
        # EVENTS plus those declared by product blueprints (adminapp.web.products).
        self.events: tuple[str, ...] = EVENTS

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
    ) -> tuple[str, dict]:
        if event not in self.events:
            # A typo in an event name would hide entries from the filters.
            raise ValueError(f"undeclared audit event {event!r}")
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
            # target's email and uid, so either finds the entry.
            "subjects": [value for value in (target, target_uid) if value],
            "outcome": outcome,
            "reason": reason,
            "ip": client.ip if client else None,
            "user_agent": client.user_agent if client else None,
        }
        return entry_id, entry

    def batch(self) -> AuditedBatch:
        """A batch to stage a change and its audit entry in."""
        return AuditedBatch(self._backend.firestore)

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
        )
        batch.create(self._backend.firestore.collection(AUDIT).document(entry_id), entry)
        batch.log_on_commit(event, {name: entry[name] for name in LOGGED_FIELDS})

    def record(self, event: str, *, actor: str | None, **details) -> None:
        """Write one entry on its own; ``details`` are :meth:`stage`'s keywords."""
        batch = self.batch()
        self.stage(batch, event, actor=actor, **details)
        self._backend.commit(batch, f"audit {event}")

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
        query = self._backend.firestore.collection(AUDIT)
        if event:
            query = query.where(filter=FieldFilter("event", "==", event))
        if actor:
            query = query.where(filter=FieldFilter("actor", "==", actor))
        if target:
            query = query.where(filter=FieldFilter("subjects", "array_contains", target))
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
    return AuditEntry(**values)
