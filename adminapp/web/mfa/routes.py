"""The challenge (``/admin/mfa``) and TOTP enrolment (``/admin/mfa/enrol``).

Each proof's rules are in ``adminapp/services/mfa/``; these views show the
forms (``pages.py``), map a wrong code to the form's error, and set the new
full session's cookie on success. Which page a session sees is its stage
(``services/mfa/stages.py``).
"""

from __future__ import annotations

from flask import redirect, render_template, url_for

from ...errors import InvalidInput
from ...services.mfa.refusals import SecondFactorSessionOver, TooManyAttempts
from ...services.mfa.stages import Stage, stage_of
from ..context import request_client, services
from ..guard import current_session, pending_allowed, self_service
from ..i18n import say
from ..step_up import step_up_by_rule, step_up_exempt
from . import bp
from .forms import RecoveryCodeForm, TotpEnrolmentForm, TotpForm
from .pages import (
    back_to_login,
    challenge_page,
    enrolment_page,
    next_path,
    prove,
    second_factor_limit,
    with_error,
    with_session,
)

THE_PROOF_ITSELF = "the second-factor proof itself"
FIRST_FACTOR = "the first factor of a pending session; anything else is refused by the stage rule"

# Why every signed-in admin may use these (guard.self_service).
OWN_FACTOR = "proves or sets up the caller's own second factor"


def _stage():
    current = current_session()
    return stage_of(current.session, current.admin, services().settings)


@bp.get("")
@self_service(OWN_FACTOR)
@pending_allowed
def challenge():
    stage = _stage()
    if stage is Stage.ENROL:
        return redirect(url_for(".enrol", next=next_path()))
    if stage is not Stage.CHALLENGE:
        return redirect(next_path())
    return challenge_page()


@bp.post("/totp")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_exempt(THE_PROOF_ITSELF)
def verify_totp():
    form = TotpForm()
    if not form.validate():
        return challenge_page(400, totp_form=form)
    current = current_session()
    return prove(
        lambda: services().totp.verify(
            current.session, current.admin, form.code.data, request_client()
        ),
        lambda error: challenge_page(400, totp_form=with_error(form, "code", error)),
    )


@bp.post("/recovery")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_exempt(THE_PROOF_ITSELF)
def verify_recovery_code():
    form = RecoveryCodeForm()
    if not form.validate():
        return challenge_page(400, recovery_form=form)
    current = current_session()
    return prove(
        lambda: services().recovery_codes.verify(
            current.session, current.admin, form.recovery_code.data, request_client()
        ),
        lambda error: challenge_page(400, recovery_form=with_error(form, "recovery_code", error)),
    )


@bp.get("/enrol")
@self_service(OWN_FACTOR)
@pending_allowed
def enrol():
    stage = _stage()
    if stage is Stage.CHALLENGE:
        return redirect(url_for(".challenge", next=next_path()))
    if stage is not Stage.ENROL:
        return redirect(next_path())
    return enrolment_page(TotpEnrolmentForm())


@bp.post("/enrol/totp")
@second_factor_limit
@self_service(OWN_FACTOR)
@pending_allowed
@step_up_by_rule(FIRST_FACTOR)
def confirm_totp():
    form = TotpEnrolmentForm()
    if not form.validate():
        return enrolment_page(form, 400)
    current = current_session()
    try:
        enrolled = services().totp.enrol_first(
            current.session,
            current.admin,
            form.enrolment.data,
            form.code.data,
            request_client(),
        )
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return back_to_login(say(refusal))
    except InvalidInput as refusal:
        # Same key again, so the app the admin just set up keeps working.
        form.code.errors.append(say(refusal))
        return enrolment_page(form, 400, sealed=form.enrolment.data)
    response = render_template(
        "mfa/recovery_codes.html", codes=enrolled.recovery_codes, next_path=next_path()
    )
    return with_session(enrolled.passed, response)
