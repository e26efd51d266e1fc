"""Attacks on the session cookie, end to end through the guard.

Covered elsewhere and not repeated here:
- cookie codec (edited payload, other key, rotation, age, garbage, wrong
  shape): tests/unit/test_session_cookie.py;
- forged cookie cleared, replay after logout, removed or disabled admin:
  tests/integration/test_guard.py;
- absolute end and idle timeout set in Firestore, revocation at the
  re-check: tests/integration/test_session_lifecycle.py.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer

from adminapp import create_app
from adminapp.domain.sessions import CookieClaims
from adminapp.services import build_services
from adminapp.testing.firebase import OWNER
from adminapp.web.context import COOKIE_KEY, EXTENSION_KEY
from adminapp.web.cookie import COOKIE_SALT
from tests.support.settings import SECRET_KEY, base_config
from tests.support.web import ORIGIN, csrf_token, present_session, session_cookie, sign_in

# Every test here runs with each cookie mode (tests/support/cookies.py).
pytestmark = pytest.mark.both_cookie_modes

JSON = {"Accept": "application/json"}
OTHER_KEY = "another-instance-secret-key-0123456789-abcdefgh"


class Clock:
    """The app's clock, moved by the test instead of waiting."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    app.extensions[EXTENSION_KEY] = build_services(app.extensions[EXTENSION_KEY].settings, clock)
    return clock


@pytest.fixture
def signed_in(client, auth_emulator, owner):
    sign_in(client, auth_emulator, OWNER)
    return client


@pytest.fixture
def other_app(clean, cookie_mode):
    """Another deployment of adminapp on the same Firestore, with its own key."""
    apps = []

    def make(**settings):
        application = create_app(base_config(COOKIE_MODE=cookie_mode, **settings))
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions[EXTENSION_KEY].backend.close()


def refused(response) -> bool:
    return response.status_code == 401 and response.get_json()["error"] == "unauthenticated"


def test_payload_edited_to_another_admin_is_refused(signed_in, store):
    store.add_admin("victim@example.com", "owner")
    payload, rest = session_cookie(signed_in).value.split(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[1] = "victim@example.com"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    present_session(signed_in, f"{edited}.{rest}")

    response = signed_in.get("/admin/", headers=JSON)

    assert refused(response)
    assert session_cookie(signed_in) is None  # the bad cookie is cleared
    assert store.sessions(email="victim@example.com") == []


def test_cookie_from_an_instance_with_another_key_is_refused(signed_in, other_app, auth_emulator):
    # A real, live session, minted by another deployment sharing Firestore.
    elsewhere = other_app(SECRET_KEY=OTHER_KEY).test_client()
    sign_in(elsewhere, auth_emulator, OWNER)
    present_session(signed_in, session_cookie(elsewhere).value)

    assert refused(signed_in.get("/admin/", headers=JSON))
    assert elsewhere.get("/admin/", headers=JSON).status_code == 200  # it was genuine


def test_old_key_keeps_sessions_alive_and_new_cookies_use_the_current_key(
    signed_in, other_app, auth_emulator
):
    old_cookie = session_cookie(signed_in).value
    rotated = other_app(SECRET_KEY=OTHER_KEY, SECRET_KEY_FALLBACKS=SECRET_KEY)
    browser = rotated.test_client()

    present_session(browser, old_cookie)
    assert browser.get("/admin/", headers=JSON).status_code == 200  # rotation logs nobody out

    sign_in(browser, auth_emulator, OWNER)
    new_cookie = session_cookie(browser).value
    URLSafeTimedSerializer(OTHER_KEY, salt=COOKIE_SALT).loads(new_cookie)
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer(SECRET_KEY, salt=COOKIE_SALT).loads(new_cookie)
    # Once the old key is dropped, only cookies signed with the new one work.
    retired = other_app(SECRET_KEY=OTHER_KEY).test_client()
    present_session(retired, old_cookie)
    assert refused(retired.get("/admin/", headers=JSON))
    present_session(retired, new_cookie)
    assert retired.get("/admin/", headers=JSON).status_code == 200


def test_idle_timeout_slides_with_activity(clock, client, auth_emulator, owner, store):
    sign_in(client, auth_emulator, OWNER)
    for _ in range(3):  # active every 20 minutes for an hour: still in
        clock.advance(minutes=20)
        assert client.get("/admin/", headers=JSON).status_code == 200
    clock.advance(minutes=31)  # then idle past the 30-minute timeout

    response = client.get("/admin/", headers=JSON)

    assert refused(response)
    assert "inactivity" in response.get_json()["message"]


def test_absolute_lifetime_ends_even_an_active_session(clock, client, auth_emulator, owner):
    sign_in(client, auth_emulator, OWNER)
    for _ in range(12 * 3 - 1):  # a request every 20 minutes, 11 h 40 min
        clock.advance(minutes=20)
        assert client.get("/admin/", headers=JSON).status_code == 200
    clock.advance(minutes=20)  # 12 hours after sign-in

    assert refused(client.get("/admin/", headers=JSON))


def test_session_ended_by_an_owner_is_refused_at_the_next_request(signed_in, app, store):
    [session] = store.sessions(email=OWNER)
    app.extensions[EXTENSION_KEY].access.end_session(
        session["id"], by=None, actor="other-owner@example.com", client=None
    )

    assert refused(signed_in.get("/admin/", headers=JSON))
    [session] = store.sessions(email=OWNER)
    assert session["ended_reason"] == "ended_by_owner"


def test_cookie_with_a_valid_signature_but_unknown_session_is_refused(app, client, clean):
    forged = app.extensions[COOKIE_KEY].encode(
        CookieClaims(session_id="guessed-session-id", email=OWNER)
    )
    present_session(client, forged)
    assert refused(client.get("/admin/", headers=JSON))


def test_tokens_are_taken_from_headers_never_from_urls(client, auth_emulator, owner, store):
    token = auth_emulator.sign_in(OWNER)
    exchange = client.post(
        f"/admin/session?id_token={token}&token={token}",
        headers={"Origin": ORIGIN, "X-CSRFToken": csrf_token(client), **JSON},
    )
    assert exchange.status_code == 401
    assert store.sessions() == []
    api = client.get(f"/admin/api/me?access_token={token}&id_token={token}")
    assert api.status_code == 401
