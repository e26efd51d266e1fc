"""The admin directory: ``admins/{lowercased email}`` documents in Firestore.

Operators may write these documents by hand in the Firebase console, so a
document holding only ``role`` is a valid admin. Anything we cannot read with
certainty (an unknown role, a ``disabled`` field that is not ``false``) counts
against access: the gate fails closed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from google.api_core.exceptions import AlreadyExists
from google.cloud.firestore import DocumentSnapshot, WriteBatch

from .firebase import FirebaseBackend

log = logging.getLogger(__name__)

ADMINS = "admins"
# Least privilege first; a role includes everything below it.
ROLES = ("viewer", "admin", "owner")
_RANK = {role: rank for rank, role in enumerate(ROLES)}
MAX_EMAIL_LENGTH = 254
# Deliberately plain: one @, no spaces, and no "/" (it would split a
# Firestore document path).
_EMAIL = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/.]+$")


class InvalidEmail(ValueError):
    pass


class AdminExists(Exception):
    pass


class AdminNotFound(Exception):
    pass


def normalize_email(raw: str) -> str:
    """The document id for an email address, or :class:`InvalidEmail`."""
    email = (raw or "").strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidEmail("Enter a valid email address, such as name@example.com.")
    return email


def role_at_least(role: str, least: str) -> bool:
    return _RANK[role] >= _RANK[least]


@dataclass(frozen=True)
class Admin:
    email: str
    role: str
    disabled: bool = False
    uid: str | None = None
    display_name: str | None = None
    created_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    # The document's update time when read; binding the uid is conditional
    # on it, so two racing first sign-ins cannot both bind.
    version: datetime | None = None

    def can(self, least_role: str) -> bool:
        return not self.disabled and role_at_least(self.role, least_role)


def admin_from_snapshot(snapshot: DocumentSnapshot) -> Admin | None:
    """Read an admin document; None if it is missing or has no valid role."""
    if not snapshot.exists:
        return None
    data = snapshot.to_dict() or {}
    role = str(data.get("role") or "").strip().lower()
    if role not in _RANK:
        log.warning("admin document %s has no valid role; access refused", snapshot.id)
        return None
    disabled = data.get("disabled", False)
    uid = data.get("uid")
    return Admin(
        email=snapshot.id,
        role=role,
        disabled=disabled is not False and disabled is not None,
        uid=uid if isinstance(uid, str) and uid else None,
        display_name=data.get("display_name") or None,
        created_at=data.get("created_at"),
        last_sign_in_at=data.get("last_sign_in_at"),
        version=snapshot.update_time,
    )


class AdminDirectory:
    def __init__(self, backend: FirebaseBackend, clock: Callable[[], datetime]):
        self._backend = backend
        self._clock = clock

    def ref(self, email: str):
        return self._backend.firestore.collection(ADMINS).document(email)

    def get(self, email: str) -> Admin | None:
        with self._backend.firestore_call("get admin"):
            snapshot = self.ref(email).get(**self._backend.rpc_options())
        return admin_from_snapshot(snapshot)

    def list(self) -> list[Admin]:
        query = self._backend.firestore.collection(ADMINS)
        with self._backend.firestore_call("list admins"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        return sorted(
            (admin for admin in map(admin_from_snapshot, snapshots) if admin),
            key=lambda admin: admin.email,
        )

    def add(self, email: str, role: str, display_name: str | None = None) -> Admin:
        """Create an admin document; :class:`AdminExists` if there is one."""
        if role not in _RANK:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        now = self._clock()
        data = {"role": role, "disabled": False, "created_at": now, "updated_at": now}
        if display_name:
            data["display_name"] = display_name
        try:
            with self._backend.firestore_call("create admin"):
                self.ref(email).create(data, **self._backend.rpc_options())
        except AlreadyExists:
            raise AdminExists(f"{email} is already an admin.") from None
        return Admin(email=email, role=role, display_name=display_name, created_at=now)

    def remove(self, email: str) -> None:
        """Delete the admin document; :class:`AdminNotFound` if there is none."""
        if self.get(email) is None:
            raise AdminNotFound(f"{email} is not an admin.")
        with self._backend.firestore_call("delete admin"):
            self.ref(email).delete(**self._backend.rpc_options())

    def stage_sign_in(self, batch: WriteBatch, admin: Admin, uid: str, when: datetime) -> None:
        """Record a sign-in, binding the document to the Firebase uid the
        first time, in the caller's batch."""
        ref = self.ref(admin.email)
        if admin.uid is None:
            option = self._backend.firestore.write_option(last_update_time=admin.version)
            batch.update(ref, {"uid": uid, "last_sign_in_at": when}, option=option)
        else:
            batch.update(ref, {"last_sign_in_at": when})
