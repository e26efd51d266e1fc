"""Resetting an admin's second factors (owners, the API, the CLI) and the
step-up rule for dangerous actions (issue 13, slices 3-4 of the brief: reset
and bearer/step-up)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.support.web import ORIGIN, csrf_token, exchange, post_form

# Every test here runs with each cookie mode (tests/support/cookies.py): the
# step-up keeps the interrupted form in Flask's state, inside __session
# behind Hosting.
pytestmark = pytest.mark.both_cookie_modes

STAFF = "staff@example.com"
_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')


@pytest.fixture
def team(signed_in_as, app):
    """The owner and a staff admin, both signed in (so both enrolled TOTP)."""
    AUTHENTICATORS.clear()
    boss = signed_in_as(OWNER, "owner")
    staff = signed_in_as(STAFF, "admin")
    return boss, staff


def full_session(store, email):
    return next(s for s in store.sessions(email=email, active=True) if not s["mfa_pending"])


def expire_step_up(store, email, minutes=11):
    """Move the session's last proof back past STEP_UP_MINUTES (10)."""
    long_ago = datetime.now(UTC) - timedelta(minutes=minutes)
    store.update_session(
        full_session(store, email)["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago
    )


def api_write(client, method, path, body=None):
    headers = {"X-CSRFToken": csrf_token(client), "Origin": ORIGIN}
    return client.open(path, method=method, json=body or {}, headers=headers)


def prove_totp(client, email, next_path="/admin/mfa/continue"):
    page = client.get(f"/admin/mfa/step-up?next={next_path}").get_data(as_text=True)
    code = AUTHENTICATORS[ORIGIN, email].next_code()
    return client.post(
        f"/admin/mfa/totp?next={next_path}",
        data={"csrf_token": _FIELD.search(page).group(1), "code": code},
        headers={"Origin": ORIGIN},
    )


# -- reset ---------------------------------------------------------------------


def test_an_owner_resets_an_admins_factors_from_the_admins_page(team, store, app, auth_emulator):
    boss, staff = team
    assert store.admin(STAFF)["second_factors"] == 1
    page = boss.get("/admin/admins").get_data(as_text=True)
    assert f"/admin/admins/{STAFF}/reset-factors" in page
    assert f"/admin/admins/{OWNER}/reset-factors" not in page  # not one's own

    response = post_form(boss, f"/admin/admins/{STAFF}/reset-factors")

    assert response.status_code == 303
    assert store.factors(STAFF) == []
    assert store.admin(STAFF)["second_factors"] == 0
    assert store.factors(OWNER) != []
    assert staff.get("/admin/api/me").status_code == 401  # signed out everywhere
    [entry] = store.audit(event="second_factors_reset")
    assert entry["actor"] == OWNER and entry["target"] == STAFF
    assert [e["reason"] for e in store.audit(event="sessions_ended", target=STAFF)] == [
        "second_factors_reset"
    ]
    # At their next sign-in they enrol again.
    again = app.test_client()
    assert exchange(again, auth_emulator.sign_in(STAFF)).status_code == 200
    assert again.get("/admin/mfa").headers["Location"].startswith("/admin/mfa/enrol")


def test_an_owner_resets_factors_through_the_api(team, store):
    boss, _ = team
    response = api_write(boss, "POST", f"/admin/api/admins/{STAFF}/reset-factors")
    assert response.status_code == 200
    assert response.get_json() == {"reset": STAFF, "factors_removed": 2}
    assert store.factors(STAFF) == []
    listing = boss.get("/admin/api/admins").get_json()["admins"]
    assert {a["email"]: a["second_factor"] for a in listing} == {OWNER: True, STAFF: False}


def test_an_owner_cannot_reset_their_own_factors_there(team, store):
    boss, _ = team
    response = api_write(boss, "POST", f"/admin/api/admins/{OWNER}/reset-factors")
    assert response.status_code == 409
    assert response.get_json()["error"] == "own_account"
    assert len(store.factors(OWNER)) == 2
    assert store.audit(event="second_factors_reset") == []


def test_admins_below_owner_cannot_reset(team, store):
    _, staff = team
    response = api_write(staff, "POST", f"/admin/api/admins/{OWNER}/reset-factors")
    assert response.status_code == 403
    assert len(store.factors(OWNER)) == 2


def test_the_cli_lists_factors_without_secrets_and_resets_them(team, app, store, auth_emulator):
    _, staff = team
    cli = app.test_cli_runner()

    listing = cli.invoke(args=["admins", "factors", STAFF])
    assert listing.exit_code == 0, listing.output
    assert "totp" in listing.output and "Authenticator app" in listing.output
    assert "Recovery codes left: 10" in listing.output
    authenticator = AUTHENTICATORS[ORIGIN, STAFF]
    assert authenticator.secret not in listing.output
    assert not any(code in listing.output for code in authenticator.recovery_codes)
    assert "salt" not in listing.output and "hash" not in listing.output

    reset = cli.invoke(args=["admins", "reset-factors", STAFF])
    assert reset.exit_code == 0, reset.output
    assert "Removed 2" in reset.output
    assert store.factors(STAFF) == [] and store.admin(STAFF)["second_factors"] == 0
    assert staff.get("/admin/api/me").status_code == 401
    [entry] = store.audit(event="second_factors_reset")
    assert entry["actor"].startswith("cli") and entry["target"] == STAFF
    assert "no second factor" in cli.invoke(args=["admins", "factors", STAFF]).output
    missing = cli.invoke(args=["admins", "reset-factors", "nobody@example.com"])
    assert missing.exit_code != 0 and "not an admin" in missing.output
    # Break-glass: the admin signs in again and enrols a new factor.
    again = app.test_client()
    assert exchange(again, auth_emulator.sign_in(STAFF)).status_code == 200
    assert again.get("/admin/mfa").headers["Location"].startswith("/admin/mfa/enrol")


# -- step-up -------------------------------------------------------------------


def test_a_fresh_sign_in_needs_no_step_up(team, store):
    boss, _ = team
    response = post_form(boss, f"/admin/admins/{STAFF}/role", {"role": "viewer"})
    assert response.status_code == 303
    assert store.admin(STAFF)["role"] == "viewer"


def test_an_expired_window_prompts_then_the_action_continues(team, store):
    boss, _ = team
    expire_step_up(store, OWNER)

    prompt = post_form(boss, f"/admin/admins/{STAFF}/role", {"role": "viewer"})

    assert prompt.status_code == 401
    html = prompt.get_data(as_text=True)
    assert "Confirm it is you" in html and 'id="totp-form"' in html
    assert store.admin(STAFF)["role"] == "admin"  # nothing changed yet
    proved = prove_totp(boss, OWNER)
    assert proved.status_code == 303
    assert proved.headers["Location"] == "/admin/mfa/continue"
    page = boss.get("/admin/mfa/continue").get_data(as_text=True)
    assert f'action="/admin/admins/{STAFF}/role"' in page
    assert 'name="role" value="viewer"' in page
    assert store.admin(STAFF)["role"] == "admin"  # still nothing until confirmed
    done = boss.post(
        f"/admin/admins/{STAFF}/role",
        data={"csrf_token": _FIELD.search(page).group(1), "role": "viewer"},
        headers={"Origin": ORIGIN},
    )
    assert done.status_code == 303
    assert store.admin(STAFF)["role"] == "viewer"
    [step_up] = store.audit(event="step_up")
    assert step_up["actor"] == OWNER and step_up["reason"] == "totp"
    # The remembered action is spent.
    assert boss.get("/admin/mfa/continue").headers["Location"] == "/admin/"


def test_the_window_expires_again_and_prompts_again(team, store):
    boss, _ = team
    expire_step_up(store, OWNER)
    assert post_form(boss, f"/admin/admins/{STAFF}/disable").status_code == 401
    assert prove_totp(boss, OWNER).status_code == 303
    assert post_form(boss, f"/admin/admins/{STAFF}/disable").status_code == 303
    assert store.admin(STAFF)["disabled"] is True
    expire_step_up(store, OWNER)
    assert post_form(boss, f"/admin/admins/{STAFF}/enable").status_code == 401
    assert store.admin(STAFF)["disabled"] is True


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/admin/api/admins", {"email": "new@example.com", "role": "viewer"}),
        ("PATCH", f"/admin/api/admins/{STAFF}", {"role": "viewer"}),
        ("DELETE", f"/admin/api/admins/{STAFF}", None),
        ("POST", f"/admin/api/admins/{STAFF}/reset-factors", None),
    ],
)
def test_cookie_api_writes_answer_step_up_required(team, store, method, path, body):
    boss, _ = team
    expire_step_up(store, OWNER)
    before = store.admin(STAFF)

    response = api_write(boss, method, path, body)

    assert response.status_code == 401
    assert response.get_json()["error"] == "step_up_required"
    assert "/admin/mfa/step-up" in response.headers["Link"]
    assert store.admin(STAFF) == before and store.admin("new@example.com") is None
    assert len(store.factors(STAFF)) == 2


def test_ending_another_admins_session_needs_a_step_up_but_not_ones_own(team, store):
    boss, staff = team
    expire_step_up(store, OWNER)
    theirs = full_session(store, STAFF)["id"]

    refused = api_write(boss, "DELETE", f"/admin/api/sessions/{theirs}")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "step_up_required"
    assert staff.get("/admin/api/me").status_code == 200
    page = post_form(boss, f"/admin/sessions/{theirs}/end", {"email": STAFF})
    assert page.status_code == 401 and "Confirm it is you" in page.get_data(as_text=True)
    assert staff.get("/admin/api/me").status_code == 200
    # Their own: no step-up.
    expire_step_up(store, STAFF)
    mine = full_session(store, STAFF)["id"]
    assert api_write(staff, "DELETE", f"/admin/api/sessions/{mine}").status_code == 200


def test_the_users_consoles_owner_actions_need_a_step_up(team, store, auth_emulator):
    boss, _ = team
    customer = auth_emulator.create_user("customer@example.com")
    expire_step_up(store, OWNER)

    response = api_write(
        boss, "PUT", f"/admin/api/users/{customer.uid}/claims", {"claims": {"plan": "pro"}}
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "step_up_required"
    assert store.audit(event="user_claims_set") == []
    # Admin-level actions (not owner-only) need none.
    revoke = api_write(boss, "POST", f"/admin/api/users/{customer.uid}/revoke")
    assert revoke.status_code == 200
