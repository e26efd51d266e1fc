"""``flask admins …`` against the emulators."""

from __future__ import annotations

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
