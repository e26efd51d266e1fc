"""What the gate costs in Firebase round trips, counted by the app itself
(the ``Server-Timing`` header), with the session cache off and on."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from adminapp.testing.firebase import OWNER
from adminapp.web.cookie import COOKIE_SALT
from tests.support.settings import SECRET_KEY, base_config
from tests.support.web import SESSION_COOKIE, exchange, post_form, sign_in

GUARDED = "/admin/api/me"
STAFF = "staff@example.com"
_TRIPS = re.compile(r'(firestore|auth);desc="round trips";dur=(\d+)')


def round_trips(response) -> dict[str, int]:
    header = response.headers.get("Server-Timing", "")
    counts = {name: int(value) for name, value in _TRIPS.findall(header)}
    assert set(counts) == {"firestore", "auth"}, f"no round-trip counts in {header!r}"
    return counts


@pytest.fixture
def config():
    return base_config(SERVER_TIMING="true", SESSION_CACHE_SECONDS="60")


def test_sign_in_costs_one_auth_and_two_firestore_round_trips(client, auth_emulator, owner):
    response = exchange(client, auth_emulator.sign_in(OWNER))

    assert response.status_code == 200
    assert round_trips(response) == {"firestore": 2, "auth": 1}


@pytest.mark.parametrize("config", [base_config(SERVER_TIMING="true")])
def test_without_cache_a_guarded_request_costs_exactly_one_firestore_read(
    client, auth_emulator, owner
):
    sign_in(client, auth_emulator, OWNER)
    for _ in range(3):
        response = client.get(GUARDED)
        assert response.status_code == 200
        assert round_trips(response) == {"firestore": 1, "auth": 0}


def test_with_cache_repeat_requests_cost_no_round_trip(client, auth_emulator, owner, store):
    sign_in(client, auth_emulator, OWNER)
    first = client.get(GUARDED)
    assert round_trips(first)["firestore"] == 1  # the read that fills the cache

    for _ in range(3):
        response = client.get(GUARDED)
        assert response.status_code == 200
        assert round_trips(response) == {"firestore": 0, "auth": 0}
    # Proof it was served from memory: Firestore changed, this instance did not look.
    store.update_admin(OWNER, role="viewer")
    assert client.get(GUARDED).get_json()["admin"]["role"] == "owner"


@pytest.mark.parametrize(
    ("config", "repeated"),
    [
        (base_config(SERVER_TIMING="true"), 1),
        (base_config(SERVER_TIMING="true", SESSION_CACHE_SECONDS="60"), 0),
    ],
)
def test_a_custom_role_costs_no_round_trip_of_its_own(client, auth_emulator, store, repeated):
    """The custom roles' document comes in the guard's one batched read."""
    store.client.collection("admin_roles").document("custom").set(
        {"version": 1, "roles": {"support": {"description": "", "permissions": ["users.read"]}}}
    )
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "support")
    sign_in(client, auth_emulator, STAFF)

    first = client.get(GUARDED)
    assert first.get_json()["admin"]["permissions"] == ["users.read"]
    assert round_trips(first) == {"firestore": 1, "auth": 0}
    for _ in range(3):
        response = client.get(GUARDED)
        assert response.status_code == 200
        assert round_trips(response) == {"firestore": repeated, "auth": 0}


@pytest.mark.parametrize("cookie", ["forged.value.here", "x" * 2000, ""])
def test_a_forged_cookie_costs_no_round_trip(client, clean, cookie):
    client.set_cookie(SESSION_COOKIE, cookie)

    response = client.get(GUARDED)

    assert response.status_code == 401
    assert round_trips(response) == {"firestore": 0, "auth": 0}


def test_an_expired_cookie_costs_no_round_trip(client, clean):
    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 13 * 3600  # sessions last 12 hours

    old = URLSafeTimedSerializer([SECRET_KEY], salt=COOKIE_SALT, signer=SignedLongAgo)
    client.set_cookie(SESSION_COOKIE, old.dumps(["a" * 43, OWNER]))

    response = client.get(GUARDED)

    assert response.status_code == 401
    assert round_trips(response) == {"firestore": 0, "auth": 0}


def test_activity_is_still_recorded_once_with_the_cache(client, auth_emulator, owner, store):
    sign_in(client, auth_emulator, OWNER)
    [session] = store.sessions(email=OWNER)
    idle_since = datetime.now(UTC) - timedelta(minutes=6)  # activity is recorded every 5
    store.update_session(session["id"], last_seen_at=idle_since)

    first = client.get(GUARDED)
    second = client.get(GUARDED)

    assert round_trips(first) == {"firestore": 2, "auth": 0}  # read + activity write
    assert round_trips(second) == {"firestore": 0, "auth": 0}  # cache knows it was recorded
    [session] = store.sessions(email=OWNER)
    assert session["last_seen_at"] > idle_since + timedelta(minutes=5)


# -- changes made through this instance apply at once, cache or not ----------


@pytest.fixture
def staff(app, signed_in_as):
    """A cached, signed-in admin, and the owner's bearer headers."""
    client = signed_in_as(STAFF, "admin")
    assert round_trips(client.get(GUARDED))["firestore"] == 1
    assert round_trips(client.get(GUARDED))["firestore"] == 0  # cached now
    return client


@pytest.fixture
def owner_headers(auth_emulator, owner, store):
    store.update_admin(OWNER, service_account=True)  # a script's account
    return {"Authorization": f"Bearer {auth_emulator.sign_in(OWNER)}"}


def test_sign_out_is_immediate(staff):
    cookie = staff.get_cookie(SESSION_COOKIE).value
    assert post_form(staff, "/admin/logout").status_code == 302
    staff.set_cookie(SESSION_COOKIE, cookie)  # replayed, as a thief would

    assert staff.get(GUARDED).status_code == 401


def test_sign_out_everywhere_is_immediate(app, staff, auth_emulator):
    other_device = app.test_client()
    sign_in(other_device, auth_emulator, STAFF)
    other_device.get(GUARDED)

    assert post_form(staff, "/admin/sessions/end-all").status_code == 303

    assert other_device.get(GUARDED).status_code == 401


def test_ending_a_session_is_immediate(client, staff, store, owner_headers):
    [session] = store.sessions(email=STAFF)

    ended = client.delete(f"/admin/api/sessions/{session['id']}", headers=owner_headers)

    assert ended.status_code == 200
    assert staff.get(GUARDED).status_code == 401


def test_role_change_is_immediate(client, staff, owner_headers):
    changed = client.patch(
        f"/admin/api/admins/{STAFF}", json={"role": "viewer"}, headers=owner_headers
    )

    assert changed.status_code == 200
    response = staff.get(GUARDED)
    assert response.get_json()["admin"]["role"] == "viewer"
    assert round_trips(response)["firestore"] == 1


@pytest.mark.parametrize("change", ["disable", "remove"])
def test_disabling_or_removing_an_admin_is_immediate(client, staff, owner_headers, change):
    if change == "disable":
        done = client.patch(
            f"/admin/api/admins/{STAFF}", json={"disabled": True}, headers=owner_headers
        )
    else:
        done = client.delete(f"/admin/api/admins/{STAFF}", headers=owner_headers)
    assert done.status_code == 200

    assert staff.get(GUARDED).status_code in (401, 403)
