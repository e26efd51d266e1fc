"""Audit finding 2: the email that identifies an admin is the address itself.

Firebase keeps " alice@example.com" and "alice@example.com" as two accounts,
and accepts addresses with "/" in them. None of those may map onto an
admin's document, reach Firestore as a document path, or cause a 500.
"""

from __future__ import annotations

import pytest
import requests

from adminapp.addresses import InvalidEmail, identity_key
from adminapp.testing.firebase import DEFAULT_PASSWORD
from tests.support.web import csrf_token, exchange, session_cookie

ALICE = "alice@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        " alice@example.com",
        "alice@example.com ",
        "alice@example.com\n",
        "ali ce@example.com",
        "alice\u00a0@example.com",
        "alice\x00@example.com",
        "a/b@example.com",
        "a/b/c@example.com",
        "alice@exa/mple.com",
        "alice@example",
        "alice",
        "",
        "a" * 250 + "@example.com",
        '"alice"@example.com',
        None,
        42,
    ],
)
def test_addresses_that_are_not_plain_have_no_identity_key(raw):
    with pytest.raises(InvalidEmail):
        identity_key(raw)


def test_a_plain_address_is_its_own_key_lower_cased():
    assert identity_key("Alice@Example.COM") == ALICE
    assert identity_key("a.b+admin@sub.example.co.kr") == "a.b+admin@sub.example.co.kr"


def _account(auth_emulator, email: str) -> str:
    """A verified Firebase account with exactly this address, made over the
    emulator's REST API (as a product's own sign-up page could): returns its
    ID token."""
    base = f"http://{auth_emulator.host}/identitytoolkit.googleapis.com/v1"
    created = requests.post(
        f"{base}/accounts:signUp",
        params={"key": "demo-api-key"},
        json={"email": email, "password": DEFAULT_PASSWORD, "returnSecureToken": True},
        timeout=5,
    )
    created.raise_for_status()
    verified = requests.post(
        f"{base}/projects/{auth_emulator.project_id}/accounts:update",
        headers={"Authorization": "Bearer owner"},
        json={"localId": created.json()["localId"], "emailVerified": True},
        timeout=5,
    )
    verified.raise_for_status()
    return auth_emulator.sign_in(email)


@pytest.mark.parametrize("look_alike", [" alice@example.com", "alice@example.com "])
def test_a_look_alike_account_does_not_open_or_bind_the_admin(
    client, auth_emulator, store, look_alike
):
    store.add_admin(ALICE, "owner")  # never signed in: not bound to a uid yet
    token = _account(auth_emulator, look_alike)

    response = exchange(client, token)
    assert response.status_code == 403
    assert response.get_json()["error"] == "invalid_email"
    assert store.sessions() == [] and session_cookie(client) is None
    assert "uid" not in store.admin(ALICE)
    assert store.audit() == []  # an unknown person: logged, not written

    api = client.get("/admin/api/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and api.get_json()["error"] == "invalid_email"
    assert "uid" not in store.admin(ALICE)

    # The real Alice is not locked out.
    auth_emulator.create_user(ALICE)
    assert exchange(client, auth_emulator.sign_in(ALICE)).status_code == 200


@pytest.mark.parametrize("address", ["a/b@example.com", "a/b/c@example.com"])
def test_an_address_with_a_slash_is_a_clear_4xx_not_a_500(client, auth_emulator, store, address):
    token = _account(auth_emulator, address)

    response = exchange(client, token)
    assert response.status_code == 403 and response.get_json()["message"]
    assert store.sessions() == []
    api = client.get("/admin/api/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and api.get_json()["error"] == "invalid_email"


def test_every_entry_point_uses_the_same_rule(signed_in_as):
    owner = signed_in_as("boss@example.com", "owner")
    api = owner.post(
        "/admin/api/admins",
        json={"email": " staff@example.com", "role": "viewer"},
        headers={"X-CSRFToken": csrf_token(owner)},
    )
    assert api.status_code == 400 and api.get_json()["error"] == "bad_request"
    patched = owner.patch(
        "/admin/api/admins/a%2Fb@example.com",
        json={"role": "viewer"},
        headers={"X-CSRFToken": csrf_token(owner)},
    )
    assert patched.status_code in (400, 404)
