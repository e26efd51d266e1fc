"""Views of the security page. Removing a factor, new recovery codes and a
new TOTP secret are dangerous (a stolen session could lock the owner out or
keep a way back in): they need a step-up (``adminapp/web/step_up.py``)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ...errors import InvalidInput
from ...services.second_factor import MAX_FACTOR_NAME, SecondFactorSessionOver, TooManyAttempts
from ..context import request_client, services
from ..guard import current_session, role_required
from ..i18n import say
from ..mfa.forms import TotpEnrolmentForm
from ..mfa.routes import _back_to_login, _enrolment_page
from ..step_up import step_up_required
from . import bp

# The passkey work adds this route (adding a passkey from a full session);
# the page links to it once it exists.
ADD_PASSKEY_ENDPOINT = "mfa.new_passkey"


class RenameForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give it a name.")), Length(max=MAX_FACTOR_NAME)],
    )


def _page(status: int = 200, *, error: str | None = None):
    current = current_session()
    second_factor = services().second_factor
    factors = second_factor.factors_of(current.admin.email)
    return render_template(
        "security/index.html",
        factors=[f for f in factors if f.counted],
        recovery_codes_left=second_factor.recovery_codes_left(factors),
        has_recovery_codes=any(f.kind == "recovery_codes" for f in factors),
        session=current.session,
        rename_form=RenameForm(),
        add_passkey=ADD_PASSKEY_ENDPOINT in current_app.view_functions,
        add_passkey_endpoint=ADD_PASSKEY_ENDPOINT,
        step_up_minutes=int(services().settings.step_up_window.total_seconds() // 60),
        error=error,
    ), status


def _done(message: str):
    flash(message, "success")
    return redirect(url_for(".index"), code=303)


@bp.get("")
@role_required("viewer")
def index():
    return _page()


@bp.post("/factors/<factor_id>/rename")
@role_required("viewer")
def rename_factor(factor_id: str):
    form = RenameForm()
    if not form.validate():
        return _page(400, error=" ".join(str(error) for error in form.name.errors))
    current = current_session()
    services().second_factor.rename(current.admin, factor_id, form.name.data, request_client())
    return _done(_("Renamed to “%(name)s”.", name=" ".join(form.name.data.split())))


@bp.post("/factors/<factor_id>/remove")
@role_required("viewer")
@step_up_required
def remove_factor(factor_id: str):
    current = current_session()
    removed = services().second_factor.remove(current.admin, factor_id, request_client())
    return _done(_("“%(name)s” is removed.", name=removed.name))


@bp.post("/recovery-codes")
@role_required("viewer")
@step_up_required
def regenerate_recovery_codes():
    codes = services().second_factor.regenerate_recovery_codes(
        current_session().admin, request_client()
    )
    return render_template(
        "mfa/recovery_codes.html", codes=codes, next_path=url_for(".index"), regenerated=True
    )


@bp.get("/totp")
@role_required("viewer")
@step_up_required
def new_totp():
    """A new authenticator key, on the enrolment page of the sign-in."""
    return _enrolment_page(TotpEnrolmentForm(), action=url_for(".confirm_totp"))


@bp.post("/totp")
@role_required("viewer")
@step_up_required
def confirm_totp():
    form = TotpEnrolmentForm()
    action = url_for(".confirm_totp")
    if not form.validate():
        return _enrolment_page(form, 400, action=action)
    current = current_session()
    try:
        services().second_factor.replace_totp(
            current.session, current.admin, form.enrolment.data, form.code.data, request_client()
        )
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return _back_to_login(say(refusal))
    except InvalidInput as refusal:
        form.code.errors.append(say(refusal))
        return _enrolment_page(form, 400, sealed=form.enrolment.data, action=action)
    return _done(_("Your authenticator app has a new key. The old one no longer works."))
