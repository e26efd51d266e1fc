"""The challenge (``/admin/mfa``) and TOTP enrolment (``/admin/mfa/enrol``).

Each proof's rules are in ``adminapp/services/second_factor.py``; these views
show the forms, map a wrong code to the form's error, and set the new full
session's cookie on success. The POSTs share the per-IP sign-in rate limit
(SIGN_IN_RATE_LIMIT), counted apart from the exchange's.
"""

from __future__ import annotations

import segno
from flask import flash, make_response, redirect, render_template, request, url_for

from ...errors import InvalidInput
from ...services.second_factor import (
    Passed,
    SecondFactorSessionOver,
    TooManyAttempts,
)
from ..context import request_client, services, session_cookie
from ..extensions import limiter
from ..guard import current_session, pending_allowed, role_required
from ..i18n import say
from ..redirects import safe_next
from . import bp, step_up  # noqa: F401  (step_up registers its views on bp)
from .forms import RecoveryCodeForm, TotpEnrolmentForm, TotpForm

second_factor_limit = limiter.shared_limit(
    lambda: services().settings.sign_in_rate_limit, scope="second-factor", methods=["POST"]
)


def _next() -> str:
    return safe_next(request.values.get("next"))


def _challenge_page(
    status: int = 200, *, totp_form=None, recovery_form=None, error=None, next_path=None
):
    current = current_session()
    factors = services().second_factor.factors_of(current.admin.email)
    return render_template(
        "mfa/challenge.html",
        next_path=next_path or _next(),
        totp_form=totp_form or TotpForm(),
        recovery_form=recovery_form or RecoveryCodeForm(),
        has_totp=any(f.kind == "totp" for f in factors),
        has_passkey=any(f.kind == "passkey" for f in factors),
        recovery_codes_left=services().second_factor.recovery_codes_left(factors),
        step_up=not current.session.mfa_pending,
        error=error,
    ), status


@bp.get("")
@role_required("viewer")
@pending_allowed
def challenge():
    current = current_session()
    if not current.session.mfa_pending:
        return redirect(_next())
    factors = services().second_factor.factors_of(current.admin.email)
    if not services().second_factor.has_factor(factors):
        return redirect(url_for(".enrol", next=_next()))
    return _challenge_page()


@bp.post("/totp")
@second_factor_limit
@role_required("viewer")
@pending_allowed
def verify_totp():
    form = TotpForm()
    if not form.validate():
        return _challenge_page(400, totp_form=form)
    current = current_session()
    return _prove(
        lambda: services().second_factor.verify_totp(
            current.session, current.admin, form.code.data, request_client()
        ),
        lambda error: _challenge_page(400, totp_form=_with_error(form, "code", error)),
    )


@bp.post("/recovery")
@second_factor_limit
@role_required("viewer")
@pending_allowed
def verify_recovery_code():
    form = RecoveryCodeForm()
    if not form.validate():
        return _challenge_page(400, recovery_form=form)
    current = current_session()
    return _prove(
        lambda: services().second_factor.verify_recovery_code(
            current.session, current.admin, form.recovery_code.data, request_client()
        ),
        lambda error: _challenge_page(400, recovery_form=_with_error(form, "recovery_code", error)),
    )


@bp.get("/enrol")
@role_required("viewer")
@pending_allowed
def enrol():
    current = current_session()
    if not current.session.mfa_pending:
        return redirect(_next())
    factors = services().second_factor.factors_of(current.admin.email)
    if services().second_factor.has_factor(factors):
        return redirect(url_for(".challenge", next=_next()))
    return _enrolment_page(TotpEnrolmentForm())


@bp.post("/enrol/totp")
@second_factor_limit
@role_required("viewer")
@pending_allowed
def confirm_totp():
    form = TotpEnrolmentForm()
    if not form.validate():
        return _enrolment_page(form, 400)
    current = current_session()
    try:
        enrolled = services().second_factor.confirm_totp(
            current.session,
            current.admin,
            form.enrolment.data,
            form.code.data,
            request_client(),
        )
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return _back_to_login(say(refusal))
    except InvalidInput as refusal:
        # Same key again, so the app the admin just set up keeps working.
        form.code.errors.append(say(refusal))
        return _enrolment_page(form, 400, sealed=form.enrolment.data)
    response = render_template(
        "mfa/recovery_codes.html", codes=enrolled.recovery_codes, next_path=_next()
    )
    return _with_session(enrolled.passed, response)


def _enrolment_page(
    form: TotpEnrolmentForm,
    status: int = 200,
    *,
    sealed: str | None = None,
    action: str | None = None,
):
    current = current_session()
    if sealed is None:
        enrolment = services().second_factor.new_totp(current.session)
        form.enrolment.data = enrolment.sealed
        secret, uri = enrolment.secret, enrolment.uri
    else:
        secret = uri = None  # shown once; reload the page for a new key
    form.code.data = ""
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2) if uri else None
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) if secret else None
    return render_template(
        "mfa/enrol.html",
        form=form,
        qr=qr,
        secret=grouped,
        next_path=_next(),
        # Where the form confirms: the sign-in's enrolment, or the security
        # page's new key (adminapp/web/security).
        action=action or url_for(".confirm_totp", next=_next()),
        replacing=action is not None,
    ), status


def _prove(attempt, show_error):
    try:
        passed = attempt()
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return _back_to_login(say(refusal))
    except InvalidInput as refusal:
        return show_error(say(refusal))
    return _with_session(passed, redirect(_next(), code=303))


def _with_session(passed: Passed, response):
    """Set the new full session's cookie (a completed sign-in), if any."""
    response = make_response(response)
    if passed.claims is not None:
        session_cookie().set_on(response, passed.claims, passed.session.expires_at)
    return response


def _with_error(form, field: str, message: str):
    getattr(form, field).errors = [message]
    return form


def _back_to_login(message: str):
    response = redirect(url_for("auth.login"), code=303)
    session_cookie().clear_on(response)
    flash(message, "notice")
    return response
