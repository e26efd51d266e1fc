"""Password reset pages: ask for a link, then choose a new password.

Both are public (outside the guard). The request page answers the same for
every address (see services/password_reset.py); the confirmation page has the code in
its URL, so it sends no Referer and is never cached, and the code is
redacted from the logs (adminapp/log_redaction.py).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from datetime import UTC, datetime, timedelta

import limits
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...errors import Conflict, Refused
from ...i18n_marks import N_
from ...services.password_reset import CodeRefused, PasswordRefused
from ..background_work import answer_no_sooner_than
from ..context import request_client, services, session_cookie
from ..extensions import limiter
from ..guard import public
from ..headers import secret_in_url
from ..i18n import say, spell_duration, when
from ..responses import error_response
from . import bp
from .forms import MAX_CODE_LENGTH, EmailForm, NewPasswordForm

# A browser that posts the form twice (double click, reload) must not send
# two emails. Kept in the rate limiter's storage, so with Redis it holds
# across instances too.
DOUBLE_POST = limits.parse("1 per 2 minutes")
# Dropbox's password strength estimator, served from adminapp/static/vendor
# (pinned in package.json; tests/unit/test_vendored_js.py keeps them equal).
ZXCVBN_VERSION = "4.4.2"
ZXCVBN_PATH = f"vendor/zxcvbn/{ZXCVBN_VERSION}"
_CODE = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_CODE_LENGTH}}}$")
SENT = N_("If an admin account exists for that address, a link is on its way.")
# With CPU only during requests the email is sent before the page answers,
# and the page answers at this floor, admin or not (web/background_work.py):
# longer than a lookup and a send take, so it is the floor that shows.
RESET_ANSWER_SECONDS = 2.0


def _per_ip() -> str:
    return services().settings.reset_rate_limit_per_ip


def _per_email() -> str:
    return services().settings.reset_rate_limit_per_email


def _email_key() -> str:
    return reset_email_key(request.form.get("email") or "")


def reset_email_key(email: str) -> str:
    # Hashed: rate-limit storage (Redis) need not hold addresses.
    raw = email.strip().lower()[:512]
    return "reset-email:" + hashlib.sha256(raw.encode()).hexdigest()


class ResetLimited(Refused):
    """RESET_RATE_LIMIT_PER_EMAIL is spent for this address (429): when to
    try again, as the rate limiter's own 429 says it."""

    status = 429
    code = "rate_limited"
    title = N_("Too many attempts")

    def __init__(self, wait: int):
        super().__init__(
            N_(
                "Too many reset emails went to this address. Try again in %(duration)s "
                "(at %(time)s)."
            ),
            params={
                "duration": spell_duration(wait),
                "time": when(datetime.now(UTC) + timedelta(seconds=wait)),
            },
        )
        self.retry_after = wait


def claim_reset_slot(email: str) -> None:
    """The per-email limit (RESET_RATE_LIMIT_PER_EMAIL) and the double-submit
    guard, for a reset sent on an admin's behalf (the users console): one
    more email to ``email`` is allowed, or a refusal is raised. The
    double-submit key is the reset form's own, so the form and the console
    together send at most one email per address in two minutes."""
    key = reset_email_key(email)
    for limit in limits.parse_many(_per_email()):
        if not limiter.limiter.hit(limit, "reset-console-email", key):
            raise ResetLimited(_seconds_until_reset(limit, "reset-console-email", key))
    if not limiter.limiter.hit(DOUBLE_POST, "reset-double-post", key):
        raise Conflict(
            N_("A reset email went to this address a moment ago."), code="duplicate_request"
        )


def _seconds_until_reset(limit: limits.RateLimitItem, *identifiers: str) -> int:
    reset_at = limiter.limiter.get_window_stats(limit, *identifiers).reset_time
    # Never more than the limit's own window (the storage rounds to seconds).
    return max(1, min(limit.get_expiry(), math.ceil(reset_at - time.time())))


@bp.route("/resetpassword", methods=["GET", "POST"])
@limiter.limit(_per_ip, methods=["POST"], scope="reset-request-ip")
@limiter.limit(_per_email, key_func=_email_key, methods=["POST"], scope="reset-request-email")
@public
def reset_request():
    form = EmailForm()
    if request.method == "GET":
        return render_template("auth/reset_request.html", form=form)
    if not form.validate():
        return render_template("auth/reset_request.html", form=form), 400
    email = form.email.data
    if not limiter.limiter.hit(DOUBLE_POST, "reset-double-post", _email_key()):
        return error_response(
            409,
            _("This request was already received a moment ago.") + " " + _(SENT),
            "duplicate_request",
            title=_("Already on its way"),
        )
    answer_no_sooner_than(RESET_ANSWER_SECONDS)
    services().resets.request(email, request_client())
    return render_template("auth/reset_sent.html", message=_(SENT))


@bp.route("/resetpassword/confirm", methods=["GET", "POST"])
@limiter.limit(_per_ip, scope="reset-confirm-ip")
@public
@secret_in_url
def reset_confirm():
    form = NewPasswordForm()
    posted = request.method == "POST"
    code = (form.oob_code.data if posted else request.args.get("oobCode")) or ""
    # Firebase's own action links add mode=…; only a reset code belongs here.
    if request.args.get("mode", "resetPassword") != "resetPassword" or not _CODE.match(code):
        return _invalid(_("This link is not a password reset link. Ask for a new one below."))
    try:
        email = services().resets.check(code)
    except CodeRefused as refusal:
        return _invalid(say(refusal))
    if not posted:
        form.oob_code.data = code
        return _confirm_page(form, email)
    if not form.validate():
        return _confirm_page(form, email), 400
    try:
        services().resets.complete(code, form.password.data, request_client())
    except CodeRefused as refusal:
        return _invalid(say(refusal))
    except PasswordRefused as refusal:
        form.password.errors.append(say(refusal))
        return _confirm_page(form, email), 400
    flash(
        _(
            "Your password has been changed and every session of your account has been "
            "signed out. Sign in with the new password."
        ),
        "success",
    )
    response = redirect(url_for("auth.login"), code=303)
    session_cookie().clear_on(response)
    return response


def _invalid(message: str):
    return render_template("auth/reset_invalid.html", message=message, form=EmailForm()), 400


def _confirm_page(form: NewPasswordForm, email: str) -> str:
    return render_template(
        "auth/reset_confirm.html", form=form, email=email, zxcvbn_path=ZXCVBN_PATH
    )
