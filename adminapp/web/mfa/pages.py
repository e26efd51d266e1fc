"""The second factor's pages, rendered for any view that needs them: the
challenge (the sign-in's, or the step-up prompt), the TOTP enrolment page
(the sign-in's, or the security page's new key), and what follows a proof.

Kept apart from the views so that the challenge's views, the passkey views,
the step-up prompt and the security page all use one copy and none imports
another's module.
"""

from __future__ import annotations

import segno
from flask import flash, make_response, redirect, render_template, request, url_for

from ...errors import InvalidInput
from ...services.mfa.recovery_codes import recovery_codes_left
from ...services.mfa.refusals import SecondFactorSessionOver, TooManyAttempts
from ...services.mfa.steps import Passed
from ..context import services, session_cookie
from ..extensions import limiter
from ..guard import current_session
from ..i18n import say
from ..redirects import safe_next
from .forms import RecoveryCodeForm, TotpEnrolmentForm, TotpForm

# The POSTs that try a factor share the per-IP sign-in limit
# (SIGN_IN_RATE_LIMIT), counted apart from the exchange's.
second_factor_limit = limiter.shared_limit(
    lambda: services().settings.sign_in_rate_limit, scope="second-factor", methods=["POST"]
)


def next_path() -> str:
    return safe_next(request.values.get("next"))


def challenge_page(
    status: int = 200, *, totp_form=None, recovery_form=None, error=None, next_path_=None
):
    current = current_session()
    factors = services().own_factors.of(current.admin.email)
    return render_template(
        "mfa/challenge.html",
        next_path=next_path_ or next_path(),
        totp_form=totp_form or TotpForm(),
        recovery_form=recovery_form or RecoveryCodeForm(),
        has_totp=any(f.kind == "totp" for f in factors),
        has_passkey=any(f.kind == "passkey" for f in factors),
        recovery_codes_left=recovery_codes_left(factors),
        step_up=not current.session.mfa_pending,
        error=error,
    ), status


def enrolment_page(
    form: TotpEnrolmentForm,
    status: int = 200,
    *,
    sealed: str | None = None,
    action: str | None = None,
):
    """The TOTP enrolment page: a new key (QR code and text), or, after a
    wrong code, the same key again (``sealed``), so that the app the admin
    just set up keeps working."""
    current = current_session()
    if sealed is None:
        enrolment = services().totp.new_enrolment(current.session)
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
        next_path=next_path(),
        # Where the form confirms: the sign-in's enrolment, or the security
        # page's new key (adminapp/web/security).
        action=action or url_for("mfa.confirm_totp", next=next_path()),
        replacing=action is not None,
    ), status


def prove(attempt, show_error):
    """Run a proof; on success continue to ``next`` with the new session's
    cookie (a completed sign-in), on a wrong answer show ``show_error``."""
    try:
        passed = attempt()
    except (TooManyAttempts, SecondFactorSessionOver) as refusal:
        return back_to_login(say(refusal))
    except InvalidInput as refusal:
        return show_error(say(refusal))
    return with_session(passed, redirect(next_path(), code=303))


def with_session(passed: Passed | None, response):
    """Set the new full session's cookie (a completed sign-in), if any."""
    response = make_response(response)
    if passed is not None and passed.claims is not None:
        session_cookie().set_on(response, passed.claims, passed.session.expires_at)
    return response


def with_error(form, field: str, message: str):
    getattr(form, field).errors = [message]
    return form


def back_to_login(message: str):
    response = redirect(url_for("auth.login"), code=303)
    session_cookie().clear_on(response)
    flash(message, "notice")
    return response
