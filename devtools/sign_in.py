"""Signing in to the app as its login page's script does, for the tests and the bench.

The exchange, written once: an ID token (from the Auth emulator, see
:func:`devtools.emulators.password_sign_in`) goes to ``POST /admin/session``
with the CSRF token the login page hands to its script, the CSRF cookie the
page set, and the page's Origin; the answer sets our session cookie.

Callers differ only in how they speak HTTP, so they pass a :class:`Browser`:
:class:`LiveBrowser` for a running server (the multi-instance tests, ``make
bench``), and an adapter around Flask's test client in
``tests/support/web.py``.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import requests

LOGIN_PAGE = "/admin/login"
EXCHANGE = "/admin/session"
# The session cookie's names (adminapp/web/cookie.py): __Host- prefixed when
# it is Secure, as in production; plain when SESSION_COOKIE_SECURE=false.
SESSION_COOKIE = "__Host-admin_session"
INSECURE_SESSION_COOKIE = "admin_session"
HTTP_TIMEOUT = 10
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# Default of ``origin`` below: the browser's own origin, as the page sends it.
PAGE_ORIGIN = "the page's own origin"


class Browser(Protocol):
    """An HTTP client on one site that keeps the cookies the site sets.

    Responses need only ``status_code`` and ``text``.
    """

    origin: str  # the site's origin, which the page's script sends as Origin

    def get(self, path: str) -> Any: ...

    def post(self, path: str, *, headers: dict[str, str], json: dict | None = None) -> Any: ...

    def cookie(self, name: str) -> str | None:
        """The value of a cookie the site has set, or None."""


def csrf_token(browser: Browser) -> str:
    """Load the login page, which sets the CSRF cookie in ``browser``, and
    return the CSRF token it hands to its script."""
    match = _CSRF_META.search(browser.get(LOGIN_PAGE).text)
    if match is None:
        raise AssertionError("the login page has no CSRF token")
    return match.group(1)


def exchange_headers(
    browser: Browser,
    id_token: str | None = None,
    *,
    csrf: bool = True,
    origin: str | None = PAGE_ORIGIN,
    authorization: str | None = None,
) -> dict[str, str]:
    """The headers of ``POST /admin/session`` as the login page's script sends
    them. Tests probe the refusals with the keywords: ``csrf=False`` leaves
    out the CSRF token, ``origin`` replaces the Origin (None leaves it out),
    ``authorization`` replaces the whole Authorization header."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif id_token is not None:
        headers["Authorization"] = f"Bearer {id_token}"
    if csrf:
        headers["X-CSRFToken"] = csrf_token(browser)
    if origin is not None:
        headers["Origin"] = browser.origin if origin == PAGE_ORIGIN else origin
    return headers


def exchange(
    browser: Browser,
    id_token: str | None,
    *,
    next_path: str | None = None,
    csrf: bool = True,
    origin: str | None = PAGE_ORIGIN,
    authorization: str | None = None,
) -> Any:
    """``POST /admin/session`` as the login page's script does; the response.
    The other keywords are :func:`exchange_headers`' refusal probes."""
    headers = exchange_headers(
        browser, id_token, csrf=csrf, origin=origin, authorization=authorization
    )
    return browser.post(EXCHANGE, headers=headers, json={"next": next_path})


def sign_in(browser: Browser, id_token: str, *, cookie_name: str = SESSION_COOKIE) -> str:
    """Complete a sign-in with ``id_token`` and return the session cookie's
    value (``browser`` keeps it too).

    This is where tests and the bench get a signed-in session, and the one
    place that knows every step of a sign-in: when a step is added after the
    exchange (a second factor), it is completed here, and callers still
    receive a cookie that opens the admin pages.
    """
    response = exchange(browser, id_token)
    if response.status_code != 200:
        raise AssertionError(f"sign-in refused: {response.status_code} {response.text}")
    value = browser.cookie(cookie_name)
    if value is None:
        raise AssertionError(f"sign-in answered 200 but set no {cookie_name} cookie")
    return value


class LiveBrowser:
    """A :class:`Browser` for a server running on plain-HTTP loopback.

    It keeps and sends cookies by hand: requests' cookie jar withholds Secure
    (and so ``__Host-``) cookies from ``http://`` URLs, and the tests' app
    processes set them Secure, as production does. Redirects are not
    followed, so that a test sees them. Cookies the site deletes are not
    forgotten: use a fresh one per session.
    """

    def __init__(self, url: str, cookies: dict[str, str] | None = None):
        self.origin = url
        self.cookies: dict[str, str] = dict(cookies or {})

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def cookie(self, name: str) -> str | None:
        return self.cookies.get(name)

    def get(self, path: str, *, headers: dict[str, str] | None = None) -> requests.Response:
        return self._send("GET", path, headers or {})

    def post(
        self,
        path: str,
        *,
        headers: dict[str, str],
        json: dict | None = None,
        data: dict | None = None,
    ) -> requests.Response:
        return self._send("POST", path, headers, json=json, data=data)

    def _send(self, method: str, path: str, headers: dict[str, str], **kwargs) -> requests.Response:
        if self.cookies:
            headers = {**headers, "Cookie": self.cookie_header()}
        response = requests.request(
            method,
            self.origin + path,
            headers=headers,
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
            **kwargs,
        )
        self.cookies.update(response.cookies)
        return response
