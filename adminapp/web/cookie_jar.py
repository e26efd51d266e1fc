"""What the app keeps in the browser, and the one place that reads and writes it.

Three things live in cookies, each an *item* of the jar:

- ``SESSION``: the signed session id and email (``web/cookie.py``);
- ``STATE``: Flask's own session: the CSRF secret, flash messages and the
  interrupted form of a step-up (``web/session_state.py``);
- ``LANGUAGE``: the signed-out pages' language (``web/i18n.py``).

Views, the guard and Flask's session interface read and write items, never
cookies, so how items travel is decided here alone, by ``COOKIE_MODE``:

- ``standard``: one cookie per item, ``__Host-admin_session``,
  ``__Host-admin_state`` (signed by Flask's serializer) and
  ``__Host-admin_lang`` (``SameSite=Lax``); without Secure cookies the same
  names without the prefix. What the app always did.
- ``hosting``: every item in one cookie, ``__session``: Firebase Hosting
  forwards that cookie to Cloud Run and strips every other. Its value is a
  signed JSON object (itsdangerous, ``SECRET_KEY`` signs, the fallbacks
  verify) of the items with their own expiry each; the session item keeps
  its own signature and timestamp inside it. ``HttpOnly; Secure;
  SameSite=Strict; Path=/``, host-only, at most ``MAX_COOKIE_BYTES``.

A ``__session`` cookie cannot carry the ``__Host-`` prefix (Hosting forwards
only that exact name), so the browser does not enforce what the prefix
would: see SECURITY.md ("One cookie behind Firebase Hosting").

The jar never writes ``__session`` in answer to a cross-site request that
did not carry it: ``SameSite=Strict`` made the browser withhold it, and a
new cookie would replace the one the browser holds (signing the person
out). A cross-site navigation to a public page is sent back to the same URL
from our own origin first (:func:`renavigate_cross_site`), as the guard does
for the guarded pages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, render_template, request
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from ..config import Settings
from ..logs import log_event
from .redirects import safe_next

log = logging.getLogger(__name__)

HOSTING_COOKIE = "__session"
JAR_SALT = "adminapp.cookie-jar.v1"
# Browsers keep at least 4096 bytes per cookie (name, value and attributes);
# every cookie we set stays well under that, whatever it carries.
MAX_COOKIE_BYTES = 3584
JAR_KEY = "adminapp.cookie_jar"
_REQUEST_KEY = "adminapp.cookie_jar"


@dataclass(frozen=True)
class Item:
    """One thing the app keeps in the browser."""

    # Its key inside __session (hosting mode): short, the cookie is bounded.
    key: str
    # Its own cookie in standard mode, without the __Host- prefix.
    cookie: str
    # Its own cookie's SameSite in standard mode (__session is always Strict).
    same_site: str


SESSION = Item("s", "admin_session", "Strict")
STATE = Item("f", "admin_state", "Strict")
# Lax in standard mode: a link from another site may choose the language.
LANGUAGE = Item("l", "admin_lang", "Lax")
ITEMS = (SESSION, STATE, LANGUAGE)


class CookieTooLarge(Exception):
    """Written, the cookie would exceed MAX_COOKIE_BYTES; nothing was set."""


class CookieJar:
    """Read and write items; subclasses decide which cookies carry them."""

    mode: str

    def __init__(self, settings: Settings, state_codec: URLSafeTimedSerializer):
        self.secure = settings.cookie_secure
        # Flask's own signing serializer for its session (salt, keys,
        # rotation): standard mode's state cookie stays what Flask wrote.
        self._state_codec = state_codec

    def read(self, item: Item) -> Any:
        """The item as this request's browser holds it (after any write in
        this request), or None."""
        raise NotImplementedError

    def write(self, response: Response, item: Item, value: Any, *, expires: datetime | None):
        """Keep ``value`` in the browser until ``expires`` (None: until it
        closes). Raises :class:`CookieTooLarge`, having set nothing."""
        raise NotImplementedError

    def clear(self, response: Response, item: Item) -> None:
        raise NotImplementedError

    # -- for tests and tools: items <-> cookies, without a request ------------

    def cookies_for(self, values: dict[Item, Any]) -> dict[str, str]:
        """The cookies (name -> value) a browser holding ``values`` sends."""
        raise NotImplementedError

    def items_in(self, cookies: dict[str, str]) -> dict[Item, Any]:
        """The items the cookies ``cookies`` carry (unverifiable ones left out)."""
        raise NotImplementedError

    @property
    def cookie_names(self) -> tuple[str, ...]:
        raise NotImplementedError


class SeparateCookies(CookieJar):
    """``COOKIE_MODE=standard``: one cookie per item."""

    mode = "standard"

    def name(self, item: Item) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless it is
        # Secure, host-only and Path=/: no subdomain or HTTP page can plant it.
        return f"__Host-{item.cookie}" if self.secure else item.cookie

    @property
    def cookie_names(self) -> tuple[str, ...]:
        return tuple(self.name(item) for item in ITEMS)

    def read(self, item: Item) -> Any:
        return self._decode(item, request.cookies.get(self.name(item)))

    def _decode(self, item: Item, raw: str | None) -> Any:
        if not raw:
            return None
        if item is not STATE:
            return raw
        try:
            # Flask's own check (its session lives at most this long).
            return self._state_codec.loads(raw, max_age=STATE_MAX_AGE)
        except BadData:
            return None

    def _encode(self, item: Item, value: Any) -> str:
        return self._state_codec.dumps(value) if item is STATE else value

    def write(self, response: Response, item: Item, value: Any, *, expires: datetime | None):
        encoded = self._encode(item, value)
        if len(self.name(item)) + len(encoded) + 1 > MAX_COOKIE_BYTES:
            raise CookieTooLarge(self.name(item))
        response.set_cookie(
            self.name(item),
            encoded,
            expires=expires,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite=item.same_site,
        )

    def clear(self, response: Response, item: Item) -> None:
        response.delete_cookie(
            self.name(item), path="/", secure=self.secure, httponly=True, samesite=item.same_site
        )

    def cookies_for(self, values: dict[Item, Any]) -> dict[str, str]:
        return {self.name(item): self._encode(item, value) for item, value in values.items()}

    def items_in(self, cookies: dict[str, str]) -> dict[Item, Any]:
        found = {item: self._decode(item, cookies.get(self.name(item))) for item in ITEMS}
        return {item: value for item, value in found.items() if value is not None}


# Flask's default PERMANENT_SESSION_LIFETIME: how old a state cookie it accepts.
STATE_MAX_AGE = 31 * 24 * 3600


class OneCookie(CookieJar):
    """``COOKIE_MODE=hosting``: every item in ``__session``.

    The cookie's value is ``{key: [value, expires]}`` (expires: a Unix time,
    or null for "until the browser closes"), serialised with Flask's tagged
    JSON (the state holds tuples and markup) and signed. An item past its
    own expiry is not read. The cookie lives as long as its longest-lived
    item.
    """

    mode = "hosting"

    def __init__(self, settings: Settings, state_codec: URLSafeTimedSerializer):
        super().__init__(settings, state_codec)
        self._codec = URLSafeSerializer(
            settings.signing_keys, salt=JAR_SALT, serializer=TaggedJSONSerializer()
        )
        self._clock: Callable[[], float] = time.time

    @property
    def cookie_names(self) -> tuple[str, ...]:
        return (HOSTING_COOKIE,)

    # -- this request's jar ---------------------------------------------------

    def _held(self) -> dict[str, list]:
        """What the browser holds: the request's cookie, decoded once, with
        this request's writes applied."""
        held = request.environ.get(_REQUEST_KEY)
        if held is None:
            held = self._decode(request.cookies.get(HOSTING_COOKIE))
            if held is None:
                # Not ours (another key, edited, forged): it holds nothing,
                # and the next write replaces it.
                log_event("access_refused", reason="bad_cookie_jar", path=request.path)
                held = {}
            request.environ[_REQUEST_KEY] = held
        return held

    def _decode(self, raw: str | None) -> dict[str, list] | None:
        """The items of a genuine jar; {} for none; None for a cookie that
        is not a jar of ours."""
        if not raw:
            return {}
        if len(raw) > MAX_COOKIE_BYTES:
            return None
        try:
            payload = self._codec.loads(raw)
        except BadData:
            return None
        if not isinstance(payload, dict):
            return None
        now = self._clock()
        return {
            key: entry
            for key, entry in payload.items()
            if isinstance(entry, list)
            and len(entry) == 2
            and (entry[1] is None or (isinstance(entry[1], int | float) and entry[1] > now))
        }

    def _encode(self, held: dict[str, list]) -> str:
        return self._codec.dumps(held)

    def read(self, item: Item) -> Any:
        entry = self._held().get(item.key)
        return entry[0] if entry is not None else None

    def write(self, response: Response, item: Item, value: Any, *, expires: datetime | None):
        held = dict(self._held())
        held[item.key] = [value, int(expires.timestamp()) if expires is not None else None]
        self._emit(response, held)

    def clear(self, response: Response, item: Item) -> None:
        held = dict(self._held())
        held.pop(item.key, None)
        self._emit(response, held)

    def _emit(self, response: Response, held: dict[str, list]) -> None:
        if _withheld_cross_site():
            # The browser did not send __session: what it holds is unknown,
            # and a new cookie would replace it. Write nothing.
            log.debug("cookie jar not written: cross-site request without %s", HOSTING_COOKIE)
            return
        encoded = self._encode(held) if held else ""
        if len(HOSTING_COOKIE) + len(encoded) + 1 > MAX_COOKIE_BYTES:
            raise CookieTooLarge(HOSTING_COOKIE)
        request.environ[_REQUEST_KEY] = held
        # One Set-Cookie for __session per response, whatever was written.
        others = [
            header
            for header in response.headers.getlist("Set-Cookie")
            if not header.startswith(f"{HOSTING_COOKIE}=")
        ]
        response.headers.remove("Set-Cookie")
        for header in others:
            response.headers.add("Set-Cookie", header)
        if not held:
            response.delete_cookie(
                HOSTING_COOKIE, path="/", secure=self.secure, httponly=True, samesite="Strict"
            )
            return
        ends = [entry[1] for entry in held.values()]
        # Until the browser closes only if every item says so.
        expires = None if all(end is None for end in ends) else max(e for e in ends if e)
        response.set_cookie(
            HOSTING_COOKIE,
            encoded,
            expires=expires,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )

    # -- tests and tools ------------------------------------------------------

    def cookies_for(self, values: dict[Item, Any]) -> dict[str, str]:
        return {HOSTING_COOKIE: self._encode({item.key: [v, None] for item, v in values.items()})}

    def items_in(self, cookies: dict[str, str]) -> dict[Item, Any]:
        held = self._decode(cookies.get(HOSTING_COOKIE)) or {}
        return {item: held[item.key][0] for item in ITEMS if item.key in held}


def _withheld_cross_site() -> bool:
    return HOSTING_COOKIE not in request.cookies and _cross_site()


def _cross_site() -> bool:
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


def cookie_jar_of(app: Flask) -> CookieJar:
    return app.extensions[JAR_KEY]


def make_cookie_jar(settings: Settings, state_codec: URLSafeTimedSerializer) -> CookieJar:
    jar_class = OneCookie if settings.cookie_mode == "hosting" else SeparateCookies
    return jar_class(settings, state_codec)


def renavigate_cross_site() -> Response | None:
    """Hosting mode, before any view: a navigation from another site to one
    of our public pages came without __session (SameSite=Strict). Answer it
    with a page that re-navigates to the same URL from our own origin; that
    request carries the cookie, so the page sees who the browser is and
    whatever it writes keeps the rest of the jar."""
    if (
        request.method not in ("GET", "HEAD")
        or not request.path.startswith("/admin")
        or HOSTING_COOKIE in request.cookies
        or not _cross_site()
        or request.headers.get("Sec-Fetch-Mode") != "navigate"
    ):
        return None
    target = request.full_path.rstrip("?")
    if safe_next(target) != target:
        return None
    return Response(render_template("auth/continue.html", target=target), mimetype="text/html")


def init_app(app: Flask, jar: CookieJar) -> None:
    if jar.mode == "hosting":
        app.before_request(renavigate_cross_site)
