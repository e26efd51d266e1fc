"""The session cookie's value: signed, bounded in time, refused when touched.

Every test runs in both cookie modes: the session's own cookie
(``standard``), and the session inside ``__session`` (``hosting``), where
the jar's signature comes on top of the session's own."""

from __future__ import annotations

import base64
import json
import time

import pytest

from adminapp.config import load_settings
from adminapp.domain.sessions import CookieClaims, session_key
from adminapp.web.cookie import SessionCookie
from adminapp.web.cookie_jar import HOSTING_COOKIE, SESSION
from tests.support.cookies import COOKIE_MODES, jar_for
from tests.support.settings import MFA_KEY

CURRENT = "current-secret-key-0123456789abcdef"
OLD = "old-secret-key-0123456789abcdef-old"
CLAIMS = CookieClaims(session_id="x" * 43, email="owner@example.com")


@pytest.fixture(params=COOKIE_MODES, autouse=True)
def mode(request, monkeypatch):
    monkeypatch.setattr(f"{__name__}.MODE", request.param)
    return request.param


MODE = "standard"


class Browser:
    """The session cookie as a browser holds it, in one cookie mode: what
    the app sets (``encode``: the session's value, alone or in the jar) and
    what it makes of what comes back (``decode``)."""

    def __init__(self, settings):
        self.jar = jar_for(settings)
        self.codec = SessionCookie(settings, self.jar)

    def encode(self, claims: CookieClaims) -> str:
        """The value of the one cookie that carries the session."""
        [value] = self.jar.cookies_for({SESSION: self.codec.encode(claims)}).values()
        return value

    def decode(self, value: str | None) -> CookieClaims | None:
        [name] = self.jar.cookies_for({SESSION: "x"})
        return self.codec.decode(self.jar.items_in({name: value} if value else {}).get(SESSION))


def cookie(secret: str = CURRENT, fallbacks: str = "", **overrides) -> Browser:
    return Browser(
        load_settings(
            {
                "ADMINAPP_ENV": "development",
                "FIREBASE_PROJECT_ID": "demo-unit",
                "SECRET_KEY": secret,
                "SECRET_KEY_FALLBACKS": fallbacks,
                "MFA_ENCRYPTION_KEY": MFA_KEY,
                "FIREBASE_WEB_API_KEY": "unit-test-key",
                "FIREBASE_AUTH_DOMAIN": "demo-unit.firebaseapp.com",
                "COOKIE_MODE": MODE,
                **overrides,
            }
        )
    )


@pytest.fixture
def clock(monkeypatch):
    """Move itsdangerous' clock (it stamps and checks cookies with time.time)."""
    now = [time.time()]
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: now[0])
    return now


def test_round_trip():
    value = cookie().encode(CLAIMS)
    assert cookie().decode(value) == CLAIMS


def test_secure_cookie_uses_host_prefix_and_plain_http_does_not(mode):
    if mode == "hosting":
        # Hosting forwards only this exact name: no prefix (SECURITY.md).
        assert cookie().jar.cookie_names == (HOSTING_COOKIE,)
        assert cookie(SESSION_COOKIE_SECURE="false").jar.cookie_names == (HOSTING_COOKIE,)
        return
    assert cookie().jar.name(SESSION) == "__Host-admin_session"
    assert cookie(SESSION_COOKIE_SECURE="false").jar.name(SESSION) == "admin_session"


def test_edited_payload_is_refused():
    value = cookie().encode(CLAIMS)
    _payload, rest = value.removeprefix(".").split(".", 1)
    forged = (
        base64.urlsafe_b64encode(
            json.dumps(
                [CLAIMS.session_id, "attacker@example.com"]
                if MODE == "standard"
                else {"s": [[CLAIMS.session_id, "attacker@example.com"], None]}
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    assert cookie().decode(f"{forged}.{rest}") is None
    # Edit the signature where every bit counts: its last base64 character
    # carries padding bits, so changing it may decode to the same bytes.
    signature_start = value.rindex(".") + 1
    edited = "A" if value[signature_start] != "A" else "B"
    assert cookie().decode(value[:signature_start] + edited + value[signature_start + 1 :]) is None


def test_cookie_signed_with_another_key_is_refused():
    value = cookie("another-instance-key-0123456789abcdef").encode(CLAIMS)
    assert cookie().decode(value) is None


def test_old_key_still_verifies_during_rotation_and_new_cookies_use_current_key():
    from_before = cookie(OLD).encode(CLAIMS)
    rotated = cookie(CURRENT, fallbacks=OLD)
    assert rotated.decode(from_before) == CLAIMS
    issued_now = rotated.encode(CLAIMS)
    assert cookie(CURRENT).decode(issued_now) == CLAIMS
    assert cookie(OLD).decode(issued_now) is None


def test_cookie_past_absolute_lifetime_is_refused(clock):
    signer = cookie(SESSION_LIFETIME_MINUTES="60")
    value = signer.encode(CLAIMS)
    clock[0] += 59 * 60
    assert signer.decode(value) == CLAIMS
    clock[0] += 2 * 60
    assert signer.decode(value) is None


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "a.b.c",
        "." * 10,
        "x" * 5000,
    ],
)
def test_garbage_is_refused_without_error(value):
    assert cookie().decode(value) is None


def test_well_signed_but_wrong_shape_is_refused():
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer([CURRENT], salt="adminapp.session.v1")
    browser = cookie()
    for payload in (["only-one"], {"sid": "x"}, ["", "a@b.c"], [1, 2], "text"):
        [value] = browser.jar.cookies_for({SESSION: serializer.dumps(payload)}).values()
        assert browser.decode(value) is None


def test_hosting_jar_with_a_bad_shape_or_past_its_items_end_holds_nothing(mode):
    if mode != "hosting":
        pytest.skip("the jar's own checks")
    from flask.json.tag import TaggedJSONSerializer
    from itsdangerous import URLSafeSerializer

    signer = URLSafeSerializer(
        [CURRENT], salt="adminapp.cookie-jar.v1", serializer=TaggedJSONSerializer()
    )
    value = cookie().codec.encode(CLAIMS)
    assert cookie().decode(signer.dumps({"s": [value, None]})) == CLAIMS
    for payload in (["s"], {"s": value}, {"s": [value]}, {"s": [value, "x"]}):
        assert cookie().decode(signer.dumps(payload)) is None
    # Each item ends when it was written to: the jar does not read it after.
    assert cookie().decode(signer.dumps({"s": [value, int(time.time()) - 1]})) is None


def test_store_key_is_a_hash_not_the_id():
    key = session_key(CLAIMS.session_id)
    assert len(key) == 64 and CLAIMS.session_id not in key
    assert CLAIMS.key == key
