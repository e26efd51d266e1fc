"""Flask's test client driven the way the login page drives the app: the
sign-in exchange of :mod:`adminapp.testing.sign_in`, and forms with their
CSRF token."""

from __future__ import annotations

from adminapp.testing import sign_in as signing_in
from adminapp.testing.opened_sessions import open_session as open_through_services

ORIGIN = "http://localhost"  # Flask's test client's default host


class FlaskClientBrowser:
    """Flask's test client as a :class:`adminapp.testing.sign_in.Browser`: it
    keeps cookies itself, so the adapter only reads them out."""

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


def sign_in(client, auth_emulator, email: str) -> str:
    """Sign in an existing admin's Firebase user through the real exchange
    and second factor; the session cookie's value."""
    return sign_in_with_token(client, auth_emulator.sign_in(email))


def sign_in_with_token(client, id_token: str) -> str:
    """The exchange and the second factor for a given ID token (a tenant's,
    a provider's); the session cookie's value."""
    return signing_in.sign_in(FlaskClientBrowser(client), id_token)


def open_session(client, email: str, uid: str) -> str:
    """A full session of an existing admin made by the services, not by a
    sign-in (:mod:`adminapp.testing.opened_sessions`), set in ``client``;
    the session cookie's value. For tests whose subject is not the sign-in."""
    app = client.application
    claims = open_through_services(app, email, uid, origin=ORIGIN)
    settings = app.extensions["adminapp"].settings
    cookies = signing_in.session_cookies(settings, claims)
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return next(iter(cookies.values()))


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """Submit a form of the admin pages, CSRF token included."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)
