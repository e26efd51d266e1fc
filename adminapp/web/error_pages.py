"""Error pages and JSON errors for everything that can go wrong in a request."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, request, session
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from ..errors import Refused
from ..i18n_marks import N_
from ..logs import log_event
from .context import request_client
from .extensions import limiter
from .i18n import say, spell_duration, title_of, when
from .responses import error_response

log = logging.getLogger(__name__)

# What a person can do about each error, instead of Werkzeug's generic text.
_ADVICE = {
    400: N_("The request could not be understood. Reload the page and try again."),
    401: N_("Sign in to continue."),
    403: N_("You do not have access to this page."),
    404: N_("There is no page at this address."),
    405: N_("This address does not accept that kind of request."),
    409: N_("This clashes with a change made in the meantime. Reload the page and try again."),
    413: N_("The request is too large."),
    429: N_("Too many requests. Wait a moment and try again."),
    431: N_("The request headers are too large."),
    503: N_("The service is not available right now. Try again in a minute."),
}
SOMETHING_WENT_WRONG = N_("Something went wrong.")


# Flask-WTF's: the token a page carries is its session secret, signed.
_CSRF_SALT = "wtf-csrf-token"
_CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


def _cookie_not_returned() -> bool:
    """A CSRF token that we signed came with no CSRF secret at all: this
    browser loaded one of our pages, which set the secret's cookie, and
    that cookie did not come back. A proxy that strips cookies (Firebase
    Hosting keeps only __session) or a browser that refuses them; either
    way reloading cannot help, so say so instead of "reload"."""
    if "csrf_token" in session:
        return False
    token = request.form.get("csrf_token") or next(
        (request.headers[name] for name in _CSRF_HEADERS if name in request.headers), None
    )
    if not token:
        return False
    signer = URLSafeTimedSerializer(current_app.secret_key, salt=_CSRF_SALT)
    try:
        signer.loads(token, max_age=current_app.config["WTF_CSRF_TIME_LIMIT"])
    except BadData:
        return False
    return True


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        if _cookie_not_returned():
            log_event(
                "cookies_not_returned",
                path=request.path,
                ip=request_client().ip,
                cookie_mode=current_app.config["ADMINAPP_COOKIE_MODE"],
            )
            return error_response(
                400,
                _(
                    "Your browser did not send back the cookie this site set, so signing "
                    "in cannot work. If cookies are blocked for this site, allow them. "
                    "Otherwise tell whoever runs the site: something in front of the app "
                    "forwards only some cookies (Firebase Hosting forwards only "
                    "__session), so the app must run with COOKIE_MODE=hosting."
                ),
                "cookies_not_returned",
                title=_("The site's cookie did not come back"),
            )
        return error_response(
            400,
            _(
                "The form's security token is missing or has expired. "
                "Reload the page and try again."
            ),
            "csrf_failed",
            title=_("Please try again"),
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        wait = _seconds_until_reset()
        log_event(
            "rate_limited", limit=str(error.limit.limit), path=request.path, ip=request_client().ip
        )
        response = error_response(
            429,
            _(
                "Too many attempts. Try again in %(duration)s (at %(time)s).",
                duration=spell_duration(wait),
                time=when(datetime.now(UTC) + timedelta(seconds=wait)),
            ),
            "rate_limited",
            title=_("Too many attempts"),
        )
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(Refused)
    def refused(error: Refused):
        # Every refusal a service raises, in one shape: BackendUnavailable
        # is one too (fail closed: nobody gets in while we cannot check who
        # they are). Its message is translated here, for the reader.
        response = error_response(error.status, say(error), error.code, title=title_of(error))
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        # A view's own description (abort(400, description=...)) says more
        # than our generic advice; Werkzeug's stock text says less.
        custom = error.description and error.description != type(error).description
        message = error.description if custom else _(_ADVICE.get(status, SOMETHING_WENT_WRONG))
        response = error_response(status, message, _code(error))
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response(
            500, _("Something went wrong on our side. It has been logged."), "internal_error"
        )


def _code(error: HTTPException) -> str:
    return (error.name or "error").lower().replace(" ", "_")


def _seconds_until_reset() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    # The storage rounds reset times to whole seconds: never ask for more
    # than the limit's own window.
    window = current.limit.get_expiry()
    return max(1, min(window, math.ceil(current.reset_at - time.time())))
