"""The admin directory: ``admins/{lowercased email}`` documents in Firestore.

Operators may write these documents by hand in the Firebase console, so a
document holding only ``role`` is a valid admin. Anything we cannot read with
certainty (an unknown role, a ``disabled`` field that is not ``false``) counts
against access: the gate fails closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from google.api_core.exceptions import AlreadyExists
from google.api_core.exceptions import NotFound as DocumentGone
from google.cloud import firestore
from google.cloud.firestore import DocumentSnapshot, FieldFilter, WriteBatch

from ..catalogs import supported_locale
from ..domain.admins import (
    Admin,
    AdminChange,
    AdminExists,
    AdminNotFound,
    LastOwner,
    UnknownRole,
)
from ..domain.roles import NO_CUSTOM_ROLES, OWNER, RoleBook, is_built_in
from ..i18n_marks import N_
from ..timezones import valid_zone
from .backend import FirebaseBackend
from .roles import RoleStore, book_from_snapshot

log = logging.getLogger(__name__)

ADMINS = "admins"
# The admins' second factors (firebase/factors.py). They go with the admin
# document: an address that is an admin again (the same person back, or a
# mailbox handed to someone new) starts with no key, passkey or recovery
# code of the one before.
FACTORS = "admin_factors"
FIREBASE_FACTORS_FIELD = "firebase_factors"
INVITED_PROVIDER_FIELD = "invited_provider"
FIRST_SIGN_IN_AFTER_FIELD = "first_sign_in_after"
MANAGED_BY_RULE_FIELD = "managed_by_rule"
# What a hand-edited, unreadable invited_provider reads as: no sign-in has it.
UNREADABLE_PROVIDER = "(unreadable)"


def admin_from_snapshot(
    snapshot: DocumentSnapshot, book: RoleBook = NO_CUSTOM_ROLES
) -> Admin | None:
    """Read an admin document; None if it is missing or has no valid role
    (built in, or one of ``book``'s custom roles read with it)."""
    if not snapshot.exists:
        return None
    data = snapshot.to_dict() or {}
    role = str(data.get("role") or "").strip().lower()
    if not book.known(role):
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
        second_factors=_count(data.get("second_factors")),
        # Only an explicit true: anything else keeps the second factor due.
        service_account=data.get("service_account") is True,
        # Hand-edited documents may hold anything: what we cannot use is
        # ignored (the defaults apply), never a reason to refuse access.
        locale=supported_locale(data.get("locale")),
        timezone=valid_zone(data.get("timezone")),
        trusted_firebase_factors=_trusted(data.get(FIREBASE_FACTORS_FIELD)),
        invited_provider=_invited_provider(data.get(INVITED_PROVIDER_FIELD, None)),
        first_sign_in_after=_first_sign_in_after(data.get(FIRST_SIGN_IN_AFTER_FIELD, None)),
        # Only an explicit true: a hand-written document stays the operator's.
        managed_by_rule=data.get(MANAGED_BY_RULE_FIELD) is True,
        version=snapshot.update_time,
        granted=book.permissions_of(role),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _invited_provider(value: object) -> str | None:
    # Anything but a provider id matches no sign-in: the gate fails closed.
    if value is None:
        return None
    return value if isinstance(value, str) else UNREADABLE_PROVIDER


def _first_sign_in_after(value: object) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.max.replace(tzinfo=UTC)


def _trusted(value: object) -> frozenset[str]:
    # A map of enrolment id -> who trusted it and when; anything else
    # (a hand edit) trusts nothing.
    if not isinstance(value, dict):
        return frozenset()
    return frozenset(key for key, entry in value.items() if isinstance(entry, dict) and key)


class AdminDirectory:
    def __init__(self, backend: FirebaseBackend, roles: RoleStore, clock: Callable[[], datetime]):
        self._backend = backend
        self._roles = roles
        self._clock = clock

    def ref(self, email: str):
        return self._backend.firestore.collection(ADMINS).document(email)

    def get(self, email: str) -> Admin | None:
        """An admin, read with the custom roles in one batched round trip."""
        return self.get_with_roles(email)[0]

    def get_with_roles(self, email: str) -> tuple[Admin | None, RoleBook]:
        """An admin and every custom role, in one batched round trip: what a
        sign-in needs to give a role that a ROLE_RULES rule names."""
        refs = [self.ref(email), self._roles.ref()]
        with self._backend.firestore_call("get admin"):
            snapshots = {
                snapshot.reference.path: snapshot
                for snapshot in self._backend.firestore.get_all(refs, **self._backend.rpc_options())
            }
        book = book_from_snapshot(snapshots.get(refs[1].path))
        admin_snapshot = snapshots.get(refs[0].path)
        return (
            admin_from_snapshot(admin_snapshot, book) if admin_snapshot is not None else None
        ), book

    def list(self) -> list[Admin]:
        query = self._backend.firestore.collection(ADMINS)
        book = self._roles.read()
        with self._backend.firestore_call("list admins"):
            snapshots = list(query.stream(**self._backend.rpc_options()))
        return sorted(
            (admin for snapshot in snapshots if (admin := admin_from_snapshot(snapshot, book))),
            key=lambda admin: admin.email,
        )

    def holders(self, transaction, role: str) -> list[str]:
        """The emails of the admins whose document names ``role``, read in
        ``transaction`` (a role is deleted only while nobody holds it)."""
        query = self._backend.firestore.collection(ADMINS).where(
            filter=FieldFilter("role", "==", role)
        )
        snapshots = query.get(transaction=transaction, **self._backend.rpc_options())
        return sorted(snapshot.id for snapshot in snapshots)

    def add(
        self,
        email: str,
        role: str,
        display_name: str | None = None,
        *,
        invited_provider: str | None = None,
        first_sign_in_after: datetime | None = None,
    ) -> Admin:
        """Create an admin document; :class:`AdminExists` if there is one,
        :class:`UnknownRole` for a role that is not there."""
        book = NO_CUSTOM_ROLES if is_built_in(role) else self._roles.read()
        if not book.known(role):
            raise UnknownRole(role, book)
        now = self._clock()
        data = {"role": role, "disabled": False, "created_at": now, "updated_at": now}
        if display_name:
            data["display_name"] = display_name
        if invited_provider:
            data[INVITED_PROVIDER_FIELD] = invited_provider
        if first_sign_in_after:
            data[FIRST_SIGN_IN_AFTER_FIELD] = first_sign_in_after
        # Factors left by an earlier admin document of this address (removed
        # before removals took them along) go in the same write. None can be
        # added between the read and the write: adding one updates the admin
        # document, which does not exist until this batch makes it.
        batch = self._backend.firestore.batch()
        batch.create(self.ref(email), data)
        self._delete_factors(batch, email)
        try:
            with self._backend.firestore_call("create admin"):
                batch.commit(**self._backend.rpc_options())
        except AlreadyExists:
            raise AdminExists(
                N_("%(email)s is already an admin."), params={"email": email}
            ) from None
        return Admin(
            email=email,
            role=role,
            granted=book.permissions_of(role),
            display_name=display_name,
            created_at=now,
            invited_provider=invited_provider,
            first_sign_in_after=first_sign_in_after,
        )

    def update(
        self,
        email: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        may_change: Callable[[Admin], None],
    ) -> AdminChange:
        """Change an admin's role and/or disabled flag.

        Raises :class:`AdminNotFound`, or :class:`LastOwner` when the change
        would leave no enabled owner (checked in the same transaction as the
        write, so two owners demoting each other at once cannot both win).
        ``may_change`` sees the admin as read in that transaction and raises
        to refuse (the service's rules: nobody changes someone above them,
        and a promotion racing this change cannot slip past the check).
        """

        def change(transaction) -> AdminChange:
            # The custom roles are read in this transaction: a role deleted
            # meanwhile (roles.py reads its holders in its own) aborts one of
            # the two, so nobody is left holding a role that is gone.
            book, before = self._read_with_roles(transaction, email)
            may_change(before)
            if role is not None and not book.known(role):
                raise UnknownRole(role, book)
            new_role = before.role if role is None else role
            after = replace(
                before,
                role=new_role,
                disabled=before.disabled if disabled is None else disabled,
                granted=book.permissions_of(new_role),
            )
            if before.active_owner and not after.active_owner:
                self._refuse_last_owner(transaction, email)
            fields: dict = {
                "updated_at": self._clock(),
                "role": after.role,
                "disabled": after.disabled,
            }
            if role is not None and before.managed_by_rule:
                # An owner's role change is a decision the rules must not
                # undo at the next sign-in: the admin is now managed by hand.
                fields[MANAGED_BY_RULE_FIELD] = False
                after = replace(after, managed_by_rule=False)
            transaction.update(self.ref(email), fields)
            return AdminChange(before=before, after=after)

        return self._transact(change, "change admin")

    def set_service_account(self, email: str, on: bool) -> None:
        """Mark or unmark ``email`` as a service account; :class:`AdminNotFound`
        if there is no such admin."""
        try:
            with self._backend.firestore_call("mark service account"):
                self.ref(email).update(
                    {"service_account": on, "updated_at": self._clock()},
                    **self._backend.rpc_options(),
                )
        except DocumentGone:
            raise AdminNotFound(email) from None

    def remove(self, email: str, *, may_change: Callable[[Admin], None]) -> AdminChange:
        """Delete the admin document; :class:`AdminNotFound` if there is none,
        :class:`LastOwner` if it is the last enabled owner; ``may_change`` as
        for :meth:`update`."""

        def delete(transaction) -> AdminChange:
            before = self._read(transaction, email)
            may_change(before)
            if before.active_owner:
                self._refuse_last_owner(transaction, email)
            # Read in the transaction, after the admin document: a factor
            # added meanwhile changes that document, and the transaction
            # runs again and finds it.
            self._delete_factors(transaction, email, read_in=transaction)
            transaction.delete(self.ref(email))
            return AdminChange(before=before, after=None)

        return self._transact(delete, "remove admin")

    def set_firebase_factor_trust(
        self, email: str, enrolment_id: str, *, trusted_by: str | None
    ) -> None:
        """Trust one enrolment of Firebase's MFA for ``email`` (``trusted_by``
        names who approved it), or stop trusting it (None)."""

        def change(transaction) -> None:
            self._read(transaction, email)  # an admin (with a custom role, too) or a refusal
            snapshot = self.ref(email).get(transaction=transaction, **self._backend.rpc_options())
            trusted = dict((snapshot.to_dict() or {}).get(FIREBASE_FACTORS_FIELD) or {})
            if trusted_by is None:
                trusted.pop(enrolment_id, None)
            else:
                trusted[enrolment_id] = {"trusted_by": trusted_by, "trusted_at": self._clock()}
            transaction.update(
                self.ref(email), {FIREBASE_FACTORS_FIELD: trusted, "updated_at": self._clock()}
            )

        self._transact(change, "trust a Firebase second factor")

    def set_preferences(self, email: str, *, locale: str | None, timezone: str | None) -> None:
        """Store an admin's language and time zone (None: follow the defaults)."""
        # null, not a deleted field: the local emulator ignores DELETE_FIELD,
        # and null reads as "no choice" either way.
        fields = {
            "locale": locale or None,
            "timezone": timezone or None,
            "updated_at": self._clock(),
        }
        try:
            with self._backend.firestore_call("set admin preferences"):
                self.ref(email).update(fields, **self._backend.rpc_options())
        except DocumentGone:
            raise AdminNotFound(email) from None

    def _transact(self, work: Callable, what: str):
        transaction = self._backend.firestore.transaction(max_attempts=3)
        with self._backend.firestore_call(what):
            return firestore.transactional(work)(transaction)

    def _read(self, transaction, email: str) -> Admin:
        return self._read_with_roles(transaction, email)[1]

    def _read_with_roles(self, transaction, email: str) -> tuple[RoleBook, Admin]:
        """The custom roles and an admin, in ``transaction`` (one batched read)."""
        refs = [self.ref(email), self._roles.ref()]
        snapshots = {
            snapshot.reference.path: snapshot
            for snapshot in transaction.get_all(refs, **self._backend.rpc_options())
        }
        book = book_from_snapshot(snapshots.get(refs[1].path))
        snapshot = snapshots.get(refs[0].path)
        admin = admin_from_snapshot(snapshot, book) if snapshot is not None else None
        if admin is None:
            raise AdminNotFound(email)
        return book, admin

    def _delete_factors(self, writes, email: str, *, read_in=None) -> None:
        """Stage the deletion of every second-factor document of ``email`` in
        ``writes`` (a batch or a transaction), found with one query (in the
        transaction ``read_in`` when given: a transaction reads before it
        writes)."""
        query = (
            self._backend.firestore.collection(FACTORS)
            .where(filter=FieldFilter("email", "==", email))
            .select(["email"])
        )
        with self._backend.firestore_call("list second factors to remove"):
            snapshots = query.get(transaction=read_in, **self._backend.rpc_options())
        for snapshot in snapshots:
            writes.delete(snapshot.reference)

    def _refuse_last_owner(self, transaction, email: str) -> None:
        owners = (
            self._backend.firestore.collection(ADMINS)
            .where(filter=FieldFilter("role", "==", OWNER))
            .get(transaction=transaction, **self._backend.rpc_options())
        )
        others = [
            admin
            for admin in map(admin_from_snapshot, owners)
            if admin and admin.active_owner and admin.email != email
        ]
        if not others:
            raise LastOwner(
                N_("%(email)s is the last enabled owner. Make someone else an owner first."),
                params={"email": email},
            )

    def stage_sign_in(
        self,
        batch: WriteBatch,
        admin: Admin,
        uid: str,
        when: datetime,
        *,
        rule_role: str | None = None,
    ) -> None:
        """Record a sign-in, binding the document to the Firebase uid the
        first time, in the caller's batch. ``rule_role`` is the role a
        ROLE_RULES rule now gives a rule-made admin: written only if the
        document is unchanged since it was read (an owner's change wins)."""
        ref = self.ref(admin.email)
        fields: dict = {"last_sign_in_at": when}
        if admin.uid is None:
            fields["uid"] = uid
        if rule_role is not None:
            fields.update(role=rule_role, updated_at=when)
        if admin.uid is None or rule_role is not None:
            option = self._backend.firestore.write_option(last_update_time=admin.version)
            batch.update(ref, fields, option=option)
        else:
            batch.update(ref, fields)

    def stage_create_by_rule(
        self,
        batch: WriteBatch,
        email: str,
        role: str,
        uid: str,
        when: datetime,
        *,
        granted: frozenset[str] | None = None,
    ) -> Admin:
        """A just-in-time admin: the document a ROLE_RULES rule makes at a
        first sign-in, bound to its uid, in the caller's batch. The commit
        fails if a document appeared meanwhile (an owner's invitation wins).
        ``granted``: a custom role's permissions, read with the roles."""
        data = {
            "role": role,
            "disabled": False,
            "uid": uid,
            MANAGED_BY_RULE_FIELD: True,
            "created_at": when,
            "updated_at": when,
            "last_sign_in_at": when,
        }
        batch.create(self.ref(email), data)
        # As an invitation does (add): factors an earlier admin document of
        # this address left behind go in the same write.
        self._delete_factors(batch, email)
        return Admin(
            email=email,
            role=role,
            uid=uid,
            created_at=when,
            last_sign_in_at=when,
            managed_by_rule=True,
            granted=granted,
        )

    def stage_remove_by_rule(self, batch: WriteBatch, admin: Admin) -> None:
        """Delete a rule-made admin whom no rule matches any more, if the
        document is unchanged since it was read: an owner who changed it
        meanwhile (a role by hand) keeps it. No last-owner check: the
        identity provider says this person is no longer staff with a role,
        and an operator can always add an owner with ``flask admins add``."""
        option = self._backend.firestore.write_option(last_update_time=admin.version)
        batch.delete(self.ref(admin.email), option=option)
        # A factor added since the read changed the admin document, and
        # the condition above then fails the whole batch.
        self._delete_factors(batch, admin.email)
