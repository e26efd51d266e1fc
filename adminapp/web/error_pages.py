"""Error pages and JSON errors for everything that can go wrong in a request."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import Refused
from ..firebase.audit import log_event
from .context import request_client
from .extensions import limiter
from .responses import error_response

log = logging.getLogger(__name__)

# What a person can do about each error, instead of Werkzeug's generic text.
_ADVICE = {
    400: "The request could not be understood. Reload the page and try again.",
    401: "Sign in to continue.",
    403: "You do not have access to this page.",
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
    413: "The request is too large.",
    431: "The request headers are too large.",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        return error_response(
            400,
            "The form's security token is missing or has expired. Reload the page and try again.",
            "csrf_failed",
            title="Please try again",
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        wait = _seconds_until_reset()
        log_event(
            "rate_limited", limit=str(error.limit.limit), path=request.path, ip=request_client().ip
        )
        response = error_response(
            429,
            f"Too many attempts. Try again in {_spell_duration(wait)}.",
            "rate_limited",
            title="Too many attempts",
        )
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(Refused)
    def refused(error: Refused):
        # Every refusal a service raises, in one shape: BackendUnavailable
        # is one too (fail closed: nobody gets in while we cannot check who
        # they are).
        response = error_response(error.status, error.message, error.code, title=error.title)
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
        message = error.description if custom else _ADVICE.get(status, "Something went wrong.")
        response = error_response(status, message, _code(error))
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response(
            500, "Something went wrong on our side. It has been logged.", "internal_error"
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


def _spell_duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
