"""The users console's pages: search, browse, one user, and the actions."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...domain.end_users import MAX_PAGE_TOKEN_LENGTH, UserNotFound
from ...domain.permissions import (
    USERS_CLAIMS,
    USERS_DELETE,
    USERS_DISABLE,
    USERS_EXPORT,
    USERS_READ,
    USERS_RESET,
    USERS_REVOKE,
    USERS_VERIFY,
)
from ...errors import InvalidInput
from ...i18n_marks import N_
from ...services.users import InvalidClaims, UserDetail
from ..auth.reset import claim_reset_slot
from ..console.forms import ConfirmForm, ExportForm
from ..context import services
from ..downloads import download, flag
from ..guard import permission_required
from ..i18n import say
from ..step_up import step_up_by_rule
from . import USERS_CONSOLE_RULE, acting_admin, bp
from .forms import ClaimsForm, DeleteForm, SearchForm

DONE = {
    "disable": N_("%(user)s is disabled: they cannot sign in or refresh their tokens."),
    "enable": N_("%(user)s is enabled again."),
    "revoke": N_("%(user)s is signed out everywhere: their refresh tokens are revoked."),
    "reset": N_("A password reset email is on its way to %(user)s."),
    "verify": N_("%(user)s's email address is marked verified."),
    "claims": N_("%(user)s's custom claims are saved; they apply from their next ID token."),
}


def _done(action: str, user, uid: str):
    flash(_(DONE[action], user=user.label), "success")
    return redirect(url_for(".show", uid=uid), code=303)


@bp.get("/")
@permission_required(USERS_READ)
def index():
    form = SearchForm(request.args)
    if not form.validate():
        raise InvalidInput(N_("Search with an email, a phone number or a uid."))
    if form.q.data:
        try:
            detail = services().users.search(form.q.data, acting_admin())
        except UserNotFound as missing:
            return render_template("users/list.html", form=form, page=None, error=say(missing)), 404
        # The answer is the user's page itself, not a redirect to it: one
        # request and one access record for one look at one person.
        return _user_page(detail)
    token = request.args.get("page") or None
    if token is not None and len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidInput(N_("That page link is not valid; start from the first page."))
    page = services().users.page(token, None, acting_admin())
    return render_template(
        "users/list.html", form=form, page=page, error=None, export_form=ExportForm()
    )


def _user_page(detail: UserDetail, *, claims_form: ClaimsForm | None = None, status: int = 200):
    if claims_form is None:
        claims_form = ClaimsForm(
            formdata=None, claims=json.dumps(detail.user.custom_claims, indent=2, sort_keys=True)
        )
    return render_template(
        "users/show.html",
        detail=detail,
        user=detail.user,
        claims_form=claims_form,
        confirm_form=ConfirmForm(),
    ), status


@bp.post("/export")
@permission_required(USERS_EXPORT)
def export():
    """The list page's export form: every user, streamed (a POST: no GET
    route at this path, so a user whose uid is "export" keeps their page)."""
    form = request.form
    export = services().exports.users_list(
        form.get("format", ""), form.get("reason", ""), acting_admin(), bom=flag(form.get("bom"))
    )
    return download(export)


@bp.get("/<uid>")
@permission_required(USERS_READ)
def show(uid: str):
    return _user_page(services().users.show(uid, acting_admin()))


@bp.post("/<uid>/<any(disable, enable):action>")
@permission_required(USERS_DISABLE)
@step_up_by_rule(USERS_CONSOLE_RULE)
def set_status(uid: str, action: str):
    user = services().users.set_disabled(uid, action == "disable", acting_admin())
    return _done(action, user, uid)


@bp.post("/<uid>/revoke")
@permission_required(USERS_REVOKE)
@step_up_by_rule(USERS_CONSOLE_RULE)
def revoke(uid: str):
    return _done("revoke", services().users.revoke_refresh_tokens(uid, acting_admin()), uid)


@bp.post("/<uid>/verify")
@permission_required(USERS_VERIFY)
@step_up_by_rule(USERS_CONSOLE_RULE)
def verify_email(uid: str):
    return _done("verify", services().users.mark_email_verified(uid, acting_admin()), uid)


@bp.post("/<uid>/reset")
@permission_required(USERS_RESET)
@step_up_by_rule(USERS_CONSOLE_RULE)
def send_reset(uid: str):
    user = services().users.send_password_reset(uid, acting_admin(), gate=claim_reset_slot)
    return _done("reset", user, uid)


def _claims_refused(uid: str, form: ClaimsForm):
    """The user's page again, the editor holding the claims as typed and why
    they were refused."""
    return _user_page(services().users.show(uid, acting_admin()), claims_form=form, status=400)


@bp.post("/<uid>/claims")
@permission_required(USERS_CLAIMS)
@step_up_by_rule(USERS_CONSOLE_RULE)
def set_claims(uid: str):
    form = ClaimsForm()
    if not form.validate():
        return _claims_refused(uid, form)
    try:
        user = services().users.set_custom_claims(uid, form.claims.data or "", acting_admin())
    except InvalidClaims as refusal:
        # Back to the editor with the text as typed, and why it was refused.
        form.claims.errors.append(say(refusal))
        return _claims_refused(uid, form)
    return _done("claims", user, uid)


@bp.get("/<uid>/delete")
@permission_required(USERS_DELETE)
def confirm_delete(uid: str):
    detail = services().users.show(uid, acting_admin())
    return render_template("users/delete.html", user=detail.user, form=DeleteForm())


@bp.post("/<uid>/delete")
@permission_required(USERS_DELETE)
@step_up_by_rule(USERS_CONSOLE_RULE)
def delete(uid: str):
    form = DeleteForm()
    if not form.validate():
        raise InvalidInput(N_("Type the email address to confirm."))
    user = services().users.delete(uid, form.confirm.data or "", acting_admin())
    flash(_("%(user)s is deleted from Firebase Authentication.", user=user.label), "success")
    return redirect(url_for(".index"), code=303)
