"""The admin's own security page (issue 13): their factors, renaming and
removing them, a new TOTP key, new recovery codes; step-up where it bites."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import pytest

from adminapp.testing.firebase import OWNER
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.integration.test_factor_reset_and_step_up import expire_step_up, prove_totp
from tests.support.web import ORIGIN, exchange, post_form

_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
_FIELD = re.compile(r'name="(csrf_token|enrolment)"[^>]*value="([^"]*)"')
_CODES = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")


@pytest.fixture
def me(signed_in_as):
    AUTHENTICATORS.clear()
    return signed_in_as(OWNER, "owner")


def factor(store, kind):
    return next(f for f in store.factors(OWNER) if f["kind"] == kind)


def test_the_page_lists_factors_and_recovery_codes_left(me, store):
    response = me.get("/admin/security")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f'data-factor="{factor(store, "totp")["id"]}"' in html
    assert "Authenticator app" in html
    assert '<span id="recovery-codes-left">10</span>' in html
    assert 'href="/admin/security"' in me.get("/admin/").get_data(as_text=True)  # in the header
    assert "style=" not in html and "<script>" not in html
    # The passkey work added the route: the page links to it.
    assert 'id="add-passkey"' in html


def test_rename_a_factor(me, store):
    totp = factor(store, "totp")
    path = f"/admin/security/factors/{totp['id']}/rename"
    response = post_form(me, path, {"name": "  My  phone "})
    assert response.status_code == 303
    assert factor(store, "totp")["name"] == "My phone"
    [entry] = store.audit(event="second_factor_renamed")
    assert entry["actor"] == OWNER


def test_someone_elses_factor_is_not_found(me, store, signed_in_as):
    signed_in_as("other@example.com", "viewer")
    theirs = next(f for f in store.factors("other@example.com") if f["kind"] == "totp")
    for action, data in (("rename", {"name": "mine"}), ("remove", {})):
        response = post_form(me, f"/admin/security/factors/{theirs['id']}/{action}", data)
        assert response.status_code == 404
    assert len(store.factors("other@example.com")) == 2


def test_the_last_factor_cannot_be_removed_while_the_role_needs_one(me, store):
    totp = factor(store, "totp")
    response = post_form(me, f"/admin/security/factors/{totp['id']}/remove")
    assert response.status_code == 409
    assert "last second factor" in response.get_data(as_text=True)
    assert factor(store, "totp")["id"] == totp["id"]
    assert store.admin(OWNER)["second_factors"] == 1


def test_recovery_codes_can_be_removed_and_a_removal_needs_a_step_up(me, store):
    codes = factor(store, "recovery_codes")
    expire_step_up(store, OWNER)
    prompt = post_form(me, f"/admin/security/factors/{codes['id']}/remove")
    assert prompt.status_code == 401 and "Confirm it is you" in prompt.get_data(as_text=True)
    assert len(store.factors(OWNER)) == 2
    assert prove_totp(me, OWNER).status_code == 303
    assert post_form(me, f"/admin/security/factors/{codes['id']}/remove").status_code == 303
    assert [f["kind"] for f in store.factors(OWNER)] == ["totp"]


def test_new_recovery_codes_replace_the_old_ones(me, app, store, auth_emulator):
    old = AUTHENTICATORS[ORIGIN, OWNER].recovery_codes
    response = post_form(me, "/admin/security/recovery-codes")
    assert response.status_code == 200
    new = _CODES.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert len([f for f in store.factors(OWNER) if f["kind"] == "recovery_codes"]) == 1
    assert store.audit(event="recovery_codes_generated", actor=OWNER)
    # An old code opens nothing now; a new one does.
    thief = app.test_client()
    exchange(thief, auth_emulator.sign_in(OWNER))
    page = thief.get("/admin/mfa").get_data(as_text=True)
    token = dict(_FIELD.findall(page))["csrf_token"]
    refused = thief.post("/admin/mfa/recovery", data={"csrf_token": token, "recovery_code": old[0]})
    assert refused.status_code == 400
    accepted = thief.post(
        "/admin/mfa/recovery", data={"csrf_token": token, "recovery_code": new[0]}
    )
    assert accepted.status_code == 303


def test_new_recovery_codes_need_a_step_up(me, store):
    before = factor(store, "recovery_codes")["id"]
    expire_step_up(store, OWNER)
    assert post_form(me, "/admin/security/recovery-codes").status_code == 401
    assert factor(store, "recovery_codes")["id"] == before


def test_a_new_totp_key_replaces_the_old_one(me, store):
    old_id = factor(store, "totp")["id"]
    old_secret = AUTHENTICATORS[ORIGIN, OWNER].secret
    page = me.get("/admin/security/totp").get_data(as_text=True)
    secret = _SECRET.search(page).group(1).replace(" ", "")
    assert 'action="/admin/security/totp"' in page

    wrong = me.post(
        "/admin/security/totp",
        data={**dict(_FIELD.findall(page)), "code": pyotp.TOTP(old_secret).now()},
    )
    assert wrong.status_code == 400
    done = me.post(
        "/admin/security/totp",
        data={**dict(_FIELD.findall(page)), "code": pyotp.TOTP(secret).now()},
    )

    assert done.status_code == 303
    totp = factor(store, "totp")
    assert totp["id"] == old_id and store.admin(OWNER)["second_factors"] == 1
    assert secret.encode() not in totp["secret"]
    # The old key proves nothing any more; the new one does.
    expire_step_up(store, OWNER)
    AUTHENTICATORS[ORIGIN, OWNER].secret = secret
    AUTHENTICATORS[ORIGIN, OWNER].last_step = pyotp.TOTP(secret).timecode(datetime.now(UTC))
    assert prove_totp(me, OWNER, "/admin/security").status_code == 303


def test_a_new_totp_key_needs_a_step_up_first(me, store):
    expire_step_up(store, OWNER)
    response = me.get("/admin/security/totp")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/mfa/step-up?next=/admin/security/totp")


def test_a_proof_inside_the_window_needs_no_new_one(me, store):
    expire_step_up(store, OWNER, minutes=5)  # STEP_UP_MINUTES is 10
    assert post_form(me, "/admin/security/recovery-codes").status_code == 200
