"""A ROLE_RULES rule that gives a custom role (issue 23, items 2 and 3
together), on the real emulators: "Okta group support-staff -> role support".

Start-up checks only the role's name; the role itself is read with the admin
document at each sign-in and bearer call. A rule naming a role that does not
exist makes nothing and gives nothing (a translated refusal, the trail and
the security log say why); a role a rule names cannot be deleted; and a
rule-made admin holds exactly the role's permissions, edits included."""

from __future__ import annotations

import logging

import pytest

from adminapp.firebase.roles import ROLES_COLLECTION, ROLES_DOCUMENT
from adminapp.web.context import EXTENSION_KEY
from tests.integration.test_custom_roles import (
    SUPPORT_PERMISSIONS,
    api,
    resets_but_neither_deletes_nor_sets_claims,
    stored_roles,
)
from tests.integration.test_role_rules import (
    bearer,
    open_sessions,
    rule_events,
    rules_config,
    staff,
)
from tests.integration.test_second_factor import confirm_enrolment
from tests.support.web import exchange, post_form, session_cookie

STAFF = "alice@acme.com"
OWNER = "boss@acme.com"
RULES = [
    {"claim": "groups", "contains": "support-staff", "role": "support"},
    {"claim": "groups", "contains": "helpdesk", "role": "viewer"},
]
SUPPORT_RULE = '#1 claim groups contains "support-staff" -> support'


@pytest.fixture
def config():
    # Only the owner role names a second factor: a custom role given by a
    # rule still needs one (it needs one whenever any role does).
    return rules_config(RULES, MFA_REQUIRED_ROLES="owner,viewer")


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def create_support_role(cli, permissions=SUPPORT_PERMISSIONS) -> None:
    result = cli.invoke(args=["roles", "create", "support", "-p", ",".join(permissions)])
    assert result.exit_code == 0, result.output


def security_lines(caplog, event: str) -> list[dict]:
    return [
        record.audit
        for record in caplog.records
        if record.name == "adminapp.security" and getattr(record, "audit", {}).get("event") == event
    ]


def test_a_rule_made_admin_holds_exactly_the_custom_roles_permissions(
    app, client, auth_emulator, store, outbox, cli
):
    create_support_role(cli)
    staff(auth_emulator, claims={"groups": ["support-staff"]})

    response = exchange(client, auth_emulator.sign_in(STAFF), next_path="/admin/users")

    # Made by the rule, with the custom role, behind the second factor
    # although MFA_REQUIRED_ROLES does not name it.
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["redirect"].startswith("/admin/mfa")
    admin = store.admin(STAFF)
    assert (admin["role"], admin["managed_by_rule"]) == ("support", True)
    [created] = store.audit(event="admin_created_by_rule")
    assert created["reason"] == SUPPORT_RULE
    assert client.get("/admin/api/me").status_code == 401
    confirm_enrolment(client)
    me = client.get("/admin/api/me").get_json()["admin"]
    assert (me["role"], me["permissions"]) == ("support", SUPPORT_PERMISSIONS)

    customers = [auth_emulator.create_user(f"customer{n}@example.com") for n in range(2)]
    resets_but_neither_deletes_nor_sets_claims(client, customers, outbox)
    assert not store.audit(event="user_deleted") and not store.audit(event="user_claims_set")

    # An owner edits the role: the rule-made admin's next request has it.
    assert client.get("/admin/api/audit").status_code == 403
    updated = cli.invoke(
        args=["roles", "update", "support", "-p", ",".join([*SUPPORT_PERMISSIONS, "audit.read"])]
    )
    assert updated.exit_code == 0, updated.output
    assert client.get("/admin/api/audit").status_code == 200
    assert "audit.read" in client.get("/admin/api/me").get_json()["admin"]["permissions"]


def test_a_rule_naming_a_role_never_created_makes_nothing_and_says_why(
    client, auth_emulator, store, caplog
):
    staff(auth_emulator, claims={"groups": ["support-staff"]})
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ko"

    with caplog.at_level(logging.INFO, logger="adminapp.security"):
        response = exchange(client, auth_emulator.sign_in(STAFF))

    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "rule_role_missing"
    assert "support" in body["message"] and "역할" in body["message"]
    assert store.admin(STAFF) is None  # no admin document was made
    assert store.sessions() == []
    assert session_cookie(client) is None
    assert rule_events(store) == []
    [refused] = store.audit(event="sign_in")
    assert (refused["actor"], refused["outcome"]) == (STAFF, "refused")
    assert refused["reason"] == f"rule_role_missing: {SUPPORT_RULE}"
    [line] = security_lines(caplog, "sign_in")
    assert line["reason"] == f"rule_role_missing: {SUPPORT_RULE}"

    # In English, too: which role, and who can mend it.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    english = exchange(client, auth_emulator.sign_in(STAFF)).get_json()["message"]
    assert english.startswith("A sign-in rule of this site gives this account the role support")


def test_a_rule_moving_an_admin_to_a_missing_role_gives_no_role(
    app, client, auth_emulator, store, caplog
):
    user = staff(auth_emulator, claims={"groups": ["helpdesk"]})
    browser = app.test_client()
    assert exchange(browser, auth_emulator.sign_in(STAFF)).status_code == 200
    confirm_enrolment(browser)
    store.update_admin(STAFF, service_account=True)  # its bearer calls need no factor
    assert store.admin(STAFF)["role"] == "viewer"

    # The directory moves them to support-staff, whose role nobody created.
    auth_emulator.set_claims(user.uid, {"groups": ["support-staff"]})
    with caplog.at_level(logging.INFO, logger="adminapp.security"):
        signed = exchange(app.test_client(), auth_emulator.sign_in(STAFF))
        called = client.get("/admin/api/me", headers=bearer(auth_emulator.sign_in(STAFF)))

    assert signed.status_code == 403 and signed.get_json()["error"] == "rule_role_missing"
    assert called.status_code == 403 and called.get_json()["error"] == "rule_role_missing"
    assert store.admin(STAFF)["role"] == "viewer"  # no role was given
    assert rule_events(store) == ["admin_created_by_rule"]
    assert len(open_sessions(store)) == 1  # the refused sign-in opened none
    [line] = security_lines(caplog, "access_refused")
    assert (line["auth"], line["reason"]) == ("bearer", f"rule_role_missing: {SUPPORT_RULE}")


def test_a_custom_role_gone_from_firestore_is_refused_at_the_next_sign_in(
    app, client, auth_emulator, store, cli
):
    create_support_role(cli)
    staff(auth_emulator, claims={"groups": ["support-staff"]})
    browser = app.test_client()
    assert exchange(browser, auth_emulator.sign_in(STAFF)).status_code == 200
    confirm_enrolment(browser)
    # The roles document removed by hand (the console), around every check.
    store.client.collection(ROLES_COLLECTION).document(ROLES_DOCUMENT).delete()
    app.extensions[EXTENSION_KEY].sessions.forget_everyone()

    assert browser.get("/admin/api/me").status_code == 403  # the guard: no valid role
    response = exchange(client, auth_emulator.sign_in(STAFF))

    assert response.status_code == 403
    assert response.get_json()["error"] == "rule_role_missing"
    assert store.admin(STAFF)["role"] == "support"  # nothing written to it
    assert rule_events(store) == ["admin_created_by_rule"]
    assert store.audit(event="sign_in", outcome="refused")[0]["reason"] == (
        f"rule_role_missing: {SUPPORT_RULE}"
    )


def test_a_role_a_rule_names_cannot_be_deleted(signed_in_as, store, cli):
    owner = signed_in_as(OWNER, "owner")
    create_support_role(cli)  # held by nobody

    refused = api(owner, "DELETE", "/admin/api/roles/support")
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "role_named_by_rule"
    assert SUPPORT_RULE in refused.get_json()["message"]
    page = post_form(owner, "/admin/roles/support/delete")
    assert page.status_code == 409
    assert "ROLE_RULES" in page.get_data(as_text=True)
    command = cli.invoke(args=["roles", "delete", "support"])
    assert command.exit_code == 1 and "Change ROLE_RULES" in command.output
    assert "support" in stored_roles(store)
    entries = store.audit(event="role_deleted")
    assert [e["outcome"] for e in entries] == ["refused"] * 3
    assert {e["reason"] for e in entries} == {f"role_named_by_rule: {SUPPORT_RULE}"}

    # A role no rule names still goes.
    assert cli.invoke(args=["roles", "create", "billing", "-p", "users.read"]).exit_code == 0
    assert api(owner, "DELETE", "/admin/api/roles/billing").status_code == 200
    assert "billing" not in stored_roles(store)
