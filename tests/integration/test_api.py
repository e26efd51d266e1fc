"""The JSON API: cookie or Bearer ID token, the same checks, JSON errors."""

from __future__ import annotations

import time

import pytest
from google.api_core.exceptions import FailedPrecondition
from google.cloud.firestore import WriteBatch

from adminapp.testing.firebase import rewrite_claims
from tests.support.web import ORIGIN, csrf_token

OWNER = "boss@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def owner_token(auth_emulator, store):
    """A script's token: its account is a service account (``flask admins
    set-service-account``), so a password-only ID token opens the API
    (tests/integration/test_bearer_second_factor.py has the rule itself)."""
    auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner", service_account=True)
    return auth_emulator.sign_in(OWNER)


def test_me_with_a_bearer_token(client, owner_token, store):
    response = client.get("/admin/api/me", headers=bearer(owner_token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["admin"]["email"] == OWNER and body["admin"]["role"] == "owner"
    assert body["authenticated_with"] == "bearer" and body["session"] is None
    assert store.sessions() == []  # an API call opens no session


def test_me_with_the_session_cookie(signed_in_as):
    client = signed_in_as(OWNER, "owner")
    body = client.get("/admin/api/me").get_json()
    assert body["authenticated_with"] == "session"
    assert body["session"]["current"] is True


def test_bearer_token_older_than_five_minutes_is_fine_for_the_api(client, owner_token):
    # Scripts refresh ID tokens without a password; only sign-in needs a recent one.
    old = rewrite_claims(owner_token, auth_time=int(time.time()) - 3600)
    assert client.get("/admin/api/me", headers=bearer(old)).status_code == 200


def test_a_first_bearer_call_that_loses_the_uid_binding_race_is_a_409(
    client, owner_token, store, monkeypatch
):
    """The first call binds the admin to the token's uid with a write that
    holds only if the document is unchanged since it was read. Real
    Firestore refuses it when another first sign-in bound a uid meanwhile;
    the local emulator ignores update-time preconditions, so inject its
    answer."""

    def changed_since_read(self, *args, **kwargs):
        raise FailedPrecondition("the stored version does not match the required base version")

    monkeypatch.setattr(WriteBatch, "commit", changed_since_read)
    response = client.get("/admin/api/me", headers=bearer(owner_token))
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "uid_conflict",
        "message": "Sign-in could not be completed. Sign in again.",
    }
    assert "uid" not in store.admin(OWNER)


def test_bearer_token_of_a_non_admin_is_403(client, auth_emulator, clean):
    auth_emulator.create_user("customer@example.com")
    response = client.get(
        "/admin/api/me", headers=bearer(auth_emulator.sign_in("customer@example.com"))
    )
    assert response.status_code == 403
    assert response.get_json()["error"] == "not_admin"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Bearer garbage", 400),
        ("Bearer a.b.c", 401),
        ("Bearer " + "x" * 5000, 400),
    ],
)
def test_bad_bearer_tokens_get_json_errors(client, clean, header, status):
    response = client.get("/admin/api/me", headers={"Authorization": header})
    assert response.status_code == status
    assert response.get_json()["message"]


def test_no_credentials_is_401_json(client, clean):
    response = client.get("/admin/api/admins")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_roles_apply_to_bearer_callers(client, auth_emulator, store):
    auth_emulator.create_user("viewer@example.com")
    store.add_admin("viewer@example.com", "viewer", service_account=True)
    token = auth_emulator.sign_in("viewer@example.com")
    assert client.get("/admin/api/admins", headers=bearer(token)).status_code == 200
    response = client.post(
        "/admin/api/admins",
        headers=bearer(token),
        json={"email": "x@example.com", "role": "viewer"},
    )
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert store.admin("x@example.com") is None


def test_bearer_writes_need_no_csrf_token(client, owner_token, store):
    response = client.post(
        "/admin/api/admins",
        headers=bearer(owner_token),
        json={"email": "Script.Made@example.com", "role": "viewer"},
    )
    assert response.status_code == 201
    assert response.get_json()["admin"]["email"] == "script.made@example.com"
    assert store.admin("script.made@example.com")["role"] == "viewer"


def test_cookie_writes_need_the_csrf_token(signed_in_as, store):
    client = signed_in_as(OWNER, "owner")
    without = client.post(
        "/admin/api/admins",
        json={"email": "a@example.com", "role": "viewer"},
        headers={"Origin": ORIGIN},
    )
    assert without.status_code == 400
    assert without.get_json()["error"] == "csrf_failed"
    assert store.admin("a@example.com") is None
    with_token = client.post(
        "/admin/api/admins",
        json={"email": "a@example.com", "role": "viewer"},
        headers={"X-CSRFToken": csrf_token(client), "Origin": ORIGIN},
    )
    assert with_token.status_code == 201


def test_update_and_remove_an_admin(client, owner_token, store):
    store.add_admin("staff@example.com", "viewer")
    response = client.patch(
        "/admin/api/admins/staff@example.com",
        headers=bearer(owner_token),
        json={"role": "admin", "disabled": True},
    )
    assert response.status_code == 200
    assert response.get_json()["admin"] == {
        "email": "staff@example.com",
        "role": "admin",
        # What the role grants (adminapp/domain/permissions.py), disabled or not.
        "permissions": [
            "admins.read",
            "audit.read",
            "users.disable",
            "users.read",
            "users.reset",
            "users.revoke",
            "users.verify",
        ],
        "disabled": True,
        "display_name": None,
        "last_sign_in_at": None,
        "second_factor": False,
        "service_account": False,
        "managed_by_rule": False,
    }
    # One change, one audit entry that names both parts.
    [entry] = store.audit(target="staff@example.com", event="admin_changed")
    assert entry["outcome"] == "ok" and entry["reason"] == "viewer -> admin; disabled"
    assert not store.audit(target="staff@example.com", event="admin_role_changed")
    removed = client.delete("/admin/api/admins/staff@example.com", headers=bearer(owner_token))
    assert removed.status_code == 200 and store.admin("staff@example.com") is None
    again = client.delete("/admin/api/admins/staff@example.com", headers=bearer(owner_token))
    assert again.status_code == 404


def test_last_owner_rule_holds_in_the_api(client, owner_token, store):
    response = client.patch(
        f"/admin/api/admins/{OWNER}", headers=bearer(owner_token), json={"disabled": True}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "last_owner"


def test_a_change_of_role_and_status_is_one_change_saved_whole_or_not_at_all(
    client, owner_token, store
):
    """PATCH with both fields is one transaction and one audit entry: when the
    status part is refused, the role part is not saved either."""
    before = store.admin(OWNER)
    response = client.patch(
        f"/admin/api/admins/{OWNER}",
        headers=bearer(owner_token),
        json={"role": "owner", "disabled": True},
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "last_owner"
    after = store.admin(OWNER)
    assert after.get("updated_at") == before.get("updated_at") and not after.get("disabled")
    entries = store.audit(target=OWNER)
    assert [(e["event"], e["outcome"]) for e in entries] == [("admin_changed", "refused")]


@pytest.mark.parametrize(
    "body", [None, [], {"role": "emperor"}, {"disabled": "yes"}, {"nickname": "x"}, {}]
)
def test_bad_update_bodies_are_400(client, owner_token, store, body):
    store.add_admin("staff@example.com", "viewer")
    response = client.patch(
        "/admin/api/admins/staff@example.com", headers=bearer(owner_token), json=body
    )
    assert response.status_code == 400
    assert response.get_json()["message"]
    assert store.admin("staff@example.com")["role"] == "viewer"


def test_sessions_and_audit(signed_in_as, client, owner_token):
    browser = signed_in_as("viewer@example.com", "viewer")
    sessions = client.get(
        "/admin/api/sessions?email=viewer@example.com", headers=bearer(owner_token)
    ).get_json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["email"] == "viewer@example.com"
    ended = client.delete(f"/admin/api/sessions/{sessions[0]['key']}", headers=bearer(owner_token))
    assert ended.status_code == 200
    assert browser.get("/admin/api/me").status_code == 401

    audit = client.get(
        "/admin/api/audit?event=session_ended&limit=10", headers=bearer(owner_token)
    ).get_json()
    [entry] = audit["entries"]
    assert entry["actor"] == OWNER and entry["target"] == "viewer@example.com"
    assert audit["older"] is None and audit["newer"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=1000", "limit=ten", "event=nope", "before=123"]
)
def test_bad_audit_queries_are_400(client, owner_token, query):
    response = client.get(f"/admin/api/audit?{query}", headers=bearer(owner_token))
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
