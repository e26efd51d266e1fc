"""The app's permissions and what the signed-in admin holds.

The declaration is ``adminapp/domain/permissions.py``; this module keeps the
app's :class:`~adminapp.domain.permissions.Permissions` (the built-in ones,
and each product's, declared when its blueprint is mounted) and answers
"may the admin of this request do that?" for views (:func:`may`) and
templates (``can("users.delete")``). The guard resolves the admin's
permissions once per request from their role, in memory: no read.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from ..domain.admins import Admin
from ..domain.permissions import Permission, Permissions

PERMISSIONS_KEY = "adminapp.permissions"


def init_app(app: Flask, permissions: Permissions) -> None:
    """``permissions``: the services' registry, which custom roles read too."""
    app.extensions[PERMISSIONS_KEY] = permissions
    app.jinja_env.globals["can"] = may
    app.jinja_env.globals["role_permissions"] = role_permissions


def registry() -> Permissions:
    """The current app's permissions."""
    return current_app.extensions[PERMISSIONS_KEY]


def granted(admin: Admin) -> frozenset[str]:
    """What ``admin``'s role grants: a built-in role's permissions, or the
    custom role's (read with the admin) that this app declares."""
    if admin.granted is not None:
        known = registry()
        return frozenset(name for name in admin.granted if name in known)
    return registry().of_role(admin.role)


def permissions_of(admin: Admin) -> frozenset[str]:
    """What ``admin`` may do: their role's permissions; nothing once disabled."""
    return frozenset() if admin.disabled else granted(admin)


def role_permissions(admin: Admin) -> list[Permission]:
    """Their role's permissions, declared order (the admins page lists them)."""
    names = granted(admin)
    return [permission for permission in registry() if permission.name in names]


def held() -> frozenset[str]:
    """The signed-in admin's permissions (the guard sets them); none before."""
    return g.get("permissions", frozenset())


def may(permission: Permission | str) -> bool:
    """Whether the signed-in admin holds ``permission``. A name that is not
    declared raises KeyError: a typo in a template fails loudly instead of
    hiding a button from everyone."""
    return registry()[permission].name in held()
