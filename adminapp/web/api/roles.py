"""The custom roles through the API: ``/admin/api/roles``. The role service
holds the rules; these views read JSON and shape answers. Writes need
``roles.manage`` (owners, step-up)."""

from __future__ import annotations

from collections import Counter

from flask import jsonify

from ...domain.permissions import ROLES_MANAGE
from ...domain.roles import CustomRole
from ..actor import acting_admin
from ..context import services
from ..guard import permission_required
from ..request_body import json_object
from . import bp


def role_json(role: CustomRole, held_by: int | None = None) -> dict:
    answer = {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
    }
    if held_by is not None:
        answer["held_by"] = held_by
    return answer


@bp.get("/roles")
@permission_required(ROLES_MANAGE)
def list_roles():
    book = services().roles.book()
    held_by = Counter(admin.role for admin in services().directory.list())
    return jsonify(
        roles=[role_json(book.roles[name], held_by[name]) for name in book.names()],
        version=book.version,
    )


@bp.get("/roles/<name>")
@permission_required(ROLES_MANAGE)
def get_role(name: str):
    return jsonify(role=role_json(services().roles.get(name)))


@bp.post("/roles")
@permission_required(ROLES_MANAGE)
def create_role():
    body = json_object(allowed={"name", "description", "permissions"})
    role = services().roles.create(
        body.get("name"), body.get("description"), body.get("permissions"), acting_admin()
    )
    return jsonify(role=role_json(role)), 201


@bp.patch("/roles/<name>")
@permission_required(ROLES_MANAGE)
def update_role(name: str):
    body = json_object(allowed={"description", "permissions"})
    role = services().roles.update(
        name,
        acting_admin(),
        description=body.get("description"),
        permissions=body.get("permissions"),
    )
    return jsonify(role=role_json(role))


@bp.delete("/roles/<name>")
@permission_required(ROLES_MANAGE)
def delete_role(name: str):
    services().roles.delete(name, acting_admin())
    return jsonify(deleted=name)
