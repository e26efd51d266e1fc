"""Custom roles: every one in ONE Firestore document, ``admin_roles/custom``.

One document so that the guard reads it in the batched read it already
makes (the session record and the admin document: ``sessions.py``), and a
guarded request still costs one round trip. It holds a map of role name to
``{description, permissions, updated_at, updated_by}`` and a ``version``
that every change bumps. Owners have a few roles, not thousands: the
document stays far below Firestore's 1 MiB.

Read with certainty or not at all: an entry that is not a map with a list of
permission names is skipped (logged), so an admin holding it holds no role
and is refused, as with an unknown role.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from google.cloud import firestore
from google.cloud.firestore import DocumentSnapshot

from ..domain.roles import NO_CUSTOM_ROLES, CustomRole, RoleBook, valid_custom_name
from .backend import FirebaseBackend

log = logging.getLogger(__name__)

ROLES_COLLECTION = "admin_roles"
ROLES_DOCUMENT = "custom"


def book_from_snapshot(snapshot: DocumentSnapshot | None) -> RoleBook:
    """The custom roles a snapshot of ``admin_roles/custom`` holds (none
    when it does not exist)."""
    if snapshot is None or not snapshot.exists:
        return NO_CUSTOM_ROLES
    data = snapshot.to_dict() or {}
    raw = data.get("roles")
    roles: dict[str, CustomRole] = {}
    for name, entry in (raw if isinstance(raw, dict) else {}).items():
        permissions = entry.get("permissions") if isinstance(entry, dict) else None
        if not valid_custom_name(name) or not isinstance(permissions, list):
            log.warning("custom role %r is unreadable; nobody holds it", name)
            continue
        description = entry.get("description")
        roles[name] = CustomRole(
            name=name,
            description=description if isinstance(description, str) else "",
            permissions=frozenset(p for p in permissions if isinstance(p, str)),
        )
    version = data.get("version")
    return RoleBook(roles=roles, version=version if isinstance(version, int) else 0)


def book_document(book: RoleBook, *, actor: str, when: datetime, changed: str | None) -> dict:
    """The document that stores ``book``; ``changed`` names the role this
    write created or changed (stamped with who and when)."""
    return {
        "version": book.version,
        "roles": {
            role.name: {
                "description": role.description,
                "permissions": sorted(role.permissions),
                **({"updated_at": when, "updated_by": actor} if role.name == changed else {}),
            }
            for role in book.roles.values()
        },
    }


class RoleStore:
    """Where the custom roles live. Reads that must agree with a write (a
    role deleted while someone is assigned it) happen in the caller's
    transaction: :meth:`read_in`."""

    def __init__(self, backend: FirebaseBackend, clock: Callable[[], datetime]):
        self._backend = backend
        self._clock = clock

    def ref(self):
        return self._backend.firestore.collection(ROLES_COLLECTION).document(ROLES_DOCUMENT)

    def read(self) -> RoleBook:
        with self._backend.firestore_call("read custom roles"):
            snapshot = self.ref().get(**self._backend.rpc_options())
        return book_from_snapshot(snapshot)

    def read_in(self, transaction) -> tuple[RoleBook, dict]:
        """The roles, and the stored entries (to keep their stamps), in a
        transaction."""
        snapshot = self.ref().get(transaction=transaction, **self._backend.rpc_options())
        stored = (snapshot.to_dict() or {}).get("roles") if snapshot.exists else None
        return book_from_snapshot(snapshot), stored if isinstance(stored, dict) else {}

    def write_in(
        self, transaction, book: RoleBook, stored: dict, *, actor: str, changed: str | None
    ) -> None:
        """Store ``book`` (its version already bumped), keeping the stamps of
        the roles this write did not touch."""
        document = book_document(book, actor=actor, when=self._clock(), changed=changed)
        for name, entry in document["roles"].items():
            old = stored.get(name)
            if name != changed and isinstance(old, dict):
                entry.update({k: old[k] for k in ("updated_at", "updated_by") if k in old})
        transaction.set(self.ref(), document)

    def transact(self, work: Callable, what: str):
        """Run ``work(transaction)`` in a Firestore transaction (retried on
        contention, like the directory's)."""
        transaction = self._backend.firestore.transaction(max_attempts=3)
        with self._backend.firestore_call(what):
            return firestore.transactional(work)(transaction)
