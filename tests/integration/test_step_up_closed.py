"""Step-up closed by default (issue 20): every write route is classified,
an unclassified one stops the app or is refused, and the users console's
actions on an admin's own Firebase account need a fresh proof like the
admins page's actions do (review finding Medium 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Blueprint

from adminapp import ConfigError, create_app
from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import AUTHENTICATORS
from adminapp.web.guard import self_service
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, post_form

STAFF = "staff@example.com"


def expire_step_up(store, email: str) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=11)
    for session in store.sessions(email=email, active=True):
        if not session["mfa_pending"]:
            store.update_session(session["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago)


def api_write(client, method: str, path: str, body: dict | None = None):
    headers = {"X-CSRFToken": csrf_token(client), "Origin": ORIGIN}
    return client.open(path, method=method, json=body or {}, headers=headers)


# -- Medium 1: the users console on an admin's own account ----------------------


@pytest.fixture
def boss_and_staff(signed_in_as, auth_emulator):
    """An owner whose proof is stale, and a staff admin's Firebase account."""
    AUTHENTICATORS.clear()
    boss = signed_in_as(OWNER, "owner")
    staff = auth_emulator.create_user(STAFF)
    return boss, staff


ACTIONS = [
    ("POST", "/admin/api/users/{uid}/disable", "disabled", True),
    ("POST", "/admin/api/users/{uid}/revoke", None, None),
    ("POST", "/admin/api/users/{uid}/verify", None, None),
    ("POST", "/admin/api/users/{uid}/reset", None, None),
]


@pytest.mark.parametrize(("method", "path", "field", "value"), ACTIONS)
def test_api_actions_on_an_admins_account_need_a_step_up(
    boss_and_staff, store, auth_emulator, method, path, field, value
):
    boss, staff = boss_and_staff
    store.add_admin(STAFF, "admin")
    expire_step_up(store, OWNER)
    before = _account(auth_emulator, staff.uid)

    response = api_write(boss, method, path.format(uid=staff.uid))

    assert response.status_code == 401
    assert response.get_json()["error"] == "step_up_required"
    assert _account(auth_emulator, staff.uid) == before  # nothing changed at Firebase
    assert [e for e in store.audit() if e["event"].startswith("user_")] == []


def test_the_pages_ask_for_a_step_up_then_the_action_goes_through(
    boss_and_staff, store, auth_emulator
):
    boss, staff = boss_and_staff
    store.add_admin(STAFF, "admin")
    expire_step_up(store, OWNER)

    prompt = post_form(boss, f"/admin/users/{staff.uid}/disable")

    assert prompt.status_code == 401 and "Confirm it is you" in prompt.get_data(as_text=True)
    assert _account(auth_emulator, staff.uid)["disabled"] is False
    # With a fresh proof the same action goes through.
    store_fresh(store, OWNER)
    done = post_form(boss, f"/admin/users/{staff.uid}/disable")
    assert done.status_code == 303
    assert _account(auth_emulator, staff.uid)["disabled"] is True
    [entry] = store.audit(event="user_disabled")
    assert entry["target"] == STAFF and entry["actor"] == OWNER


def test_a_customers_account_needs_no_step_up_for_admin_level_actions(
    boss_and_staff, store, auth_emulator
):
    boss, _ = boss_and_staff
    customer = auth_emulator.create_user("customer@example.com")
    expire_step_up(store, OWNER)

    response = api_write(boss, "POST", f"/admin/api/users/{customer.uid}/disable")

    assert response.status_code == 200
    assert _account(auth_emulator, customer.uid)["disabled"] is True


def test_the_cli_acts_on_an_admins_account_without_a_step_up(app, auth_emulator, store):
    """The operator at the command line is the break-glass path: no session,
    no proof to give; the action is audited as the CLI."""
    staff = auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "admin")

    result = app.test_cli_runner().invoke(args=["users", "disable", staff.uid])

    assert result.exit_code == 0, result.output
    assert _account(auth_emulator, staff.uid)["disabled"] is True
    [entry] = store.audit(event="user_disabled")
    assert entry["actor"].startswith("cli")


def _account(auth_emulator, uid: str) -> dict:
    from firebase_admin import auth

    user = auth.get_user(uid, app=auth_emulator.app)
    return {
        "disabled": user.disabled,
        "verified": user.email_verified,
        "valid_after": user.tokens_valid_after_timestamp,
    }


def store_fresh(store, email: str) -> None:
    now = datetime.now(UTC)
    for session in store.sessions(email=email, active=True):
        if not session["mfa_pending"]:
            store.update_session(session["id"], mfa_step_up_at=now)


# -- every write route classified -------------------------------------------------

unclassified = Blueprint("unclassified", __name__, url_prefix="/admin/unclassified")


@unclassified.post("/")
@self_service("a test route")
def change_something():
    return "changed"


def test_an_unclassified_write_route_stops_the_app_naming_it(clean):
    with pytest.raises(ConfigError) as refused:
        create_app(
            base_config(ADMINAPP_BLUEPRINTS="tests.integration.test_step_up_closed:unclassified")
        )

    message = str(refused.value)
    assert "unclassified.change_something (POST /admin/unclassified/)" in message
    assert "@step_up_required" in message and "@step_up_exempt(reason)" in message


def test_a_write_route_added_after_start_up_is_refused(app, signed_in_as, store):
    """The guard's backstop: a route the start-up check never saw."""

    @self_service("a test route")
    def late():
        store.add_admin("written@example.com", "viewer")
        return "written"

    app.add_url_rule("/admin/late", "late", late, methods=["POST"])
    client = signed_in_as(OWNER, "owner")

    response = post_form(client, "/admin/late")

    assert response.status_code == 403
    assert store.admin("written@example.com") is None
