"""The exchange: a real Firebase ID token from the Auth emulator for a session."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from adminapp.testing.firebase import OWNER as ADMIN
from adminapp.testing.firebase import rewrite_claims
from tests.support.web import exchange, session_cookie

# Every test here runs with each cookie mode (tests/support/cookies.py).
pytestmark = pytest.mark.both_cookie_modes

OUTSIDER = "customer@example.com"


def assert_refused_without_session(response, status, store, client, error=None):
    assert response.status_code == status
    body = response.get_json()
    assert body["message"]  # something a person can act on
    if error:
        assert body["error"] == error
    assert store.sessions() == []
    assert session_cookie(client) is None


def test_admin_signs_in_and_gets_a_session(client, auth_emulator, store, owner):
    response = exchange(client, auth_emulator.sign_in(ADMIN), next_path="/admin/")

    assert response.status_code == 200
    # The second factor comes next (tests/integration/test_second_factor.py).
    assert response.get_json() == {"redirect": "/admin/mfa?next=/admin/"}
    cookie = session_cookie(client)
    assert cookie is not None
    assert cookie.http_only and cookie.secure and cookie.same_site == "Strict"
    assert cookie.path == "/" and cookie.origin_only  # no Domain: host-only
    [session] = store.sessions(email=ADMIN)
    assert session["uid"] == owner.uid
    assert session["ended_at"] is None
    assert session["expires_at"] > session["created_at"]
    # Only a hash of the session id is stored, never the id from the cookie.
    assert len(session["id"]) == 64
    assert session["id"] not in cookie.value
    # The admin document is bound to the Firebase uid at the first sign-in.
    assert store.admin(ADMIN)["uid"] == owner.uid

    assert session["mfa_pending"] is True

    dashboard = client.get("/admin/")
    assert dashboard.status_code == 302
    assert dashboard.headers["Location"] == "/admin/mfa?next=/admin/"


def test_each_sign_in_gets_a_new_session_id(client, auth_emulator, store, owner):
    exchange(client, auth_emulator.sign_in(ADMIN))
    first = session_cookie(client).value
    exchange(client, auth_emulator.sign_in(ADMIN))
    second = session_cookie(client).value
    assert first != second
    assert len(store.sessions(email=ADMIN)) == 2


def test_admin_document_with_only_a_role_is_enough(client, auth_emulator, store):
    auth_emulator.create_user(ADMIN)
    store.client.collection("admins").document(ADMIN).set({"role": "viewer"})
    assert exchange(client, auth_emulator.sign_in(ADMIN)).status_code == 200


def test_email_case_does_not_matter(client, auth_emulator, store):
    auth_emulator.create_user("Owner@Example.COM")
    store.add_admin(ADMIN)
    assert exchange(client, auth_emulator.sign_in("Owner@Example.COM")).status_code == 200


def test_non_admin_is_refused_and_no_session_is_written(client, auth_emulator, store):
    auth_emulator.create_user(OUTSIDER)
    response = exchange(client, auth_emulator.sign_in(OUTSIDER))
    assert_refused_without_session(response, 403, store, client, "not_admin")
    assert store.admin(OUTSIDER) is None


def test_disabled_admin_is_refused(client, auth_emulator, store):
    auth_emulator.create_user(ADMIN)
    store.add_admin(ADMIN, "owner", disabled=True)
    response = exchange(client, auth_emulator.sign_in(ADMIN))
    assert_refused_without_session(response, 403, store, client, "admin_disabled")


def test_unknown_role_is_refused(client, auth_emulator, store):
    auth_emulator.create_user(ADMIN)
    store.add_admin(ADMIN, "superuser")
    response = exchange(client, auth_emulator.sign_in(ADMIN))
    assert_refused_without_session(response, 403, store, client, "not_admin")


def test_stale_sign_in_is_refused(client, auth_emulator, store, owner):
    token = auth_emulator.sign_in(ADMIN)
    stale = rewrite_claims(token, auth_time=int(time.time()) - 6 * 60)
    response = exchange(client, stale)
    assert_refused_without_session(response, 401, store, client, "stale_sign_in")


def test_revoked_refresh_tokens_are_refused(client, auth_emulator, store, owner):
    token = auth_emulator.sign_in(ADMIN)
    time.sleep(1.1)  # revocation counts from the next whole second
    auth_emulator.revoke(owner.uid)
    response = exchange(client, token)
    assert_refused_without_session(response, 401, store, client, "revoked_token")


def test_disabled_firebase_user_is_refused(client, auth_emulator, store, owner):
    token = auth_emulator.sign_in(ADMIN)
    auth_emulator.disable(owner.uid)
    response = exchange(client, token)
    assert_refused_without_session(response, 403, store, client, "user_disabled")


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("", 401),
        ("Basic dXNlcjpwYXNz", 400),
        ("Bearer", 400),
        ("Bearer    ", 400),
        ("Bearer not-a-jwt", 400),
        ("Bearer a.b.c.d", 400),
        ("Bearer " + "a" * 5000 + ".b.c", 400),
        ("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", 401),
    ],
)
def test_bad_authorization_header_gets_a_clear_4xx(client, store, authorization, status, clean):
    if authorization is None:
        response = exchange(client, None)
    else:
        response = exchange(client, None, authorization=authorization)
    assert_refused_without_session(response, status, store, client)


def test_missing_csrf_token_is_refused_and_nothing_written(client, auth_emulator, store, owner):
    response = exchange(client, auth_emulator.sign_in(ADMIN), csrf=False)
    assert_refused_without_session(response, 400, store, client, "csrf_failed")
    assert store.audit() == []


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null", "http://localhost:8000"])
def test_foreign_or_missing_origin_is_refused(client, auth_emulator, store, owner, origin):
    response = exchange(client, auth_emulator.sign_in(ADMIN), origin=origin)
    assert_refused_without_session(response, 403, store, client, "bad_origin")


def test_cross_site_fetch_metadata_is_refused(client, auth_emulator, store, owner):
    token = auth_emulator.sign_in(ADMIN)
    response = client.post(
        "/admin/session",
        headers={
            "Authorization": f"Bearer {token}",
            "Sec-Fetch-Site": "cross-site",
            "Origin": "http://localhost",
        },
    )
    assert_refused_without_session(response, 403, store, client, "cross_site_request")


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("/admin/", "/admin/"),
        ("/admin/?tab=1", "/admin/?tab=1"),
        ("//evil.example", "/admin/"),
        ("https://evil.example/admin/", "/admin/"),
        (None, "/admin/"),
    ],
)
def test_exchange_answers_with_a_safe_destination(
    client, auth_emulator, store, owner, requested, expected
):
    response = exchange(client, auth_emulator.sign_in(ADMIN), next_path=requested)
    # By way of the second factor, which then continues there.
    destination = urlsplit(response.get_json()["redirect"])
    assert destination.path == "/admin/mfa"
    assert parse_qs(destination.query) == {"next": [expected]}
