"""Driving the app through Flask's test client the way the login page does.

The exchange itself is ``adminapp/testing/sign_in.py`` (shared with the
multi-instance tests and the bench), and ``adminapp/testing/flask_client.py``
adapts Flask's test client to it; this module adds what only adminapp's own
tests probe (a forged cookie, the exchange's refusals).
"""

from __future__ import annotations

from adminapp.testing import sign_in as signing_in
from adminapp.testing.flask_client import (
    ORIGIN,
    FlaskClientBrowser,
    csrf_token,
    open_session,
    post_form,
    sign_in,
    sign_in_with_token,
)
from adminapp.testing.sign_in import PAGE_ORIGIN, SESSION_COOKIE
from tests.support.cookies import SESSION, carrier, present

# What adminapp.testing.flask_client defines, for the tests that import it here.
__all__ = [
    "ORIGIN",
    "SESSION_COOKIE",
    "FlaskClientBrowser",
    "csrf_token",
    "open_session",
    "post_form",
    "sign_in",
    "sign_in_with_token",
]  # and what is defined here


def exchange(
    client,
    id_token: str | None,
    *,
    csrf: bool = True,
    origin: str | None = PAGE_ORIGIN,
    next_path: str | None = None,
    authorization: str | None = None,
):
    """POST /admin/session as login.js does (see adminapp.testing.sign_in.exchange)."""
    return signing_in.exchange(
        FlaskClientBrowser(client),
        id_token,
        next_path=next_path,
        csrf=csrf,
        origin=origin,
        authorization=authorization,
    )


def session_cookie(client):
    """The session cookie the client holds (in either cookie mode): its
    ``value`` is the session's, its attributes those of the cookie that
    carries it; None when signed out."""
    return carrier(client, SESSION)


def present_session(client, value: str) -> None:
    """Make the client send ``value`` as its session cookie (a forged,
    replayed or foreign one), in either cookie mode."""
    present(client, SESSION, value)
