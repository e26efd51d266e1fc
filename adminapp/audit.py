"""The audit trail: security events in Firestore and in the log.

Every event becomes one structured (JSON) log line on the
``adminapp.security`` logger. Events about a known person are also written to
the ``admin_audit`` collection. Anonymous noise (a forged cookie, a request
without a session) is logged only: writing it to Firestore would let anyone
on the internet make us pay for writes and drown the trail.

Callers pass only facts that are safe to keep: never a token, cookie,
password, reset code or session id.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from google.cloud.firestore import WriteBatch

from .firebase import FirebaseBackend
from .sessions import Client

AUDIT = "admin_audit"
security_log = logging.getLogger("adminapp.security")


def log_event(event: str, **fields) -> None:
    """One JSON line per security event; ``None`` fields are left out."""
    line = {"event": event, **{k: v for k, v in fields.items() if v is not None}}
    security_log.info(json.dumps(line, default=str, sort_keys=True))


class AuditTrail:
    def __init__(self, backend: FirebaseBackend, clock: Callable[[], datetime]):
        self._backend = backend
        self._clock = clock

    def _entry(
        self,
        event: str,
        *,
        actor: str | None,
        target: str | None,
        outcome: str,
        reason: str | None,
        client: Client | None,
    ) -> tuple[str, dict]:
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
            "outcome": outcome,
            "reason": reason,
            "ip": client.ip if client else None,
            "user_agent": client.user_agent if client else None,
        }
        log_event(event, actor=actor, target=target, outcome=outcome, reason=reason, ip=entry["ip"])
        return entry_id, entry

    def stage(
        self,
        batch: WriteBatch,
        event: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        reason: str | None = None,
        client: Client | None = None,
    ) -> None:
        """Add an entry to the caller's batch, so it is written with the change."""
        entry_id, entry = self._entry(
            event, actor=actor, target=target, outcome=outcome, reason=reason, client=client
        )
        batch.create(self._backend.firestore.collection(AUDIT).document(entry_id), entry)

    def record(
        self,
        event: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        reason: str | None = None,
        client: Client | None = None,
    ) -> None:
        """Write one entry on its own."""
        batch = self._backend.firestore.batch()
        self.stage(
            batch, event, actor=actor, target=target, outcome=outcome, reason=reason, client=client
        )
        with self._backend.firestore_call(f"audit {event}"):
            batch.commit(**self._backend.rpc_options())
