"""Custom roles: what owners may define, and the rules no role escapes.

A custom role is a name, a description and a set of declared permissions
(built-in or a product's). The rules, written once here:

- a name is a lower-case slug and never a built-in role's;
- every permission named must be declared by this app;
- nobody grants what they do not hold: a role's permissions must all be the
  actor's, when it is defined or changed and when it is given to an admin
  (:meth:`RoleAdministration.require_grantable`, used by the admin
  management);
- a role is deleted only while no admin holds it, checked in the
  transaction that deletes it (an assignment reads the roles in its own, so
  one of two racing writes is retried and sees the other), and while no
  ROLE_RULES rule gives it (the rule would otherwise refuse every sign-in it
  matches: services/access.py);
- every change is audited (``role_created``, ``role_changed``,
  ``role_deleted``), and every process's session cache is dropped, so the
  new permissions apply at the next request on every worker.

Writing a role needs ``roles.manage``, which owners hold and which asks for a
fresh second-factor proof (step-up) on every write route: a role can carry
owner-only permissions, so defining one is as dangerous as granting them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..domain.admins import ActingAbove, Admin, UnknownRole
from ..domain.permissions import Permissions
from ..domain.role_rules import RoleRule
from ..domain.roles import MAX_DESCRIPTION, CustomRole, RoleBook, is_built_in, valid_custom_name
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.roles import RoleStore
from ..firebase.sessions import SessionStore
from ..i18n_marks import N_
from .users import Actor


class RoleNotFound(NotFound):
    code = "role_not_found"

    def __init__(self, name: str):
        super().__init__(N_("There is no custom role %(role)s."), params={"role": repr(name)})


class RoleInUse(Conflict):
    code = "role_in_use"


class RoleNamedByRule(Conflict):
    """A ROLE_RULES rule gives the role: deleting it would turn the rule's
    sign-ins into refusals."""

    code = "role_named_by_rule"

    def __init__(self, name: str, rules: Iterable[RoleRule]):
        super().__init__(
            N_(
                "The sign-in rules (ROLE_RULES) give the role %(role)s: %(rules)s. Change "
                "ROLE_RULES and restart the app first."
            ),
            params={"role": name, "rules": "; ".join(rule.describe() for rule in rules)},
        )


class GrantBeyondOwn(Forbidden):
    """The actor would grant permissions they do not hold themselves."""

    code = "grant_beyond_own"

    def __init__(self, missing: Iterable[str]):
        super().__init__(
            N_("You cannot grant permissions you do not hold: %(permissions)s."),
            params={"permissions": ", ".join(sorted(missing))},
        )


class RoleAdministration:
    def __init__(
        self,
        *,
        store: RoleStore,
        directory: AdminDirectory,
        sessions: SessionStore,
        audit: AuditTrail,
        permissions: Permissions,
        role_rules: tuple[RoleRule, ...] = (),
    ):
        self._store = store
        self._directory = directory
        self._sessions = sessions
        self._audit = audit
        # The app's registry: products declare theirs into it at start-up.
        self._permissions = permissions
        self._role_rules = role_rules

    def book(self) -> RoleBook:
        """Every custom role."""
        return self._store.read()

    def get(self, name: str) -> CustomRole:
        """One custom role; :class:`RoleNotFound` when there is none."""
        role = self._store.read().get(name)
        if role is None:
            raise RoleNotFound(name)
        return role

    def granted_to(self, admin: Admin) -> frozenset[str]:
        """What ``admin``'s role grants, enabled or not (a disabled owner is
        still an owner to whoever would enable them)."""
        if admin.granted is not None:
            return frozenset(name for name in admin.granted if name in self._permissions)
        return self._permissions.of_role(admin.role)

    def held_above(self, admin: Admin, holds: frozenset[str]) -> frozenset[str]:
        """What ``admin``'s role grants that an actor holding ``holds`` does
        not: empty when the actor may change them."""
        return self.granted_to(admin) - holds

    def require_not_above(self, admin: Admin, holds: frozenset[str]) -> None:
        """Refuse to act on ``admin`` for an actor holding ``holds`` unless
        they hold everything ``admin``'s role grants: :class:`ActingAbove`."""
        missing = self.held_above(admin, holds)
        if missing:
            raise ActingAbove(admin.email, missing)

    def require_grantable(self, role: str, holds: frozenset[str]) -> None:
        """Refuse to give ``role`` to anyone on behalf of an actor holding
        ``holds``: :class:`UnknownRole` or :class:`GrantBeyondOwn`."""
        book = RoleBook() if is_built_in(role) else self._store.read()
        granted = self._permissions.granted_by(role, book)
        if granted is None:
            raise UnknownRole(role, book)
        if not granted <= holds:
            raise GrantBeyondOwn(granted - holds)

    # -- changes --------------------------------------------------------------

    def create(
        self, name: object, description: object, permissions: object, actor: Actor
    ) -> CustomRole:
        role = CustomRole(
            name=self._name(name),
            description=self._description(description),
            permissions=self._permission_names(permissions),
        )
        self._refuse_beyond_own("role_created", role, actor)

        def add(transaction) -> None:
            book, stored = self._store.read_in(transaction)
            if role.name in book:
                raise Conflict(
                    N_("There is already a role %(role)s."),
                    code="role_exists",
                    params={"role": role.name},
                )
            roles = {**book.roles, role.name: role}
            self._write(transaction, book, stored, roles, role.name, actor)

        self._store.transact(add, "create custom role")
        self._changed(
            "role_created", role.name, f"permissions: {', '.join(sorted(role.permissions))}", actor
        )
        return role

    def update(
        self,
        name: str,
        actor: Actor,
        *,
        description: object = None,
        permissions: object = None,
    ) -> CustomRole:
        """Change a role's description and/or permissions (None: keep)."""
        new_description = None if description is None else self._description(description)
        new_permissions = None if permissions is None else self._permission_names(permissions)
        if new_description is None and new_permissions is None:
            raise InvalidInput(
                N_("Say what to change: description or permissions."), code="nothing_to_change"
            )
        if new_permissions is not None:
            self._refuse_beyond_own(
                "role_changed", CustomRole(name, "", new_permissions), actor, target=name
            )

        def change(transaction) -> tuple[CustomRole, CustomRole]:
            book, stored = self._store.read_in(transaction)
            before = book.get(name)
            if before is None:
                raise RoleNotFound(name)
            after = replace(
                before,
                description=before.description if new_description is None else new_description,
                permissions=before.permissions if new_permissions is None else new_permissions,
            )
            self._write(transaction, book, stored, {**book.roles, name: after}, name, actor)
            return before, after

        before, after = self._store.transact(change, "change custom role")
        details = []
        if added := sorted(after.permissions - before.permissions):
            details.append("+" + ", +".join(added))
        if removed := sorted(before.permissions - after.permissions):
            details.append("-" + ", -".join(removed))
        if after.description != before.description:
            details.append("description changed")
        self._changed("role_changed", name, "; ".join(details) or "unchanged", actor)
        return after

    def delete(self, name: str, actor: Actor) -> None:
        """Delete a role nobody holds (:class:`RoleInUse` otherwise) and no
        ROLE_RULES rule gives (:class:`RoleNamedByRule`)."""
        naming = [rule for rule in self._role_rules if rule.role == name]

        def remove(transaction) -> None:
            book, stored = self._store.read_in(transaction)
            if name not in book:
                raise RoleNotFound(name)
            if naming:
                raise RoleNamedByRule(name, naming)
            holders = self._directory.holders(transaction, name)
            if holders:
                raise RoleInUse(
                    N_(
                        "%(count)s admins hold the role %(role)s (%(emails)s): give them "
                        "another role first."
                    ),
                    params={"count": len(holders), "role": name, "emails": ", ".join(holders)},
                )
            remaining = {key: role for key, role in book.roles.items() if key != name}
            self._write(transaction, book, stored, remaining, None, actor)

        try:
            self._store.transact(remove, "delete custom role")
        except (RoleInUse, RoleNamedByRule) as refusal:
            reason = refusal.code
            if naming:
                reason += ": " + "; ".join(rule.describe() for rule in naming)
            self._audit.record(
                "role_deleted",
                actor=actor.name,
                target=name,
                outcome="refused",
                reason=reason,
                client=actor.client,
            )
            raise
        self._changed("role_deleted", name, None, actor)

    # -- helpers --------------------------------------------------------------

    def _write(self, transaction, book, stored, roles, changed, actor: Actor) -> None:
        new = RoleBook(roles=roles, version=book.version + 1)
        self._store.write_in(transaction, new, stored, actor=actor.name, changed=changed)

    def _changed(self, event: str, name: str, reason: str | None, actor: Actor) -> None:
        # Any cached admin may hold this role: every process re-reads.
        self._sessions.forget_everyone()
        self._audit.record(event, actor=actor.name, target=name, reason=reason, client=actor.client)

    def _refuse_beyond_own(
        self, event: str, role: CustomRole, actor: Actor, *, target: str | None = None
    ) -> None:
        missing = role.permissions - actor.permissions
        if missing:
            self._audit.record(
                event,
                actor=actor.name,
                target=target or role.name,
                outcome="refused",
                reason="grant_beyond_own: " + ", ".join(sorted(missing)),
                client=actor.client,
            )
            raise GrantBeyondOwn(missing)

    @staticmethod
    def _name(name: object) -> str:
        if isinstance(name, str) and is_built_in(name):
            raise InvalidInput(
                N_("%(role)s is a built-in role; choose another name."),
                code="bad_role_name",
                params={"role": name},
            )
        if not valid_custom_name(name):
            raise InvalidInput(
                N_(
                    "A role's name is 2 to 32 lower-case letters, digits and hyphens, "
                    "starting with a letter (for example support)."
                ),
                code="bad_role_name",
            )
        return name

    @staticmethod
    def _description(description: object) -> str:
        if description is None:
            return ""
        if not isinstance(description, str) or len(description.strip()) > MAX_DESCRIPTION:
            raise InvalidInput(
                N_("A description is text of at most %(max)s characters."),
                code="bad_description",
                params={"max": MAX_DESCRIPTION},
            )
        return description.strip()

    def _permission_names(self, permissions: object) -> frozenset[str]:
        if (
            not isinstance(permissions, list | tuple | set | frozenset)
            or not permissions
            or not all(isinstance(name, str) for name in permissions)
        ):
            raise InvalidInput(N_("Choose at least one permission."), code="bad_permissions")
        unknown = sorted(name for name in permissions if name not in self._permissions)
        if unknown:
            raise InvalidInput(
                N_("Not permissions of this site: %(names)s."),
                code="unknown_permission",
                params={"names": ", ".join(unknown)},
            )
        return frozenset(permissions)
