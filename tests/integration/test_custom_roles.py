"""Custom roles on the emulators: the issue's "support" role end to end, and
the rules no role escapes (names, declared permissions, granting only what
one holds, no deletion while held, the audit)."""

from __future__ import annotations

import getpass

import pytest
from firebase_admin import auth

from adminapp.firebase.roles import ROLES_COLLECTION, ROLES_DOCUMENT
from adminapp.web.permissions import PERMISSIONS_KEY
from tests.support.web import ORIGIN, csrf_token, post_form, sign_in

OWNER = "boss@example.com"
SUPPORT = "helpdesk@example.com"
LEAD = "lead@example.com"
SUPPORT_PERMISSIONS = ["users.read", "users.reset", "users.revoke"]
REFUSAL = "Your role support does not include the permission"


def api(client, method: str, path: str, body: dict | None = None):
    headers = {"Origin": ORIGIN, "X-CSRFToken": csrf_token(client)}
    return client.open(path, method=method, headers=headers, json=body or {})


def stored_roles(store) -> dict:
    snapshot = store.client.collection(ROLES_COLLECTION).document(ROLES_DOCUMENT).get()
    return (snapshot.to_dict() or {}).get("roles", {}) if snapshot.exists else {}


def signed_in(app, auth_emulator, email: str):
    client = app.test_client()
    sign_in(client, auth_emulator, email)
    return client


@pytest.fixture
def owner(signed_in_as):
    return signed_in_as(OWNER, "owner")


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_an_owner_makes_a_support_role_that_resets_but_neither_deletes_nor_sets_claims(
    app, owner, auth_emulator, store, outbox, cli
):
    """The issue's "Done when", through the page, the API and the CLI alike."""
    created = post_form(
        owner,
        "/admin/roles/new",
        {"name": "support", "description": "Helps users", "permissions": SUPPORT_PERMISSIONS},
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    assert sorted(stored_roles(store)["support"]["permissions"]) == SUPPORT_PERMISSIONS
    auth_emulator.create_user(SUPPORT)
    store.add_admin(SUPPORT, "viewer")
    assigned = post_form(owner, f"/admin/admins/{SUPPORT}/role", {"role": "support"})
    assert assigned.status_code == 303, assigned.get_data(as_text=True)
    assert store.admin(SUPPORT)["role"] == "support"
    # The admins page shows the role and what it grants.
    row = owner.get("/admin/admins").get_data(as_text=True).split(f'data-email="{SUPPORT}"')[1]
    row = row.split("</tr>")[0]
    assert "support" in row and "users.reset" in row and "users.delete" not in row

    support = signed_in(app, auth_emulator, SUPPORT)
    customers = [auth_emulator.create_user(f"customer{n}@example.com") for n in range(3)]
    resets_but_neither_deletes_nor_sets_claims(support, customers[:2], outbox)

    # The command line, acting as that admin.
    third = customers[2]
    reset = cli.invoke(args=["users", "--as", SUPPORT, "reset", third.uid])
    assert reset.exit_code == 0, reset.output
    assert len(outbox.sent(third.email)) == 1
    for args, permission in (
        (["delete", third.uid, "--confirm", third.email], "users.delete"),
        (["claims", third.uid, '{"plan": "x"}'], "users.claims"),
    ):
        result = cli.invoke(args=["users", "--as", SUPPORT, *args])
        assert result.exit_code == 1
        assert result.output.strip() == f"Error: {REFUSAL} {permission}."

    # Nothing was deleted and no claim was set, by any of the three.
    for customer in customers:
        user = auth.get_user(customer.uid, app=auth_emulator.app)
        assert not user.custom_claims
    assert not store.audit(event="user_deleted") and not store.audit(event="user_claims_set")
    sent_by = sorted(entry["actor"] for entry in store.audit(event="user_password_reset_sent"))
    assert sent_by == [f"cli:{getpass.getuser()} as {SUPPORT}", SUPPORT, SUPPORT]
    [entry] = store.audit(event="role_created")
    assert (entry["actor"], entry["target"], entry["outcome"]) == (OWNER, "support", "ok")


def resets_but_neither_deletes_nor_sets_claims(support, customers, outbox) -> None:
    """A support admin's client: on the page (the first customer) and the API
    (the second), a reset goes out; delete and claims are refused, with a
    message naming the permission."""
    first, second = customers
    assert post_form(support, f"/admin/users/{first.uid}/reset").status_code == 303
    assert len(outbox.sent(first.email)) == 1
    deleted = post_form(support, f"/admin/users/{first.uid}/delete", {"confirm": first.email})
    assert deleted.status_code == 403
    assert f"{REFUSAL} users.delete." in deleted.get_data(as_text=True)
    claims = post_form(support, f"/admin/users/{first.uid}/claims", {"claims": '{"plan": "x"}'})
    assert claims.status_code == 403
    assert f"{REFUSAL} users.claims." in claims.get_data(as_text=True)

    sent = api(support, "POST", f"/admin/api/users/{second.uid}/reset")
    assert sent.status_code == 202, sent.get_data(as_text=True)
    assert len(outbox.sent(second.email)) == 1
    for method, path, body, permission in (
        ("DELETE", f"/admin/api/users/{second.uid}", {"confirm": second.email}, "users.delete"),
        ("PUT", f"/admin/api/users/{second.uid}/claims", {"claims": {"plan": "x"}}, "users.claims"),
    ):
        response = api(support, method, path, body)
        assert response.status_code == 403
        assert response.get_json() == {"error": "forbidden", "message": f"{REFUSAL} {permission}."}


def test_names_and_permissions_are_validated_before_anything_is_written(owner, store):
    for body, code in (
        ({"name": "admin", "permissions": ["users.read"]}, "bad_role_name"),
        ({"name": "Support Team", "permissions": ["users.read"]}, "bad_role_name"),
        ({"name": "support", "permissions": ["users.read", "users.fly"]}, "unknown_permission"),
        ({"name": "support", "permissions": []}, "bad_permissions"),
        ({"name": "support", "permissions": "users.read"}, "bad_permissions"),
        ({"name": "support", "permissions": ["users.read"], "extra": 1}, "bad_request"),
    ):
        response = api(owner, "POST", "/admin/api/roles", body)
        assert response.status_code == 400, body
        assert response.get_json()["error"] == code, body
    assert stored_roles(store) == {}
    assert not store.audit(event="role_created")

    assert (
        api(
            owner, "POST", "/admin/api/roles", {"name": "support", "permissions": ["users.read"]}
        ).status_code
        == 201
    )
    again = api(
        owner, "POST", "/admin/api/roles", {"name": "support", "permissions": ["audit.read"]}
    )
    assert again.status_code == 409 and again.get_json()["error"] == "role_exists"
    assert stored_roles(store)["support"]["permissions"] == ["users.read"]


def test_a_role_is_not_deleted_while_an_admin_holds_it(owner, auth_emulator, store, cli):
    assert (
        api(
            owner, "POST", "/admin/api/roles", {"name": "support", "permissions": ["users.read"]}
        ).status_code
        == 201
    )
    store.add_admin(SUPPORT, "support")

    refused = api(owner, "DELETE", "/admin/api/roles/support")
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "role_in_use"
    assert SUPPORT in refused.get_json()["message"]
    page = post_form(owner, "/admin/roles/support/delete")
    assert page.status_code == 409 and SUPPORT in page.get_data(as_text=True)
    command = cli.invoke(args=["roles", "delete", "support"])
    assert command.exit_code == 1 and "give them another role first" in command.output
    assert "support" in stored_roles(store)
    assert [e["outcome"] for e in store.audit(event="role_deleted")] == ["refused"] * 3

    # Once nobody holds it, it goes; giving it afterwards is refused.
    assert (
        api(owner, "PATCH", f"/admin/api/admins/{SUPPORT}", {"role": "viewer"}).status_code == 200
    )
    assert api(owner, "DELETE", "/admin/api/roles/support").status_code == 200
    assert "support" not in stored_roles(store)
    gone = api(owner, "PATCH", f"/admin/api/admins/{SUPPORT}", {"role": "support"})
    assert gone.status_code == 400 and gone.get_json()["error"] == "unknown_role"
    assert store.admin(SUPPORT)["role"] == "viewer"


def test_nobody_grants_a_permission_they_do_not_hold(app, owner, auth_emulator, store):
    lead_permissions = ["admins.read", "admins.role", "roles.manage", "users.read"]
    assert (
        api(
            owner, "POST", "/admin/api/roles", {"name": "lead", "permissions": lead_permissions}
        ).status_code
        == 201
    )
    assert (
        api(
            owner,
            "POST",
            "/admin/api/roles",
            {"name": "support", "permissions": SUPPORT_PERMISSIONS},
        ).status_code
        == 201
    )
    auth_emulator.create_user(LEAD)
    store.add_admin(LEAD, "lead")
    store.add_admin(SUPPORT, "lead")
    lead = signed_in(app, auth_emulator, LEAD)

    beyond = api(
        lead, "POST", "/admin/api/roles", {"name": "deleter", "permissions": ["users.delete"]}
    )
    assert beyond.status_code == 403
    assert beyond.get_json() == {
        "error": "grant_beyond_own",
        "message": "You cannot grant permissions you do not hold: users.delete.",
    }
    widened = api(
        lead, "PATCH", "/admin/api/roles/lead", {"permissions": [*lead_permissions, "audit.read"]}
    )
    assert widened.status_code == 403
    assert "deleter" not in stored_roles(store)
    assert sorted(stored_roles(store)["lead"]["permissions"]) == lead_permissions
    # Within their own permissions they may define a role.
    assert (
        api(
            lead, "POST", "/admin/api/roles", {"name": "reader", "permissions": ["users.read"]}
        ).status_code
        == 201
    )

    # Nor give a role (built in or custom) that grants more than they hold.
    for role in ("owner", "viewer", "support"):
        response = api(lead, "PATCH", f"/admin/api/admins/{SUPPORT}", {"role": role})
        assert response.status_code == 403, role
        assert response.get_json()["error"] == "grant_beyond_own"
    assert store.admin(SUPPORT)["role"] == "lead"
    assert api(lead, "PATCH", f"/admin/api/admins/{SUPPORT}", {"role": "reader"}).status_code == 200
    refused = [e for e in store.audit(event="role_created") if e["outcome"] == "refused"]
    assert [(e["actor"], e["target"]) for e in refused] == [(LEAD, "deleter")]


def test_the_last_owner_keeps_the_owner_role(owner, store):
    assert (
        api(
            owner, "POST", "/admin/api/roles", {"name": "support", "permissions": ["users.read"]}
        ).status_code
        == 201
    )
    response = api(owner, "PATCH", f"/admin/api/admins/{OWNER}", {"role": "support"})
    assert response.status_code == 409 and response.get_json()["error"] == "last_owner"
    assert store.admin(OWNER)["role"] == "owner"


def test_an_edit_applies_to_the_holders_at_their_next_request(app, owner, auth_emulator, store):
    assert (
        api(
            owner, "POST", "/admin/api/roles", {"name": "support", "permissions": ["users.read"]}
        ).status_code
        == 201
    )
    auth_emulator.create_user(SUPPORT)
    store.add_admin(SUPPORT, "support")
    support = signed_in(app, auth_emulator, SUPPORT)
    assert support.get("/admin/api/me").get_json()["admin"]["permissions"] == ["users.read"]
    assert support.get("/admin/api/audit").status_code == 403

    edited = post_form(
        owner,
        "/admin/roles/support",
        {"description": "Reads the trail too", "permissions": ["users.read", "audit.read"]},
    )
    assert edited.status_code == 303
    assert support.get("/admin/api/audit").status_code == 200
    [entry] = store.audit(event="role_changed")
    assert (entry["actor"], entry["target"], entry["reason"]) == (
        OWNER,
        "support",
        "+audit.read; description changed",
    )


def test_the_editor_lists_every_permission_grouped_in_the_readers_language(app, owner):
    page = owner.get("/admin/roles/new", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    declared = app.extensions[PERMISSIONS_KEY]
    assert all(f'value="{permission.name}"' in page for permission in declared)
    # Grouped (admins, sessions, audit, users, roles, product pages), in Korean.
    assert page.count("<fieldset") == 6
    assert "<legend>사용자</legend>" in page
    assert "사용자에게 비밀번호 재설정 이메일 보내기" in page


def test_the_command_line_manages_roles(cli, store):
    created = cli.invoke(
        args=[
            "roles",
            "create",
            "support",
            "-p",
            "users.read,users.reset",
            "-p",
            "users.revoke",
            "--description",
            "Helps users",
        ]
    )
    assert created.exit_code == 0, created.output
    assert sorted(stored_roles(store)["support"]["permissions"]) == SUPPORT_PERMISSIONS
    listed = cli.invoke(args=["roles", "list"])
    assert "support  held by 0  users.read, users.reset, users.revoke" in listed.output
    updated = cli.invoke(args=["roles", "update", "support", "-p", "users.read"])
    assert updated.exit_code == 0 and stored_roles(store)["support"]["permissions"] == [
        "users.read"
    ]
    bad = cli.invoke(args=["roles", "create", "owner", "-p", "users.read"])
    assert bad.exit_code == 1
    assert bad.output.strip() == "Error: owner is a built-in role; choose another name."
    assert cli.invoke(args=["admins", "add", SUPPORT, "--role", "support"]).exit_code == 0
    assert store.admin(SUPPORT)["role"] == "support"
    assert cli.invoke(args=["roles", "delete", "support"]).exit_code == 1
    assert cli.invoke(args=["admins", "set-role", SUPPORT, "viewer"]).exit_code == 0
    deleted = cli.invoke(args=["roles", "delete", "support"])
    assert deleted.exit_code == 0 and "support" not in stored_roles(store)
    events = [e["event"] for e in store.audit() if e["event"].startswith("role_")]
    assert sorted(events) == ["role_changed", "role_created", "role_deleted", "role_deleted"]
    assert all(
        e["actor"].startswith("cli") for e in store.audit() if e["event"].startswith("role_")
    )
