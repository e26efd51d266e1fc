"""Second factors: ``admin_factors/{factor id}`` documents in Firestore.

One document per factor: a passkey, the TOTP app (at most one per admin), or
the admin's set of recovery codes. Every document holds ``email``, ``kind``,
``name``, ``created_at`` and ``last_used_at``; the rest depends on the kind
(see ``adminapp/services/mfa/``, which owns the rules). TOTP
secrets are stored sealed (AES-GCM), recovery codes as hashes only.

These documents are read only at the challenge, enrolment and security
pages, never by the guard: whether an admin has a second factor is the count
``second_factors`` on their admin document, changed in the same batch as
the factor itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from google.cloud import firestore
from google.cloud.firestore import DocumentSnapshot, FieldFilter, WriteBatch

from .admins import FACTORS, AdminDirectory
from .backend import FirebaseBackend

TOTP, PASSKEY, RECOVERY_CODES = "totp", "passkey", "recovery_codes"
KINDS = (TOTP, PASSKEY, RECOVERY_CODES)
# Kinds that count as "has a second factor" (recovery codes back them up).
COUNTED = frozenset({TOTP, PASSKEY})
FACTOR_COUNT_FIELD = "second_factors"


@dataclass(frozen=True)
class Factor:
    id: str
    email: str
    kind: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    # Kind-specific fields, as stored.
    data: dict = field(default_factory=dict, repr=False)
    # The document's update time when read: uses are conditional on it, so
    # two requests cannot both spend the same code or step.
    version: datetime | None = None

    @property
    def counted(self) -> bool:
        return self.kind in COUNTED


def factor_from_snapshot(snapshot: DocumentSnapshot) -> Factor | None:
    if not snapshot.exists:
        return None
    data = dict(snapshot.to_dict() or {})
    try:
        factor = Factor(
            id=snapshot.id,
            email=data.pop("email"),
            kind=data.pop("kind"),
            name=data.pop("name", "") or "",
            created_at=data.pop("created_at"),
            last_used_at=data.pop("last_used_at", None),
            data=data,
            version=snapshot.update_time,
        )
    except KeyError:
        return None  # a damaged document proves nothing
    return factor if factor.kind in KINDS else None


class FactorStore:
    def __init__(self, backend: FirebaseBackend, directory: AdminDirectory):
        self._backend = backend
        self._directory = directory

    def _ref(self, factor_id: str):
        return self._backend.firestore.collection(FACTORS).document(factor_id)

    def of(self, email: str) -> list[Factor]:
        """Every factor of an admin, oldest first."""
        query = self._backend.firestore.collection(FACTORS).where(
            filter=FieldFilter("email", "==", email)
        )
        with self._backend.firestore_call("list second factors"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        factors = [f for f in map(factor_from_snapshot, snapshots) if f is not None]
        return sorted(factors, key=lambda f: (f.created_at, f.id))

    def get(self, factor_id: str) -> Factor | None:
        with self._backend.firestore_call("get second factor"):
            snapshot = self._ref(factor_id).get(**self._backend.rpc_options())
        return factor_from_snapshot(snapshot)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(12)

    def stage_add(
        self,
        batch: WriteBatch,
        *,
        factor_id: str,
        email: str,
        kind: str,
        name: str,
        now: datetime,
        data: dict,
        admin_version: datetime | None = None,
    ) -> Factor:
        """Add a factor in the caller's batch. ``admin_version``: count it
        only if the admin document is unchanged since then (the first factor
        of an admin is added once, by one request)."""
        document = {
            **data,
            "email": email,
            "kind": kind,
            "name": name,
            "created_at": now,
            "last_used_at": None,
        }
        batch.create(self._ref(factor_id), document)
        if kind in COUNTED:
            self._count(batch, email, 1, admin_version)
        return Factor(factor_id, email, kind, name, now, None, data)

    def stage_use(self, batch: WriteBatch, factor: Factor, changes: dict, now: datetime) -> None:
        """Record a use, only if the document is unchanged since it was read
        (else the commit fails with FailedPrecondition: a concurrent use won)."""
        option = self._backend.firestore.write_option(last_update_time=factor.version)
        batch.update(self._ref(factor.id), {**changes, "last_used_at": now}, option=option)

    def stage_update(self, batch: WriteBatch, factor: Factor, changes: dict) -> None:
        batch.update(self._ref(factor.id), changes)

    def stage_remove(
        self, batch: WriteBatch, factor: Factor, *, admin_version: datetime | None = None
    ) -> None:
        batch.delete(self._ref(factor.id))
        if factor.counted:
            self._count(batch, factor.email, -1, admin_version)

    def stage_remove_all(self, batch: WriteBatch, email: str, factors: list[Factor]) -> None:
        for factor in factors:
            batch.delete(self._ref(factor.id))
        batch.update(self._directory.ref(email), {FACTOR_COUNT_FIELD: 0})

    def _count(
        self, batch: WriteBatch, email: str, delta: int, version: datetime | None = None
    ) -> None:
        option = None
        if version is not None:
            option = self._backend.firestore.write_option(last_update_time=version)
        batch.update(
            self._directory.ref(email),
            {FACTOR_COUNT_FIELD: firestore.Increment(delta)},
            option=option,
        )
