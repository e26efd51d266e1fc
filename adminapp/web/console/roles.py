"""The custom-role editor: owners list, create, change and delete roles.

The rules (names, declared permissions, granting only what one holds, no
deletion while held, audit) are the role service's
(``adminapp/services/roles.py``); these views read forms and show refusals
on the form they came from. Every write needs ``roles.manage``, declared
step-up: the guard asks for a fresh proof first.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...domain.permissions import ROLES_MANAGE, Permission
from ...errors import Refused
from ...services.roles import RoleInUse, RoleNotFound
from ..actor import acting_admin
from ..context import services
from ..guard import permission_required
from ..i18n import say
from ..labels import PERMISSION_GROUPS
from ..permissions import registry
from . import bp
from .forms import ConfirmForm, RoleEditorForm


def permission_groups() -> list[tuple[str, list[Permission]]]:
    """Every declared permission, grouped by the first part of its name
    (admins, users, a product's), in declaration order."""
    group = lambda permission: permission.name.split(".", 1)[0]  # noqa: E731
    ordered = sorted(registry(), key=group)
    return [
        (str(PERMISSION_GROUPS.get(key, key)), list(items))
        for key, items in groupby(ordered, key=group)
    ]


def _editor(form: RoleEditorForm, *, name: str | None, error: str | None = None, status=200):
    return render_template(
        "console/role_editor.html",
        form=form,
        name=name,
        groups=permission_groups(),
        chosen=set(form.permissions.data or ()),
        error=error,
    ), status


def _save(name: str | None, change, done: str):
    """Submit the editor: the service's refusal is shown on the form (a role
    that is gone is the 404 page), success on the list."""
    form = RoleEditorForm()
    if not form.validate():
        return _editor(form, name=name, status=400)
    try:
        role = change(form)
    except RoleNotFound:
        raise
    except Refused as refusal:
        return _editor(form, name=name, error=say(refusal), status=refusal.status)
    flash(done % {"role": role.name}, "success")
    return redirect(url_for(".roles"), code=303)


def _listing(status: int = 200, error: str | None = None):
    book = services().roles.book()
    held_by = Counter(admin.role for admin in services().directory.list())
    return render_template(
        "console/roles.html",
        roles=[book.roles[name] for name in book.names()],
        held_by=held_by,
        permissions={permission.name: permission for permission in registry()},
        confirm_form=ConfirmForm(),
        error=error,
    ), status


@bp.get("/roles")
@permission_required(ROLES_MANAGE)
def roles():
    return _listing()


@bp.get("/roles/new")
@permission_required(ROLES_MANAGE)
def new_role():
    return _editor(RoleEditorForm(), name=None)


@bp.post("/roles/new")
@permission_required(ROLES_MANAGE)
def create_role():
    return _save(
        None,
        lambda form: services().roles.create(
            form.name.data, form.description.data, form.permissions.data, acting_admin()
        ),
        _("The role %(role)s is created."),
    )


@bp.get("/roles/<name>")
@permission_required(ROLES_MANAGE)
def edit_role(name: str):
    role = services().roles.get(name)
    form = RoleEditorForm(
        data={"description": role.description, "permissions": sorted(role.permissions)}
    )
    return _editor(form, name=name)


@bp.post("/roles/<name>")
@permission_required(ROLES_MANAGE)
def update_role(name: str):
    return _save(
        name,
        lambda form: services().roles.update(
            name,
            acting_admin(),
            description=form.description.data or "",
            permissions=form.permissions.data,
        ),
        _("The role %(role)s is saved."),
    )


@bp.post("/roles/<name>/delete")
@permission_required(ROLES_MANAGE)
def delete_role(name: str):
    try:
        services().roles.delete(name, acting_admin())
    except RoleInUse as refusal:
        # Shown on the list the owner acted on, not on an error page.
        return _listing(409, error=say(refusal))
    flash(_("The role %(role)s is deleted.", role=name), "success")
    return redirect(url_for(".roles"), code=303)
