"""Signing in to the app as its login page's script does, for the tests and the bench.

The exchange, written once: an ID token (from the Auth emulator, see
:func:`adminapp.testing.emulator_control.password_sign_in`) goes to ``POST /admin/session``
with the CSRF token the login page hands to its script, the CSRF cookie the
page set, and the page's Origin; the answer sets our session cookie.

Callers differ only in how they speak HTTP, so they pass a :class:`Browser`:
:class:`LiveBrowser` for a running server (the multi-instance tests, ``make
bench``), and an adapter around Flask's test client in
``tests/support/web.py``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from html import unescape
from typing import Any, Protocol
from urllib.parse import urlsplit

import pyotp
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from adminapp.config import Settings
from adminapp.domain.sessions import CookieClaims
from adminapp.web.cookie import SessionCookie
from adminapp.web.cookie_jar import SESSION, CookieJar, make_cookie_jar

LOGIN_PAGE = "/admin/login"
EXCHANGE = "/admin/session"
# The session cookie's names (adminapp/web/cookie.py): __Host- prefixed when
# it is Secure, as in production; plain when SESSION_COOKIE_SECURE=false.
SESSION_COOKIE = "__Host-admin_session"
INSECURE_SESSION_COOKIE = "admin_session"
# COOKIE_MODE=hosting: the session travels inside the one cookie Firebase
# Hosting forwards, with the app's other cookies.
HOSTING_COOKIE = "__session"
HTTP_TIMEOUT = 10
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# Default of ``origin`` below: the browser's own origin, as the page sends it.
PAGE_ORIGIN = "the page's own origin"


class Browser(Protocol):
    """An HTTP client on one site that keeps the cookies the site sets.

    Responses need only ``status_code``, ``text`` and ``headers``.
    """

    origin: str  # the site's origin, which the page's script sends as Origin

    def get(self, path: str) -> Any: ...

    def post(self, path: str, *, headers: dict[str, str], json: dict | None = None) -> Any: ...

    def post_form(self, path: str, data: dict[str, str]) -> Any:
        """Submit an HTML form (url-encoded) as the browser would."""

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


def sign_in(browser: Browser, id_token: str, *, cookie_name: str | None = None) -> str:
    """Complete a sign-in with ``id_token`` and return the session cookie's
    value (``browser`` keeps it too): ``cookie_name``'s, or by default
    ``__Host-admin_session``'s or, behind Hosting's cookie mode, ``__session``'s.

    This is where tests and the bench get a signed-in session, and the one
    place that knows every step of a sign-in: after the exchange it
    completes the second factor (:func:`complete_second_factor`), so callers
    still receive a cookie that opens the admin pages.
    """
    response = exchange(browser, id_token)
    if response.status_code != 200:
        raise AssertionError(f"sign-in refused: {response.status_code} {response.text}")
    destination = json.loads(response.text)["redirect"]
    if destination.startswith(CHALLENGE):
        complete_second_factor(browser, _email_of(id_token), destination)
    names = (cookie_name,) if cookie_name else (SESSION_COOKIE, HOSTING_COOKIE)
    for name in names:
        value = browser.cookie(name)
        if value is not None:
            return value
    raise AssertionError(f"sign-in answered 200 but set no {' or '.join(names)} cookie")


# -- the second factor -----------------------------------------------------------

CHALLENGE = "/admin/mfa"
_FORM_FIELD = re.compile(r'<input[^>]*name="(csrf_token|enrolment)"[^>]*value="([^"]*)"')
_TOTP_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
_RECOVERY_CODE = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")


# The app accepts the code of the current 30-second step and of one step
# either side, and each step once. A code is checked a moment after it is
# made: milliseconds on a quiet machine, seconds on a loaded one. The current
# step's code stays good for at least 30 more seconds and the next step's
# for 60, but the previous step's only for what is left of the current one:
# spend it only while this many seconds of it remain.
PREVIOUS_STEP_MARGIN = 12


@dataclass
class Authenticator:
    """The authenticator app this module set up for one admin of one site:
    its TOTP secret, the last 30-second step it spent (the app never
    accepts a code twice), and the recovery codes it was shown."""

    secret: str
    last_step: int
    recovery_codes: list[str] = field(default_factory=list)

    def spare_code(self) -> str | None:
        """A code the app has not seen yet and will still accept when it
        arrives: the step after the last one spent, no earlier than one step
        ago (and only with PREVIOUS_STEP_MARGIN seconds of that left), no
        later than one step ahead. None when all of them are spent."""
        totp = pyotp.TOTP(self.secret)
        now = time.time()
        current = int(now) // totp.interval
        left_in_current = totp.interval - now % totp.interval
        earliest = current - 1 if left_in_current > PREVIOUS_STEP_MARGIN else current
        step = max(earliest, self.last_step + 1)
        if step > current + 1:
            return None
        self.last_step = step
        return totp.generate_otp(step)

    def next_code(self) -> str:
        """A code the app will accept: a spare one, or the first of the
        next 30-second step once the clock reaches it (a wait on the clock,
        up to one step, only after a burst of sign-ins spent every step)."""
        code = self.spare_code()
        while code is None:
            totp = pyotp.TOTP(self.secret)
            time.sleep(totp.interval - time.time() % totp.interval + 0.05)
            code = self.spare_code()
        return code


# (site origin, admin email) -> the authenticator this module enrolled.
AUTHENTICATORS: dict[tuple[str, str], Authenticator] = {}


def authenticator_for(origin: str, email: str) -> Authenticator | None:
    """The authenticator enrolled for ``email`` on this site, or else on
    another site with the same admin (several instances of one app share
    their Firestore, so a factor enrolled through one works on all)."""
    found = AUTHENTICATORS.get((origin, email))
    if found is None:
        found = next((a for (_, e), a in reversed(AUTHENTICATORS.items()) if e == email), None)
        if found is not None:
            AUTHENTICATORS[origin, email] = found  # one replay counter for both
    return found


def enrolled_authenticator(origin: str, email: str) -> Authenticator:
    """:func:`authenticator_for`, for an admin who has a second factor: it
    must be one these helpers enrolled, or no code can be made for it."""
    authenticator = authenticator_for(origin, email)
    if authenticator is None:
        raise AssertionError(f"{email} has a second factor that this helper did not enrol")
    return authenticator


def complete_second_factor(browser: Browser, email: str, challenge_path: str) -> None:
    """Prove the second factor after the exchange: enrol a TOTP app if the
    admin has none (keeping its secret in AUTHENTICATORS), else answer the
    challenge with the next unspent code, or with a recovery code when a
    burst of sign-ins has spent every step the app would accept."""
    page = _follow(browser, challenge_path)
    path = urlsplit(page.url_path).path
    if path == f"{CHALLENGE}/enrol":
        _enrol_totp(browser, email, page)
        return
    authenticator = enrolled_authenticator(browser.origin, email)
    code = authenticator.spare_code()
    fields = _form_fields(page.text)
    next_query = _query(page.url_path)
    if code is None and authenticator.recovery_codes:
        response = browser.post_form(
            f"{CHALLENGE}/recovery{next_query}",
            {
                "csrf_token": fields["csrf_token"],
                "recovery_code": authenticator.recovery_codes.pop(),
            },
        )
    else:
        if code is None:  # every step spent and no recovery code left
            code = authenticator.next_code()
        response = browser.post_form(
            f"{CHALLENGE}/totp{next_query}", {"csrf_token": fields["csrf_token"], "code": code}
        )
    if response.status_code != 303:
        raise AssertionError(f"second factor refused: {response.status_code} {response.text}")


def _enrol_totp(browser: Browser, email: str, page) -> None:
    match = _TOTP_SECRET.search(page.text)
    if match is None:
        raise AssertionError("the enrolment page shows no TOTP key")
    secret = match.group(1).replace(" ", "")
    authenticator = Authenticator(secret=secret, last_step=0)
    fields = _form_fields(page.text)
    response = browser.post_form(
        f"{CHALLENGE}/enrol/totp{_query(page.url_path)}",
        {
            "csrf_token": fields["csrf_token"],
            "enrolment": fields["enrolment"],
            "code": authenticator.next_code(),
        },
    )
    if response.status_code != 200:
        raise AssertionError(f"TOTP enrolment refused: {response.status_code} {response.text}")
    authenticator.recovery_codes = _RECOVERY_CODE.findall(response.text)
    AUTHENTICATORS[browser.origin, email] = authenticator


@dataclass
class _Page:
    url_path: str
    text: str


def _follow(browser: Browser, path: str, hops: int = 3) -> _Page:
    for _ in range(hops):
        response = browser.get(path)
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers["Location"]
            parts = urlsplit(location)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            continue
        if response.status_code != 200:
            raise AssertionError(f"GET {path}: {response.status_code} {response.text}")
        return _Page(url_path=path, text=response.text)
    raise AssertionError(f"too many redirects from {path}")


def _query(url_path: str) -> str:
    query = urlsplit(url_path).query
    return f"?{query}" if query else ""


def _form_fields(html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in _FORM_FIELD.findall(html)}


def _email_of(id_token: str) -> str:
    """The email claim of an ID token (read, not verified: the app verifies)."""
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["email"].lower()


# -- a session opened through the store, without signing in -----------------


def cookie_jar_for(settings: Settings) -> CookieJar:
    """The cookie jar an app with ``settings`` uses, built without the app."""
    flask_app = Flask(__name__)
    flask_app.config.update(
        SECRET_KEY=settings.secret_key, SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks)
    )
    codec = SecureCookieSessionInterface().get_signing_serializer(flask_app)
    return make_cookie_jar(settings, codec)


def session_cookies(settings: Settings, claims: CookieClaims) -> dict[str, str]:
    """The cookies (name: value) of a browser holding the session ``claims``
    on an app with ``settings`` (the same signing keys): what a sign-in
    would have set, for a session opened without one."""
    jar = cookie_jar_for(settings)
    return jar.cookies_for({SESSION: SessionCookie(settings, jar).encode(claims)})


def session_cookie_header(settings: Settings, claims: CookieClaims) -> str:
    """:func:`session_cookies` as a Cookie header, for a session opened
    through the store (``SessionStore.stage_open``) where the sign-in itself
    is not measured."""
    cookies = session_cookies(settings, claims)
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class LiveBrowser:
    """A :class:`Browser` for a server running on plain-HTTP loopback.

    It keeps and sends cookies by hand: requests' cookie jar withholds Secure
    (and so ``__Host-``) cookies from ``http://`` URLs, and the tests' app
    processes set them Secure, as production does. Redirects are not
    followed, so that a test sees them. Cookies the site deletes are not
    forgotten: use a fresh one per session.
    """

    def __init__(
        self, url: str, cookies: dict[str, str] | None = None, *, timeout: float = HTTP_TIMEOUT
    ):
        self.origin = url
        self.cookies: dict[str, str] = dict(cookies or {})
        # Per request; longer where a test holds requests on purpose.
        self.timeout = timeout

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

    def post_form(self, path: str, data: dict[str, str]) -> requests.Response:
        """Submit an HTML form (url-encoded) as the browser would."""
        return self._send("POST", path, {"Origin": self.origin}, data=data)

    def _send(self, method: str, path: str, headers: dict[str, str], **kwargs) -> requests.Response:
        if self.cookies:
            headers = {**headers, "Cookie": self.cookie_header()}
        response = requests.request(
            method,
            self.origin + path,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
            **kwargs,
        )
        self.cookies.update(response.cookies)
        return response
