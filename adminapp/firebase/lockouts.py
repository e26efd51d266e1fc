"""Wrong second-factor codes per admin: ``admin_mfa_lockouts/{email}``.

One small document per admin who has entered wrong codes recently, apart
from the admin document so that counting never changes the document the
guard reads (nor its version, which binding the uid is conditional on). It
is read and written only on the second-factor pages, never by the guard.
The count is changed in a transaction, so concurrent wrong codes from any
number of sessions and addresses are all counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from google.cloud import firestore
from google.cloud.firestore import DocumentSnapshot, FieldFilter

from .backend import FirebaseBackend

LOCKOUTS = "admin_mfa_lockouts"


@dataclass(frozen=True)
class Lockout:
    """An admin's recent wrong codes: how many since ``window_started_at``,
    and until when codes are refused (None: not locked)."""

    email: str
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True)
class Counted:
    """A wrong code, counted: the lockout after it, and whether this very
    code is the one that locked the admin out."""

    lockout: Lockout
    tripped: bool


def _lockout(email: str, snapshot: DocumentSnapshot) -> Lockout:
    data = (snapshot.to_dict() or {}) if snapshot.exists else {}
    failures = data.get("failures")
    return Lockout(
        email=email,
        failures=failures if isinstance(failures, int) and failures > 0 else 0,
        window_started_at=data.get("window_started_at"),
        locked_until=data.get("locked_until"),
    )


class LockoutStore:
    def __init__(self, backend: FirebaseBackend, clock: Callable[[], datetime]):
        self._backend = backend
        self._clock = clock

    def _ref(self, email: str):
        return self._backend.firestore.collection(LOCKOUTS).document(email)

    def get(self, email: str) -> Lockout:
        with self._backend.firestore_call("get second-factor lockout"):
            snapshot = self._ref(email).get(**self._backend.rpc_options())
        return _lockout(email, snapshot)

    def count_failure(
        self, email: str, *, limit: int, window: timedelta, lock_for: timedelta
    ) -> Counted:
        """Count one wrong code in a transaction: a new window starts when
        the last one is over; the ``limit``-th wrong code within ``window``
        locks codes for ``lock_for``."""
        ref = self._ref(email)

        def count(transaction) -> Counted:
            now = self._clock()
            current = _lockout(
                email, ref.get(transaction=transaction, **self._backend.rpc_options())
            )
            start = current.window_started_at
            if start is None or now - start > window:
                start, failures = now, 0
            else:
                failures = current.failures
            failures += 1
            tripped = failures >= limit and not current.locked(now)
            locked_until = now + lock_for if tripped else current.locked_until
            after = Lockout(email, failures, start, locked_until)
            transaction.set(
                ref,
                {
                    "failures": failures,
                    "window_started_at": start,
                    "locked_until": locked_until,
                    "updated_at": now,
                },
            )
            return Counted(lockout=after, tripped=tripped)

        transaction = self._backend.firestore.transaction(max_attempts=10)
        with self._backend.firestore_call("count a wrong second-factor code"):
            return firestore.transactional(count)(transaction)

    def locked(self) -> dict[str, Lockout]:
        """Every admin whose codes are locked now, by email."""
        now = self._clock()
        query = self._backend.firestore.collection(LOCKOUTS).where(
            filter=FieldFilter("locked_until", ">", now)
        )
        with self._backend.firestore_call("list second-factor lockouts"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        return {snapshot.id: _lockout(snapshot.id, snapshot) for snapshot in snapshots}

    def lift(self, email: str) -> Lockout:
        """Forget an admin's wrong codes and lock; what there was."""
        before = self.get(email)
        with self._backend.firestore_call("lift second-factor lockout"):
            self._ref(email).delete(**self._backend.rpc_options())
        return before
