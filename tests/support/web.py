"""Driving the app through Flask's test client the way the login page does.

The exchange itself is ``devtools/sign_in.py`` (shared with the
multi-instance tests and the bench); this module adapts Flask's test client
to it.
"""

from __future__ import annotations

from devtools import sign_in as signing_in
from devtools.sign_in import PAGE_ORIGIN, SESSION_COOKIE
from tests.support.cookies import SESSION, carrier, present

__all__ = ["SESSION_COOKIE"]  # and what is defined here

ORIGIN = "http://localhost"  # Flask's test client's default host


class FlaskClientBrowser:
    """Flask's test client as a :class:`devtools.sign_in.Browser`: it keeps
    cookies itself, so the adapter only reads them out."""

    origin = ORIGIN

    def __init__(self, client):
        self._client = client

    def get(self, path: str):
        return self._client.get(path)

    def post(self, path: str, *, headers: dict[str, str], json: dict | None = None):
        return self._client.post(path, headers=headers, json=json)

    def post_form(self, path: str, data: dict[str, str]):
        return self._client.post(path, data=data, headers={"Origin": ORIGIN})

    def cookie(self, name: str) -> str | None:
        cookie = self._client.get_cookie(name)
        return cookie.value if cookie is not None else None


def csrf_token(client) -> str:
    """The CSRF token the login page hands to its script."""
    return signing_in.csrf_token(FlaskClientBrowser(client))


def exchange(
    client,
    id_token: str | None,
    *,
    csrf: bool = True,
    origin: str | None = PAGE_ORIGIN,
    next_path: str | None = None,
    authorization: str | None = None,
):
    """POST /admin/session as login.js does (see devtools.sign_in.exchange)."""
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


def sign_in(client, auth_emulator, email: str) -> str:
    """Sign in an existing admin's Firebase user through the real exchange;
    the session cookie's value."""
    return sign_in_with_token(client, auth_emulator.sign_in(email))


def sign_in_with_token(client, id_token: str) -> str:
    """The exchange and the second factor for a given ID token (a tenant's,
    a provider's); the session cookie's value."""
    return signing_in.sign_in(FlaskClientBrowser(client), id_token)


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """Submit a form of the admin pages, CSRF token included."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)
