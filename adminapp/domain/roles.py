"""The built-in roles, least privilege first, and the one rule that orders
them. A role is a set of permissions (``adminapp/domain/permissions.py``):
each built-in role holds every permission whose least role it reaches, so
the three behave as the ranks they were."""

from __future__ import annotations

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
