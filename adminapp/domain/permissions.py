"""Every action's permission, declared once (in the spirit of warehouse's
``Permissions``): its name, what it lets someone do, the least built-in role
that holds it, and whether its write routes need a fresh second-factor proof
(step-up).

Routes declare the permission they need (``adminapp/web/guard.py``
``permission_required``), templates ask ``can("users.delete")``, the
services check the actor's permissions, and the route-walk test and the
README's table read this list. The built-in roles are the sets these
declarations give (:meth:`Permissions.of_role`). A product declares its own
:class:`Permission` objects on its blueprint (``AdminBlueprint(permissions=
...)``); they join the app's :class:`Permissions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import Forbidden
from ..i18n_marks import N_
from .roles import ADMIN, OWNER, VIEWER, RoleBook, at_least, is_built_in

# "users.reset", "admins.factors.reset", "notes.write": lower-case words and
# underscores, at least two parts separated by dots.
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class Permission:
    name: str
    # What it lets someone do: English, marked for translation (N_), for
    # the docs' table and, later, the role editor.
    label: str
    # The least built-in role that holds it (owner holds every permission).
    least_role: str
    # Its write routes need a second-factor proof within STEP_UP_MINUTES:
    # the guard asks for one unless the route declares a service rule
    # instead (adminapp/web/step_up.py).
    step_up: bool = False

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"permission name {self.name!r} is not like 'users.reset'")
        if not is_built_in(self.least_role):
            raise ValueError(f"permission {self.name}: unknown role {self.least_role!r}")

    def __str__(self) -> str:
        return self.name


def role_holds(role: str, permission: Permission) -> bool:
    """The one rule for the built-in roles: a role holds a permission when
    it reaches the permission's least role. Any other role holds nothing."""
    return at_least(role, permission.least_role)


class MissingPermission(Forbidden):
    """The caller's role does not hold the permission this needs (403)."""

    def __init__(self, permission: Permission, role: str):
        if is_built_in(role):
            super().__init__(
                N_("This needs the %(least)s role; your role is %(role)s."),
                params={"least": permission.least_role, "role": role},
            )
        else:
            # A custom role: a rank would not say what is missing, the name does.
            super().__init__(
                N_("Your role %(role)s does not include the permission %(permission)s."),
                params={"role": role, "permission": permission.name},
            )
        self.permission = permission


P = Permission

# The admins page and its API.
ADMINS_READ = P("admins.read", N_("See the admins, their roles and status"), VIEWER)
ADMINS_INVITE = P("admins.invite", N_("Invite admins"), OWNER, step_up=True)
ADMINS_ROLE = P("admins.role", N_("Change admins' roles"), OWNER, step_up=True)
ADMINS_DISABLE = P("admins.disable", N_("Disable and enable admins"), OWNER, step_up=True)
ADMINS_REMOVE = P("admins.remove", N_("Remove admins"), OWNER, step_up=True)
ADMINS_FACTORS_RESET = P(
    "admins.factors.reset", N_("Reset admins' second factors"), OWNER, step_up=True
)
ADMINS_FACTORS_TRUST = P(
    "admins.factors.trust",
    N_("See and approve admins' Firebase second factors"),
    OWNER,
    step_up=True,
)
ADMINS_UNLOCK = P(
    "admins.unlock", N_("See and lift admins' locks after wrong codes"), OWNER, step_up=True
)
# Everyone sees and ends their own sessions; these are for other admins'.
SESSIONS_READ_OTHERS = P("sessions.read_others", N_("See other admins' sessions"), OWNER)
SESSIONS_END_OTHERS = P(
    "sessions.end_others", N_("End other admins' sessions"), OWNER, step_up=True
)
AUDIT_READ = P("audit.read", N_("Read the audit trail"), VIEWER)
# Checking the chain reads the whole trail: owners, like the inspector.
AUDIT_VERIFY = P("audit.verify", N_("Check the audit trail's chain for edits and gaps"), OWNER)
# A download of the trail (access records name data subjects and admins'
# addresses) or of the users list is a bulk copy of personal data leaving the
# system: owners only, with a fresh proof, and a reason (services/exports.py).
AUDIT_EXPORT = P("audit.export", N_("Download the audit trail, with a reason"), OWNER, step_up=True)
# The monthly review of access records (PIPA art. 8(2)): it reads a whole
# month of the trail, and marking a month reviewed is an owner's attestation,
# made with a fresh second-factor proof.
AUDIT_REVIEW = P(
    "audit.review",
    N_("Review a month of access records and mark it reviewed"),
    OWNER,
    step_up=True,
)
# The users console: the product's Firebase Auth accounts.
USERS_READ = P("users.read", N_("See the product's users"), VIEWER)
USERS_EXPORT = P("users.export", N_("Download the users list, with a reason"), OWNER, step_up=True)
USERS_DISABLE = P("users.disable", N_("Disable and enable users"), ADMIN)
USERS_REVOKE = P("users.revoke", N_("Sign users out everywhere"), ADMIN)
USERS_RESET = P("users.reset", N_("Send users a password reset email"), ADMIN)
USERS_VERIFY = P("users.verify", N_("Mark users' email addresses verified"), ADMIN)
USERS_CLAIMS = P("users.claims", N_("Set users' custom claims"), OWNER, step_up=True)
USERS_DELETE = P("users.delete", N_("Delete users"), OWNER, step_up=True)
# Acting on an account that is also an admin here is acting on that admin:
# disabling it or resetting its password locks them out of this area.
USERS_ADMIN_ACCOUNTS = P(
    "users.admin_accounts", N_("Act on users who are admins of this area"), OWNER, step_up=True
)
# Custom roles (adminapp/services/roles.py): defining one decides what others
# may do, so it is an owner's act with a fresh proof, like changing a role.
ROLES_MANAGE = P("roles.manage", N_("Create, change and delete custom roles"), OWNER, step_up=True)
# A product route that declares no permission is closed, not open: it needs
# this one, which only the top role holds (adminapp/web/guard.py).
PAGES_UNDECLARED = P("pages.undeclared", N_("Open product pages that declare no permission"), OWNER)

BUILT_IN: tuple[Permission, ...] = (
    ADMINS_READ,
    ADMINS_INVITE,
    ADMINS_ROLE,
    ADMINS_DISABLE,
    ADMINS_REMOVE,
    ADMINS_FACTORS_RESET,
    ADMINS_FACTORS_TRUST,
    ADMINS_UNLOCK,
    SESSIONS_READ_OTHERS,
    SESSIONS_END_OTHERS,
    AUDIT_READ,
    AUDIT_VERIFY,
    AUDIT_EXPORT,
    AUDIT_REVIEW,
    USERS_READ,
    USERS_EXPORT,
    USERS_DISABLE,
    USERS_REVOKE,
    USERS_RESET,
    USERS_VERIFY,
    USERS_CLAIMS,
    USERS_DELETE,
    USERS_ADMIN_ACCOUNTS,
    ROLES_MANAGE,
    PAGES_UNDECLARED,
)


class Permissions:
    """The permissions of one app: the built-in ones and its products'."""

    def __init__(self, permissions: Iterable[Permission] = BUILT_IN):
        self._declared: dict[str, Permission] = {}
        self._of_role: dict[str, frozenset[str]] = {}
        self.declare(permissions)

    def declare(self, permissions: Iterable[Permission]) -> None:
        """Add permissions; the same one twice is fine (a blueprint mounted
        in two apps), two different ones under one name are not."""
        for permission in permissions:
            if not isinstance(permission, Permission):
                raise TypeError(f"{permission!r} is not a Permission")
            known = self._declared.get(permission.name)
            if known is not None and known != permission:
                raise ValueError(f"permission {permission.name} is declared twice, differently")
            self._declared[permission.name] = permission
        self._of_role.clear()

    def __getitem__(self, name: str | Permission) -> Permission:
        """The declared permission of that name; a KeyError for a typo."""
        return self._declared[str(name)]

    def __contains__(self, permission: object) -> bool:
        """A name that is declared, or the very permission declared under its name."""
        if isinstance(permission, str):
            return permission in self._declared
        if not isinstance(permission, Permission):
            return False
        return self._declared.get(permission.name) == permission

    def __iter__(self) -> Iterator[Permission]:
        return iter(self._declared.values())

    def __len__(self) -> int:
        return len(self._declared)

    def of_role(self, role: str) -> frozenset[str]:
        """The names of the permissions ``role`` holds (computed once per
        role: the guard asks on every request)."""
        held = self._of_role.get(role)
        if held is None:
            held = frozenset(name for name, p in self._declared.items() if role_holds(role, p))
            if is_built_in(role):  # only these are cached: the cache stays bounded
                self._of_role[role] = held
        return held

    def granted_by(self, role: str, book: RoleBook) -> frozenset[str] | None:
        """What ``role`` grants: a built-in role's permissions, or a custom
        role's that this app declares; None for a role that is neither."""
        if is_built_in(role):
            return self.of_role(role)
        custom = book.get(role)
        if custom is None:
            return None
        return frozenset(name for name in custom.permissions if name in self._declared)
