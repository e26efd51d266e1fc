"""Owners manage admins: invite, change role, disable, enable, remove."""

from __future__ import annotations

import pytest
import requests
from firebase_admin import auth

from adminapp.testing.firebase import DEFAULT_PASSWORD
from tests.support.web import post_form, sign_in

OWNER = "boss@example.com"
JSON = {"Accept": "application/json"}


@pytest.fixture
def owner_client(signed_in_as):
    return signed_in_as(OWNER, "owner")


def audit_events(store, event):
    return store.audit(event=event)


def test_invite_writes_the_document_and_creates_the_firebase_user(
    owner_client, store, auth_emulator
):
    response = post_form(
        owner_client, "/admin/admins", {"email": "New.Person@Example.com", "role": "admin"}
    )
    assert response.status_code == 303
    assert store.admin("new.person@example.com")["role"] == "admin"
    user = auth.get_user_by_email("new.person@example.com", app=auth_emulator.app)
    assert user.email_verified
    [entry] = audit_events(store, "admin_invited")
    assert entry["actor"] == OWNER and entry["target"] == "new.person@example.com"
    page = owner_client.get("/admin/admins").get_data(as_text=True)
    assert "new.person@example.com is now an admin (admin)." in page


def test_invite_of_existing_firebase_user_keeps_the_account_but_not_its_password(
    owner_client, store, auth_emulator
):
    """The account stays (same uid), but whoever set its password is not
    the invitee for sure: the password is replaced and the set-password link
    goes to the mailbox (tests/integration/test_planted_accounts.py)."""
    existing = auth_emulator.create_user("known@example.com")
    post_form(owner_client, "/admin/admins", {"email": "known@example.com", "role": "viewer"})
    assert auth.get_user_by_email("known@example.com", app=auth_emulator.app).uid == existing.uid
    with pytest.raises(requests.HTTPError):
        auth_emulator.sign_in("known@example.com")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "not-an-email", "role": "admin"}, "Enter a valid email address"),
        ({"email": "", "role": "admin"}, "Enter an email address."),
        ({"email": "a@example.com", "role": "emperor"}, "Choose a role from the list."),
        (
            {"email": "x" * 300 + "@example.com", "role": "admin"},
            "An email address has at most 254 characters",
        ),
    ],
)
def test_invalid_invite_is_a_400_with_the_reason(owner_client, store, form, message):
    response = post_form(owner_client, "/admin/admins", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert store.audit(event="admin_invited") == []


def test_inviting_an_existing_admin_is_a_409(owner_client, store):
    store.add_admin("twice@example.com", "viewer")
    response = post_form(
        owner_client, "/admin/admins", {"email": "twice@example.com", "role": "owner"}
    )
    assert response.status_code == 409
    assert store.admin("twice@example.com")["role"] == "viewer"


def test_role_change_takes_effect_at_the_next_request(owner_client, signed_in_as, store):
    viewer = signed_in_as("viewer@example.com", "viewer")
    assert viewer.get("/admin/api/sessions?email=boss@example.com").status_code == 403

    response = post_form(owner_client, "/admin/admins/viewer@example.com/role", {"role": "owner"})

    assert response.status_code == 303
    assert viewer.get("/admin/api/sessions?email=boss@example.com").status_code == 200
    [entry] = store.audit(event="admin_role_changed")
    assert entry["reason"] == "viewer -> owner" and entry["target"] == "viewer@example.com"


def test_disable_signs_the_admin_out_and_enable_lets_them_back(
    owner_client, signed_in_as, store, auth_emulator, app
):
    other = signed_in_as("other@example.com", "admin")
    assert post_form(owner_client, "/admin/admins/other@example.com/disable").status_code == 303
    assert other.get("/admin/", headers=JSON).status_code in (401, 403)
    assert store.admin("other@example.com")["disabled"] is True
    assert [s["active"] for s in store.sessions(email="other@example.com")] == [False]

    assert post_form(owner_client, "/admin/admins/other@example.com/enable").status_code == 303
    again = app.test_client()
    sign_in(again, auth_emulator, "other@example.com")
    assert again.get("/admin/").status_code == 200
    events = [e["event"] for e in store.audit()]
    assert "admin_disabled" in events and "admin_enabled" in events


def test_remove_asks_first_then_ends_access(owner_client, signed_in_as, store):
    other = signed_in_as("other@example.com", "viewer")
    page = owner_client.get("/admin/admins/other@example.com/remove")
    assert page.status_code == 200 and "Remove other@example.com?" in page.get_data(as_text=True)
    assert store.admin("other@example.com") is not None  # GET changes nothing

    assert post_form(owner_client, "/admin/admins/other@example.com/remove").status_code == 303
    assert store.admin("other@example.com") is None
    assert other.get("/admin/").status_code in (302, 403)
    [entry] = store.audit(event="admin_removed")
    assert entry["actor"] == OWNER


def test_a_removed_admin_takes_their_second_factors_with_them(owner_client, signed_in_as, store):
    """Their TOTP key and recovery codes go in the same transaction as
    their admin document: nothing of theirs waits for the address's next
    admin."""
    signed_in_as("leaver@example.com", "viewer")
    assert {f["kind"] for f in store.factors("leaver@example.com")} == {"totp", "recovery_codes"}
    staying = {f["id"] for f in store.factors(OWNER)}

    assert post_form(owner_client, "/admin/admins/leaver@example.com/remove").status_code == 303

    assert store.admin("leaver@example.com") is None
    assert store.factors("leaver@example.com") == []
    assert {f["id"] for f in store.factors(OWNER)} == staying  # only theirs


def test_an_invitation_clears_the_factors_an_earlier_admin_of_the_address_left(
    owner_client, signed_in_as, store, auth_emulator, app
):
    """Factors left behind (an admin document deleted by hand, or removed
    before removals took factors along) do not pass to the address's next
    admin, who may be someone else with a reused mailbox: the invitation
    deletes them with the new admin document's write, and the new holder's
    first sign-in sets up their own second factor (kept, the old key would
    have blocked that enrolment, and the old recovery codes would open the
    new holder's account to whoever kept them)."""
    signed_in_as("reused@example.com", "viewer")
    store.remove_admin("reused@example.com")  # by hand: the factors stay
    old = auth.get_user_by_email("reused@example.com", app=auth_emulator.app)
    auth.delete_user(old.uid, app=auth_emulator.app)
    assert store.factors("reused@example.com")

    response = post_form(
        owner_client, "/admin/admins", {"email": "reused@example.com", "role": "viewer"}
    )

    assert response.status_code == 303
    assert store.factors("reused@example.com") == []
    new = auth.get_user_by_email("reused@example.com", app=auth_emulator.app)
    auth.update_user(new.uid, password=DEFAULT_PASSWORD, app=auth_emulator.app)
    sign_in(app.test_client(), auth_emulator, "reused@example.com")  # enrols a new app
    assert [f["kind"] for f in store.factors("reused@example.com") if f["kind"] == "totp"] == [
        "totp"
    ]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/admins/boss@example.com/remove", {}),
        ("/admin/admins/boss@example.com/disable", {}),
        ("/admin/admins/boss@example.com/role", {"role": "admin"}),
    ],
)
def test_the_last_owner_cannot_be_removed_disabled_or_demoted(owner_client, store, path, data):
    store.add_admin("disabled.owner@example.com", "owner", disabled=True)  # does not count
    response = post_form(owner_client, path, data)
    assert response.status_code == 409
    assert "last enabled owner" in response.get_data(as_text=True)
    assert store.admin(OWNER)["role"] == "owner"
    assert store.admin(OWNER).get("disabled") in (None, False)
    [entry] = [e for e in store.audit() if e["outcome"] == "refused"]
    assert entry["reason"] == "last_owner"


def test_an_owner_can_step_down_when_another_owner_exists(owner_client, store):
    store.add_admin("heir@example.com", "owner")
    response = post_form(owner_client, "/admin/admins/boss@example.com/role", {"role": "viewer"})
    assert response.status_code == 303
    assert store.admin(OWNER)["role"] == "viewer"
    # No longer an owner: the next owner-only request is refused.
    assert owner_client.get("/admin/admins/heir@example.com/remove").status_code == 403


def test_unknown_admin_is_404(owner_client):
    for path in (
        "/admin/admins/ghost@example.com/disable",
        "/admin/admins/ghost@example.com/remove",
    ):
        assert post_form(owner_client, path).status_code == 404
    assert owner_client.get("/admin/admins/not-an-email/remove").status_code == 404


def test_viewers_see_the_list_without_controls(signed_in_as):
    viewer = signed_in_as("viewer@example.com", "viewer")
    page = viewer.get("/admin/admins").get_data(as_text=True)
    assert "viewer@example.com" in page
    assert "Invite an admin" not in page and "Disable" not in page
