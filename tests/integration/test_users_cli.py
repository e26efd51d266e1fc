"""``flask users …`` against the Auth emulator: the pages' actions, audited."""

from __future__ import annotations

import getpass

import pytest
from firebase_admin import auth

CUSTOMER = "customer@example.com"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def customer(auth_emulator):
    return auth_emulator.create_user(CUSTOMER, verified=False)


def test_find_and_show(cli, customer):
    found = cli.invoke(args=["users", "find", CUSTOMER])
    assert found.exit_code == 0, found.output
    assert customer.uid in found.output and "password" in found.output
    shown = cli.invoke(args=["users", "show", customer.uid])
    assert shown.exit_code == 0 and "admin:        no" in shown.output


def test_unknown_user_is_a_one_line_error(cli, clean):
    result = cli.invoke(args=["users", "show", "no-such-user"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: There is no Firebase user no-such-user."


def test_list_pages_with_the_printed_token(cli, auth_emulator):
    for n in range(3):
        auth_emulator.create_user(f"user{n}@example.com")
    first = cli.invoke(args=["users", "list", "--limit", "2"])
    assert first.exit_code == 0, first.output
    token = first.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    second = cli.invoke(args=["users", "list", "--limit", "2", "--page", token])
    listed = [line for line in (first.output + second.output).splitlines() if "@" in line]
    assert len(listed) == 3


@pytest.mark.parametrize(
    ("command", "event"),
    [
        ("disable", "user_disabled"),
        ("enable", "user_enabled"),
        ("revoke", "user_tokens_revoked"),
        ("verify", "user_email_verified"),
    ],
)
def test_actions_are_audited_as_the_operator(cli, auth_emulator, store, customer, command, event):
    result = cli.invoke(args=["users", command, customer.uid])
    assert result.exit_code == 0, result.output
    [entry] = store.audit(event=event)
    assert entry["actor"] == f"cli:{getpass.getuser()}"
    assert (entry["target"], entry["target_uid"]) == (CUSTOMER, customer.uid)


def test_claims_are_validated_then_set(cli, auth_emulator, store, customer):
    refused = cli.invoke(args=["users", "claims", customer.uid, '{"iss": "me"}'])
    assert refused.exit_code == 1 and "iss is a reserved claim" in refused.output
    assert store.audit(event="user_claims_set") == []

    result = cli.invoke(args=["users", "claims", customer.uid, '{"plan": "pro"}'])
    assert result.exit_code == 0, result.output
    assert auth.get_user(customer.uid, app=auth_emulator.app).custom_claims == {"plan": "pro"}


@pytest.mark.parametrize("depth", [8, 100_000])
def test_claims_nested_too_deeply_are_a_one_line_refusal(
    cli, auth_emulator, store, customer, depth
):
    text = "[" * depth + "]" * depth
    result = cli.invoke(args=["users", "claims", customer.uid, '{"a": ' + text + "}"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output == (
        "Error: Custom claims can nest at most 7 levels of objects and lists.\n"
    )
    assert not auth.get_user(customer.uid, app=auth_emulator.app).custom_claims
    assert store.audit(event="user_claims_set") == []


def test_delete_needs_the_confirmation(cli, auth_emulator, customer):
    wrong = cli.invoke(args=["users", "delete", customer.uid, "--confirm", "x@example.com"])
    assert wrong.exit_code == 1
    assert auth.get_user(customer.uid, app=auth_emulator.app)
    right = cli.invoke(args=["users", "delete", customer.uid, "--confirm", CUSTOMER])
    assert right.exit_code == 0, right.output
    with pytest.raises(auth.UserNotFoundError):
        auth.get_user(customer.uid, app=auth_emulator.app)
