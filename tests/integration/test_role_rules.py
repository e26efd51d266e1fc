"""Roles from the identity provider (ROLE_RULES, issue 23 item 3), on the
real emulators: custom claims set with the Admin SDK on an Auth emulator
user, SAML attributes handed on by the emulator's signInWithIdp as
``firebase.sign_in_attributes``. A matching staff member's first sign-in
makes their admin document (behind the domain allow-list and the second
factor); a claim taken away drops it and ends their sessions, at the next
sign-in or bearer call; admins added by hand are left alone."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from adminapp.testing.firebase import after_the_admin_read
from adminapp.web.context import EXTENSION_KEY
from tests.integration.test_second_factor import confirm_enrolment
from tests.support.settings import base_config
from tests.support.web import exchange, session_cookie

STAFF = "alice@acme.com"
RULES = [
    {"claim": "groups", "contains": "it-admins", "role": "owner"},
    {"claim": "groups", "contains": "support", "role": "admin"},
    {"attribute": "department", "equals": "support", "role": "viewer"},
]


def rules_config(rules: list[dict], **overrides: str) -> dict[str, str]:
    """An app whose ROLE_RULES are ``rules``, for acme.com staff."""
    return base_config(ROLE_RULES=json.dumps(rules), ALLOWED_EMAIL_DOMAINS="acme.com", **overrides)


@pytest.fixture
def config():
    return rules_config(
        RULES,
        ALLOWED_SIGN_IN_PROVIDERS="password,saml.acme",
        SIGN_IN_PROVIDER_OPTIONS=json.dumps({"saml.acme": {"label": "Acme SSO"}}),
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def staff(auth_emulator, email=STAFF, claims=None):
    user = auth_emulator.create_user(email)
    auth_emulator.set_claims(user.uid, claims)
    return user


def rule_events(store) -> list[str]:
    return sorted(entry["event"] for entry in store.audit() if entry["event"].endswith("_by_rule"))


def open_sessions(store, email=STAFF) -> list[dict]:
    return [s for s in store.sessions(email=email) if s.get("ended_at") is None]


def signed_in_by_rule(app, auth_emulator, email=STAFF):
    """A new client that signed in and enrolled its second factor: full session."""
    client = app.test_client()
    response = exchange(client, auth_emulator.sign_in(email), next_path="/admin/sessions")
    assert response.status_code == 200, response.get_json()
    confirm_enrolment(client)
    return client


def test_a_matching_first_sign_in_makes_the_admin_behind_the_second_factor(
    app, client, auth_emulator, store
):
    user = staff(auth_emulator, claims={"groups": ["marketing", "support"]})

    response = exchange(client, auth_emulator.sign_in(STAFF), next_path="/admin/sessions")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["redirect"].startswith("/admin/mfa")
    admin = store.admin(STAFF)
    assert admin["role"] == "admin"  # rule #2; #1 does not match
    assert admin["managed_by_rule"] is True
    assert admin["uid"] == user.uid
    assert admin["disabled"] is False
    [session] = store.sessions(email=STAFF)
    assert session["mfa_pending"] is True
    # The same batch: the admin, the session and both entries.
    [created] = store.audit(event="admin_created_by_rule")
    assert created["target"] == STAFF
    assert created["reason"] == '#2 claim groups contains "support" -> admin'
    [signed_in] = store.audit(event="sign_in")
    assert signed_in["reason"] == "second_factor_pending"
    # Pending: nothing but the second-factor pages until a factor is enrolled.
    assert client.get("/admin/api/me").status_code == 401

    confirm_enrolment(client)

    me = client.get("/admin/api/me")
    assert me.status_code == 200
    assert me.get_json()["admin"]["role"] == "admin"


def test_a_staff_member_no_rule_matches_is_refused_and_nothing_is_written(
    client, auth_emulator, store
):
    staff(auth_emulator, claims={"groups": ["marketing"], "department": "support"})

    response = exchange(client, auth_emulator.sign_in(STAFF))

    assert response.status_code == 403
    assert response.get_json()["error"] == "not_admin"
    assert store.admin(STAFF) is None  # no admin document was written
    assert store.sessions() == []
    assert session_cookie(client) is None
    assert rule_events(store) == []


def test_a_matching_claim_outside_the_allowed_domains_is_refused(client, auth_emulator, store):
    outsider = "mallory@gmail.com"
    staff(auth_emulator, outsider, claims={"groups": ["it-admins"]})

    response = exchange(client, auth_emulator.sign_in(outsider))

    assert response.status_code == 403
    assert response.get_json()["error"] == "email_domain_not_allowed"
    assert store.admin(outsider) is None
    assert store.sessions() == []
    assert rule_events(store) == []


def test_a_removed_claim_drops_the_admin_at_the_next_sign_in_and_ends_the_other_sessions(
    app, auth_emulator, store
):
    user = staff(auth_emulator, claims={"groups": ["it-admins"]})
    first = signed_in_by_rule(app, auth_emulator)
    assert first.get("/admin/api/me").get_json()["admin"]["role"] == "owner"
    assert store.factors(STAFF)  # the TOTP app of their first sign-in
    store.add_admin("break.glass@acme.com", "owner")  # not the last owner either way

    auth_emulator.set_claims(user.uid, {"groups": ["alumni"]})
    second = app.test_client()
    response = exchange(second, auth_emulator.sign_in(STAFF))

    assert response.status_code == 403
    assert response.get_json()["error"] == "role_dropped_by_rule"
    assert store.admin(STAFF) is None
    assert store.factors(STAFF) == []  # gone with the document
    assert session_cookie(second) is None
    # Every session of theirs has ended, the one opened before included.
    assert open_sessions(store) == []
    assert {s["ended_reason"] for s in store.sessions(email=STAFF)} == {"role_dropped_by_rule"}
    assert first.get("/admin/api/me").status_code in (401, 403)
    [dropped] = store.audit(event="admin_role_dropped_by_rule")
    assert dropped["reason"] == "owner: no rule matches (sign_in)"
    assert dropped["target_uid"] == user.uid
    [refused] = store.audit(event="sign_in", outcome="refused")
    assert refused["reason"] == "role_dropped_by_rule"

    # The claim back: a new just-in-time admin, behind a second factor again.
    auth_emulator.set_claims(user.uid, {"groups": ["support"]})
    third = app.test_client()
    again = exchange(third, auth_emulator.sign_in(STAFF), next_path="/admin/sessions")
    assert again.status_code == 200
    assert store.admin(STAFF)["role"] == "admin"
    [pending] = open_sessions(store)
    assert pending["mfa_pending"] is True


def test_a_rule_made_admin_does_not_inherit_factors_an_earlier_admin_left(
    app, auth_emulator, store
):
    """Factors left under the address by an earlier admin document (removed
    by hand, or before removals took factors along) go when a rule makes the
    admin anew, as they go at an invitation: the new admin enrols their own
    (kept, the old key would count as set up and the enrolment be refused)."""
    staff(auth_emulator, claims={"groups": ["support"]})
    old = {"email": STAFF, "kind": "totp", "name": "an old phone"}
    store.client.collection("admin_factors").add(
        {**old, "created_at": datetime(2020, 1, 1, tzinfo=UTC)}
    )

    client = signed_in_by_rule(app, auth_emulator)  # the exchange, then the enrolment

    assert client.get("/admin/api/me").status_code == 200
    names = sorted(factor["name"] for factor in store.factors(STAFF))
    assert names == ["Authenticator app", "Recovery codes"]


def test_another_matching_rule_changes_a_rule_made_admins_role(app, auth_emulator, store):
    user = staff(auth_emulator, claims={"groups": ["it-admins"]})
    first = signed_in_by_rule(app, auth_emulator)

    auth_emulator.set_claims(user.uid, {"groups": ["support"]})
    response = exchange(app.test_client(), auth_emulator.sign_in(STAFF))

    assert response.status_code == 200  # a pending session: they have a factor
    assert store.admin(STAFF)["role"] == "admin"
    [changed] = store.audit(event="admin_role_changed_by_rule")
    assert changed["reason"] == 'owner -> admin: #2 claim groups contains "support" -> admin'
    # The session opened as owner now has the admin role (the guard reads it).
    assert first.get("/admin/api/me").get_json()["admin"]["role"] == "admin"


def test_admins_added_by_hand_are_not_touched_by_rules(client, auth_emulator, store):
    staff(auth_emulator, claims={"groups": ["it-admins"]})
    store.add_admin(STAFF, "viewer")

    response = exchange(client, auth_emulator.sign_in(STAFF))
    assert response.status_code == 200
    assert store.admin(STAFF)["role"] == "viewer"
    assert "managed_by_rule" not in store.admin(STAFF)

    # Nor when no rule matches.
    other = "bob@acme.com"
    staff(auth_emulator, other, claims=None)
    store.add_admin(other, "admin")
    assert exchange(client, auth_emulator.sign_in(other)).status_code == 200
    assert store.admin(other)["role"] == "admin"
    assert rule_events(store) == []


def test_a_saml_attribute_rule_admits_through_sign_in_attributes(client, auth_emulator, store):
    token = auth_emulator.sign_in_with_idp(
        "saml.acme", STAFF, saml_attributes={"department": "support"}
    )

    response = exchange(client, token)

    assert response.status_code == 200, response.get_json()
    assert store.admin(STAFF)["role"] == "viewer"
    [created] = store.audit(event="admin_created_by_rule")
    assert created["reason"] == '#3 attribute department equals "support" -> viewer'


def test_a_saml_sign_in_without_the_attribute_is_refused(client, auth_emulator, store):
    token = auth_emulator.sign_in_with_idp(
        "saml.acme", STAFF, saml_attributes={"department": "sales"}
    )
    response = exchange(client, token)
    assert response.status_code == 403
    assert store.admin(STAFF) is None


def test_a_bearer_call_never_makes_an_admin(client, auth_emulator, store):
    staff(auth_emulator, claims={"groups": ["it-admins"]})

    response = client.get("/admin/api/me", headers=bearer(auth_emulator.sign_in(STAFF)))

    assert response.status_code == 403
    assert response.get_json()["error"] == "not_admin"
    assert store.admin(STAFF) is None
    assert rule_events(store) == []


def test_a_bearer_call_without_the_claim_drops_the_admin_and_ends_their_sessions(
    app, client, auth_emulator, store
):
    user = staff(auth_emulator, claims={"groups": ["support"]})
    browser = signed_in_by_rule(app, auth_emulator)
    # A script's account: its bearer calls need no Firebase second factor.
    store.update_admin(STAFF, service_account=True)
    me = client.get("/admin/api/me", headers=bearer(auth_emulator.sign_in(STAFF)))
    assert me.get_json()["admin"]["role"] == "admin"

    auth_emulator.set_claims(user.uid, {"groups": ["it-admins"]})
    raised = client.get("/admin/api/me", headers=bearer(auth_emulator.sign_in(STAFF)))
    assert raised.get_json()["admin"]["role"] == "owner"
    assert store.admin(STAFF)["role"] == "owner"
    assert len(store.audit(event="admin_role_changed_by_rule")) == 1

    auth_emulator.set_claims(user.uid, None)
    response = client.get("/admin/api/me", headers=bearer(auth_emulator.sign_in(STAFF)))

    assert response.status_code == 403
    assert response.get_json()["error"] == "role_dropped_by_rule"
    assert store.admin(STAFF) is None
    assert open_sessions(store) == []
    assert browser.get("/admin/api/me").status_code in (401, 403)
    [dropped] = store.audit(event="admin_role_dropped_by_rule")
    assert dropped["reason"] == "owner: no rule matches (bearer)"


def test_an_owner_role_change_takes_the_admin_out_of_the_rules(app, auth_emulator, store):
    user = staff(auth_emulator, claims={"groups": ["support"]})
    signed_in_by_rule(app, auth_emulator)
    services = app.extensions[EXTENSION_KEY]
    services.management.change_role(
        STAFF,
        "viewer",
        actor="boss@acme.com",
        client=None,
        holds=services.permissions.of_role("owner"),
    )
    assert store.admin(STAFF)["managed_by_rule"] is False

    auth_emulator.set_claims(user.uid, None)
    response = exchange(app.test_client(), auth_emulator.sign_in(STAFF))

    assert response.status_code == 200
    assert store.admin(STAFF)["role"] == "viewer"
    assert store.audit(event="admin_role_dropped_by_rule") == []


def test_the_admins_page_says_which_admins_a_rule_made(app, auth_emulator, store, signed_in_as):
    staff(auth_emulator, claims={"groups": ["support"]})
    assert exchange(app.test_client(), auth_emulator.sign_in(STAFF)).status_code == 200
    store.add_admin("hand@acme.com", "viewer")
    owner = signed_in_as("boss@acme.com", "owner")

    page = owner.get("/admin/admins").get_data(as_text=True)

    rows = {email: row for row in page.split("<tr")[1:] for email in [_email_of(row)] if email}
    assert set(rows) == {STAFF, "hand@acme.com", "boss@acme.com"}
    assert "from a sign-in rule" in rows[STAFF]
    assert "from a sign-in rule" not in rows["hand@acme.com"]
    assert "from a sign-in rule" not in rows["boss@acme.com"]


def _email_of(row: str) -> str | None:
    found = re.search(r'data-label="Email">([^<{\s]+)', row)
    return found.group(1) if found else None


def test_an_invitation_racing_a_first_sign_in_wins_and_the_rule_writes_nothing(
    app, client, auth_emulator, store, monkeypatch
):
    staff(auth_emulator, claims={"groups": ["it-admins"]})
    # An owner invites them as a viewer between the app's read and its write.
    after_the_admin_read(app, monkeypatch, lambda email: store.add_admin(email, "viewer"))

    response = exchange(client, auth_emulator.sign_in(STAFF))

    assert response.status_code == 409
    assert response.get_json()["error"] == "uid_conflict"
    assert store.admin(STAFF)["role"] == "viewer"
    assert "managed_by_rule" not in store.admin(STAFF)
    assert store.sessions() == []
    assert session_cookie(client) is None
    assert store.audit(event="admin_created_by_rule") == []


def test_an_owner_change_racing_a_drop_keeps_the_admin(app, auth_emulator, store, monkeypatch):
    user = staff(auth_emulator, claims={"groups": ["support"]})
    signed_in_by_rule(app, auth_emulator)
    auth_emulator.set_claims(user.uid, None)
    # An owner sets the role by hand between the app's read and its delete.
    after_the_admin_read(
        app,
        monkeypatch,
        lambda email: store.update_admin(email, role="viewer", managed_by_rule=False),
    )

    response = exchange(app.test_client(), auth_emulator.sign_in(STAFF))

    assert response.status_code == 409
    assert store.admin(STAFF)["role"] == "viewer"
    assert store.audit(event="admin_role_dropped_by_rule") == []
    assert len(open_sessions(store)) == 1  # the one opened before is still there
