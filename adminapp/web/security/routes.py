"""Views of the security page. Removing a factor, new recovery codes and a
new TOTP secret are dangerous (a stolen session could lock the owner out or
keep a way back in): they need a step-up (``adminapp/web/step_up.py``), as
adding any factor does (``services/mfa/stages.py``)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ...errors import InvalidInput
from ...services.mfa.own_factors import MAX_FACTOR_NAME
from ...services.mfa.recovery_codes import recovery_codes_left
from ...services.mfa.refusals import SecondFactorSessionOver, TooManyAttempts
from ..context import request_client, services
from ..guard import current_session, self_service
from ..i18n import say
from ..mfa.forms import TotpEnrolmentForm
from ..mfa.pages import back_to_login, enrolment_page
from ..permissions import held
from ..step_up import step_up_exempt, step_up_required
from . import bp

# The passkey work adds this route (adding a passkey from a full session);
# the page links to it once it exists.
ADD_PASSKEY_ENDPOINT = "mfa.new_passkey"

# Why every signed-in admin may use these (guard.self_service).
OWN_FACTORS = "the caller's own factors and recovery codes"


class RenameForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give it a name.")), Length(max=MAX_FACTOR_NAME)],
    )


def _page(status: int = 200, *, error: str | None = None):
    current = current_session()
    factors = services().own_factors.of(current.admin.email)
    return render_template(
        "security/index.html",
        factors=[f for f in factors if f.counted],
        recovery_codes_left=recovery_codes_left(factors),
        has_recovery_codes=any(f.kind == "recovery_codes" for f in factors),
        session=current.session,
        rename_form=RenameForm(),
        add_passkey=ADD_PASSKEY_ENDPOINT in current_app.view_functions,
        add_passkey_endpoint=ADD_PASSKEY_ENDPOINT,
        step_up_minutes=int(services().settings.step_up_window.total_seconds() // 60),
        # Firebase's own factors count here only when the setting is on.
        firebase_factors=(
            services().firebase_factors.enrolments(current.admin)
            if services().settings.accept_firebase_second_factor
            else None
        ),
        error=error,
    ), status


def _done(message: str):
    flash(message, "success")
    return redirect(url_for(".index"), code=303)


@bp.get("")
@self_service(OWN_FACTORS)
def index():
    return _page()


@bp.post("/factors/<factor_id>/rename")
@self_service(OWN_FACTORS)
@step_up_exempt("a factor's name is a label for its owner; it proves or opens nothing")
def rename_factor(factor_id: str):
    form = RenameForm()
    if not form.validate():
        return _page(400, error=" ".join(str(error) for error in form.name.errors))
    current = current_session()
    services().own_factors.rename(current.admin, factor_id, form.name.data, request_client())
    return _done(_("Renamed to “%(name)s”.", name=" ".join(form.name.data.split())))


@bp.post("/factors/<factor_id>/remove")
@self_service(OWN_FACTORS)
@step_up_required
def remove_factor(factor_id: str):
    current = current_session()
    removed = services().own_factors.remove(current.admin, factor_id, request_client())
    return _done(_("“%(name)s” is removed.", name=removed.name))


@bp.post("/firebase-factors/<enrolment_id>/trust")
@self_service(OWN_FACTORS)
@step_up_required
def trust_firebase_factor(enrolment_id: str):
    """Trust one of one's own Firebase second factors, from a full session
    with a fresh proof: it then counts as the second factor here."""
    me = current_session().admin
    services().firebase_factors.trust(
        me.email, enrolment_id, actor=me.email, client=request_client(), holds=held()
    )
    return _done(_("This second factor of your Firebase account now counts here."))


@bp.post("/firebase-factors/<enrolment_id>/distrust")
@self_service(OWN_FACTORS)
@step_up_required
def distrust_firebase_factor(enrolment_id: str):
    me = current_session().admin
    services().firebase_factors.distrust(
        me.email, enrolment_id, actor=me.email, client=request_client(), holds=held()
    )
    return _done(_("This second factor of your Firebase account no longer counts here."))


@bp.post("/recovery-codes")
@self_service(OWN_FACTORS)
@step_up_required
def regenerate_recovery_codes():
    current = current_session()
    codes = services().recovery_codes.regenerate(current.session, current.admin, request_client())
    return render_template(
        "mfa/recovery_codes.html", codes=codes, next_path=url_for(".index"), regenerated=True
    )


@bp.get("/totp")
@self_service(OWN_FACTORS)
@step_up_required
def new_totp():
    """A new authenticator key, on the enrolment page of the sign-in."""
    return enrolment_page(TotpEnrolmentForm(), action=url_for(".confirm_totp"))


@bp.post("/totp")
@self_service(OWN_FACTORS)
@step_up_required
def confirm_totp():
    form = TotpEnrolmentForm()
    action = url_for(".confirm_totp")
    if not form.validate():
        return enrolment_page(form, 400, action=action)
    current = current_session()
    try:
        services().totp.replace(
            current.session, current.admin, form.enrolment.data, form.code.data, request_client()
        )
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return back_to_login(say(refusal))
    except InvalidInput as refusal:
        form.code.errors.append(say(refusal))
        return enrolment_page(form, 400, sealed=form.enrolment.data, action=action)
    return _done(_("Your authenticator app has a new key. The old one no longer works."))
