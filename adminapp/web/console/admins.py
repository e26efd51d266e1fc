"""Admins page: viewers and up see the directory; owners change it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...addresses import InvalidEmail, OutsideAllowedDomains, identity_key
from ...domain.admins import AdminExists, AdminNotFound, LastOwner, UnknownRole
from ...domain.permissions import (
    ADMINS_DISABLE,
    ADMINS_FACTORS_RESET,
    ADMINS_INVITE,
    ADMINS_READ,
    ADMINS_REMOVE,
    ADMINS_ROLE,
    ADMINS_UNLOCK,
)
from ...domain.roles import RoleBook
from ...services.management import SignsInOtherwise
from ...services.roles import GrantBeyondOwn
from ..context import request_client, services
from ..guard import current_admin, permission_required
from ..i18n import say
from ..invitation_notices import invitation_warnings
from ..labels import role_name
from ..permissions import held, may
from . import bp
from .forms import ConfirmForm, InviteForm, RoleForm


def _listing(status: int = 200, *, invite_form: InviteForm | None = None, error: str | None = None):
    me = current_admin()
    book = services().roles.book()
    return render_template(
        "console/admins.html",
        admins=services().directory.list(),
        # Only who may lift a lock is shown who is locked.
        locks=services().lockout.locked_admins() if may(ADMINS_UNLOCK) else {},
        invite_form=invite_form or _invite_form(book),
        role_form=RoleForm().offer_roles(book),
        confirm_form=ConfirmForm(),
        error=error,
        me=me,
    ), status


def _invite_form(book: RoleBook | None = None) -> InviteForm:
    form = InviteForm().offer_sign_in_methods(services().settings)
    return form.offer_roles(book if book is not None else services().roles.book())


def _target(email: str) -> str:
    """The admin named in the URL; an address that cannot be one is a 404."""
    try:
        return identity_key(email)
    except InvalidEmail:
        raise AdminNotFound(email) from None


def _done(message: str):
    flash(message, "success")
    return redirect(url_for(".admins"), code=303)


@bp.get("/admins")
@permission_required(ADMINS_READ)
def admins():
    return _listing()


@bp.post("/admins")
@permission_required(ADMINS_INVITE)
def invite_admin():
    form = _invite_form()
    if not form.validate():
        return _listing(400, invite_form=form)
    email, role = form.email.data, form.role.data
    try:
        invitation = services().management.invite(
            email,
            role,
            actor=current_admin().email,
            client=request_client(),
            provider=form.provider.data,
            holds=held(),
        )
    except (OutsideAllowedDomains, UnknownRole) as refusal:
        form.email.errors.append(say(refusal))
        return _listing(400, invite_form=form)
    except GrantBeyondOwn as refusal:
        form.role.errors.append(say(refusal))
        return _listing(403, invite_form=form)
    except (AdminExists, SignsInOtherwise) as refusal:
        form.email.errors.append(say(refusal))
        return _listing(409, invite_form=form)
    added = _("%(email)s is now an admin (%(role)s).", email=email, role=role_name(role))
    warnings = invitation_warnings(invitation)
    if warnings:
        flash(" ".join([added, *warnings]), "warning")
        return redirect(url_for(".admins"), code=303)
    if invitation.provider and invitation.email_sent:
        detail = _("An email telling them where to sign in is on its way.")
    elif invitation.email_sent:
        detail = _("An email with a link to set their password is on its way.")
    elif invitation.user_created:
        detail = _(
            "Their account has no password yet: they can set one with “Forgot your password?”."
        )
    else:
        detail = _("They can sign in with their existing account.")
    return _done(f"{added} {detail}")


@bp.post("/admins/<email>/role")
@permission_required(ADMINS_ROLE)
def change_role(email: str):
    email = _target(email)
    form = RoleForm().offer_roles(services().roles.book())
    if not form.validate():
        return _listing(400, error=form.role.errors[0])
    return _apply(
        lambda: services().management.change_role(
            email,
            form.role.data,
            actor=current_admin().email,
            client=request_client(),
            holds=held(),
        ),
        _("%(email)s is now %(role)s.", email=email, role=role_name(form.role.data)),
    )


@bp.post("/admins/<email>/<any(disable, enable):action>")
@permission_required(ADMINS_DISABLE)
def set_admin_status(email: str, action: str):
    email = _target(email)
    disabled = action == "disable"
    return _apply(
        lambda: services().management.set_disabled(
            email, disabled, actor=current_admin().email, client=request_client(), holds=held()
        ),
        _("%(email)s is disabled and signed out everywhere.", email=email)
        if disabled
        else _("%(email)s is enabled again.", email=email),
    )


@bp.get("/admins/<email>/remove")
@permission_required(ADMINS_REMOVE)
def confirm_remove_admin(email: str):
    email = _target(email)
    admin = services().directory.get(email)
    if admin is None:
        raise AdminNotFound(email)
    return render_template("console/remove_admin.html", admin=admin, form=ConfirmForm())


@bp.post("/admins/<email>/remove")
@permission_required(ADMINS_REMOVE)
def remove_admin(email: str):
    email = _target(email)
    return _apply(
        lambda: services().management.remove(
            email, actor=current_admin().email, client=request_client(), holds=held()
        ),
        _("%(email)s is no longer an admin.", email=email),
    )


@bp.post("/admins/<email>/reset-factors")
@permission_required(ADMINS_FACTORS_RESET)
def reset_factors(email: str):
    email = _target(email)
    removed = services().management.reset_factors(
        email, by=current_admin(), client=request_client(), holds=held()
    )
    return _done(
        _(
            "%(email)s's second factors are reset (%(removed)s removed) and they are signed "
            "out: they set up a new one at their next sign-in.",
            email=email,
            removed=removed,
        )
    )


@bp.post("/admins/<email>/unlock")
@permission_required(ADMINS_UNLOCK)
def unlock_admin(email: str):
    email = _target(email)
    services().management.unlock(
        email, actor=current_admin().email, client=request_client(), holds=held()
    )
    return _done(_("%(email)s can use codes again.", email=email))


def _apply(change, message: str):
    try:
        change()
    except (LastOwner, UnknownRole, GrantBeyondOwn) as refusal:
        # Shown on the page the owner acted on, not on an error page.
        return _listing(refusal.status, error=say(refusal))
    return _done(message)
