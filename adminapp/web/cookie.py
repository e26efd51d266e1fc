"""The session cookie: the session id and the admin's email, signed.

It is the cookie jar's ``SESSION`` item (``web/cookie_jar.py``): its own
cookie, ``__Host-admin_session``, or a part of ``__session`` behind Firebase
Hosting. Its value is ``[session id, email]`` signed with itsdangerous (timestamped,
verified against ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``), so that a
forged or expired cookie is refused without any Firestore read. The email is
signed, not secret: it tells the guard which admin document to batch with the
session record.
"""

from __future__ import annotations

import time
from datetime import datetime

from itsdangerous import BadData, URLSafeTimedSerializer

from ..config import Settings
from ..domain.sessions import CookieClaims
from .cookie_jar import SESSION, CookieJar

COOKIE_SALT = "adminapp.session.v1"
# A genuine cookie is about 150 bytes; refuse big ones before any crypto.
MAX_COOKIE_LENGTH = 1024
# Verified cookie values remembered per process (see SessionCookie.decode).
MAX_VERIFIED_COOKIES = 4096


class SessionCookie:
    """Encode and check the session cookie's value."""

    def __init__(self, settings: Settings, jar: CookieJar):
        self._jar = jar
        self.max_age = int(settings.session_lifetime.total_seconds())
        # A list of keys: the last signs, all verify (secret rotation).
        self._serializer = URLSafeTimedSerializer(settings.signing_keys, salt=COOKIE_SALT)
        # value -> (claims, signed at): a cookie that verified once is not
        # HMAC-checked again on every request (the signing keys are fixed for
        # the life of the process); its age still is. Only genuine values get
        # in, so a forger cannot fill it; when full it starts over.
        self._verified: dict[str, tuple[CookieClaims, float]] = {}

    def encode(self, claims: CookieClaims) -> str:
        return self._serializer.dumps([claims.session_id, claims.email])

    def decode(self, value: str | None) -> CookieClaims | None:
        """The claims of a genuine, unexpired cookie; None for anything else."""
        if not value or len(value) > MAX_COOKIE_LENGTH:
            return None
        known = self._verified.get(value)
        if known is not None:
            claims, signed_at = known
            return claims if 0 <= time.time() - signed_at <= self.max_age else None
        try:
            payload, signed = self._serializer.loads(
                value, max_age=self.max_age, return_timestamp=True
            )
        except BadData:
            return None
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or not all(isinstance(item, str) and item for item in payload)
        ):
            return None
        claims = CookieClaims(session_id=payload[0], email=payload[1])
        if len(self._verified) >= MAX_VERIFIED_COOKIES:
            self._verified.clear()
        self._verified[value] = (claims, signed.timestamp())
        return claims

    def read(self) -> str | None:
        """The value this request's browser sent (unchecked), or None."""
        return self._jar.read(SESSION)

    def set_on(self, response, claims: CookieClaims, expires: datetime) -> None:
        """Attach the cookie to a response; it expires with the session."""
        self._jar.write(response, SESSION, self.encode(claims), expires=expires)

    def clear_on(self, response) -> None:
        self._jar.clear(response, SESSION)
