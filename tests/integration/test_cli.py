"""``flask admins …`` against the emulators."""

from __future__ import annotations

import getpass

import pytest
from firebase_admin import auth

ADMIN = "new.owner@example.com"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_add_with_password_creates_the_firebase_user_and_the_document(cli, store, auth_emulator):
    result = cli.invoke(
        args=[
            "admins",
            "add",
            "New.Owner@Example.com",
            "--role",
            "owner",
            "--password",
            "a-long-enough-password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"{ADMIN} is now an admin with role owner." in result.output
    assert store.admin(ADMIN)["role"] == "owner"
    user = auth.get_user_by_email(ADMIN, app=auth_emulator.app)
    assert user.email_verified
    assert auth_emulator.sign_in(ADMIN, "a-long-enough-password")


def test_add_without_password_writes_only_the_document(cli, store, auth_emulator):
    result = cli.invoke(args=["admins", "add", ADMIN, "--role", "viewer"])
    assert result.exit_code == 0, result.output
    assert store.admin(ADMIN)["role"] == "viewer"
    with pytest.raises(auth.UserNotFoundError):
        auth.get_user_by_email(ADMIN, app=auth_emulator.app)


def test_add_twice_is_refused_and_keeps_the_role(cli, store):
    cli.invoke(args=["admins", "add", ADMIN, "--role", "viewer"])
    result = cli.invoke(args=["admins", "add", ADMIN, "--role", "owner"])
    assert result.exit_code != 0
    assert "already an admin" in result.output
    assert store.admin(ADMIN)["role"] == "viewer"


@pytest.mark.parametrize(
    "args",
    [
        ["admins", "add", "not-an-email", "--role", "owner"],
        ["admins", "add", ADMIN, "--role", "king"],
        ["admins", "add", ADMIN, "--role", "owner", "--password", "short"],
    ],
)
def test_bad_input_is_refused_with_a_message(cli, store, args):
    result = cli.invoke(args=args)
    assert result.exit_code == 2
    assert "Error" in result.output
    assert store.admin(ADMIN) is None


def test_list_and_remove(cli, store):
    store.add_admin("b@example.com", "viewer")
    store.add_admin("a@example.com", "owner", disabled=True)
    listing = cli.invoke(args=["admins", "list"]).output.splitlines()
    assert listing[0].split() == ["a@example.com", "owner", "disabled"]
    assert listing[1].split() == ["b@example.com", "viewer", "active"]

    assert cli.invoke(args=["admins", "remove", "B@example.com"]).exit_code == 0
    assert store.admin("b@example.com") is None
    missing = cli.invoke(args=["admins", "remove", "b@example.com"])
    assert missing.exit_code == 1 and "is not an admin" in missing.output


def test_unreachable_firestore_is_one_line_not_a_traceback(cli, emulators):
    emulators.stop_firestore()
    try:
        result = cli.invoke(args=["admins", "list"])
    finally:
        emulators.start_firestore()
    assert result.exit_code == 1
    assert "Firestore unavailable" in result.output
    assert "Traceback" not in result.output


def test_set_role_disable_enable(cli, store):
    store.add_admin("keeper@example.com", "owner")
    store.add_admin(ADMIN, "viewer")
    assert cli.invoke(args=["admins", "set-role", ADMIN, "admin"]).exit_code == 0
    assert store.admin(ADMIN)["role"] == "admin"
    assert cli.invoke(args=["admins", "disable", ADMIN]).exit_code == 0
    assert store.admin(ADMIN)["disabled"] is True
    assert cli.invoke(args=["admins", "enable", ADMIN]).exit_code == 0
    assert store.admin(ADMIN)["disabled"] is False
    events = [e["event"] for e in store.audit()]
    assert sorted(events) == ["admin_disabled", "admin_enabled", "admin_role_changed"]
    assert {e["actor"] for e in store.audit()} == {f"cli:{getpass.getuser()}"}


def test_the_last_owner_rule_holds_on_the_command_line(cli, store):
    store.add_admin(ADMIN, "owner")
    for args in (
        ["admins", "set-role", ADMIN, "viewer"],
        ["admins", "disable", ADMIN],
        ["admins", "remove", ADMIN],
    ):
        result = cli.invoke(args=args)
        assert result.exit_code == 1
        assert "last enabled owner" in result.output
    assert store.admin(ADMIN)["role"] == "owner"


def test_sessions_list_and_revoke(cli, app, auth_emulator, store):
    from tests.support.web import sign_in

    for email in ("a@example.com", "b@example.com"):
        auth_emulator.create_user(email)
        store.add_admin(email, "viewer")
        sign_in(app.test_client(), auth_emulator, email)
    listing = cli.invoke(args=["sessions", "list"]).output
    assert "a@example.com" in listing and "b@example.com" in listing
    only_a = cli.invoke(args=["sessions", "list", "--email", "a@example.com"]).output
    assert "b@example.com" not in only_a
    key = only_a.split()[0]

    assert cli.invoke(args=["sessions", "revoke", key]).exit_code == 0
    assert [s["active"] for s in store.sessions(email="a@example.com")] == [False]
    result = cli.invoke(args=["sessions", "revoke", "--email", "b@example.com"])
    assert "Ended 1 session of b@example.com." in result.output
    assert cli.invoke(args=["sessions", "list"]).output.strip() == "No open sessions."


@pytest.mark.parametrize(
    "args",
    [
        ["sessions", "revoke"],
        ["sessions", "revoke", "abc"],
        ["sessions", "revoke", "0" * 64, "--email", "a@example.com"],
    ],
)
def test_sessions_revoke_needs_one_valid_target(cli, clean, args):
    result = cli.invoke(args=args)
    assert result.exit_code == 2


def test_revoking_an_unknown_session_says_so(cli, clean):
    result = cli.invoke(args=["sessions", "revoke", "0" * 64])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_audit_tail(cli, store):
    store.add_admin("keeper@example.com", "owner")
    store.add_admin(ADMIN, "viewer")
    cli.invoke(args=["admins", "set-role", ADMIN, "admin"])
    cli.invoke(args=["admins", "disable", ADMIN])
    lines = cli.invoke(args=["audit", "tail", "-n", "5"]).output.splitlines()
    assert [line.split()[2] for line in lines] == ["admin_role_changed", "admin_disabled"]
    assert "viewer -> admin" in lines[0]
