"""The built-in roles, least privilege first, and the one rule that orders
them. A role is a set of permissions (``adminapp/domain/permissions.py``):
each built-in role holds every permission whose least role it reaches, so
the three behave as the ranks they were. Owners add custom roles, each an
explicit set of permissions (:class:`CustomRole`, kept together in one
:class:`RoleBook`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

ROLES = ("viewer", "admin", "owner")
VIEWER, ADMIN, OWNER = ROLES
_RANK = {role: index for index, role in enumerate(ROLES)}


def is_built_in(role: str) -> bool:
    return role in _RANK


def rank(role: str) -> int:
    """How far up ``role`` is (viewer 0); a KeyError for any other name."""
    return _RANK[role]


def at_least(role: str, least: str) -> bool:
    """Whether ``role`` reaches ``least``. An unknown role reaches nothing
    (fail closed); an unknown ``least`` is a programming error."""
    return is_built_in(role) and _RANK[role] >= _RANK[least]


# -- custom roles -------------------------------------------------------------
# An owner's own roles beside the built-in ones (adminapp/services/roles.py):
# a name, a description and a set of permission names. Names are lower-case
# slugs ("support", "billing-readonly"), never a built-in role's.
ROLE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
MAX_DESCRIPTION = 300


def valid_custom_name(name: object) -> bool:
    """Whether ``name`` may name a custom role: a slug, not a built-in role."""
    return isinstance(name, str) and ROLE_NAME.fullmatch(name) is not None and not is_built_in(name)


def needs_second_factor(role: str, required: frozenset[str]) -> bool:
    """Whether holders of ``role`` must prove a second factor, given
    MFA_REQUIRED_ROLES (built-in names only). A custom role may hold any
    permission, so it needs one whenever any role does: only ``none`` (the
    empty set) lets its holders in without."""
    return role in required if is_built_in(role) else bool(required)


@dataclass(frozen=True)
class CustomRole:
    name: str
    description: str
    # Permission names as stored; the app keeps only those it declares
    # (a product's permission whose product is gone gives nothing).
    permissions: frozenset[str]


@dataclass(frozen=True)
class RoleBook:
    """Every custom role, as one document holds them, with that document's
    version (bumped by every change)."""

    roles: Mapping[str, CustomRole] = field(default_factory=dict)
    version: int = 0

    def __contains__(self, name: object) -> bool:
        return name in self.roles

    def get(self, name: str) -> CustomRole | None:
        return self.roles.get(name)

    def names(self) -> list[str]:
        return sorted(self.roles)

    def permissions_of(self, role: str) -> frozenset[str] | None:
        """What holding ``role`` grants when it is one of these custom roles;
        None for a built-in role (its permissions are declared) or an unknown one."""
        custom = self.roles.get(role)
        return custom.permissions if custom is not None else None

    def known(self, role: str) -> bool:
        """A role an admin may hold: built in, or defined here."""
        return is_built_in(role) or role in self.roles


NO_CUSTOM_ROLES = RoleBook()
