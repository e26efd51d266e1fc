"""Invitations that cannot adopt a planted account (issue 20, Medium 3).

An insider with the ``admin`` role signs up a Firebase account for a future
admin's address and marks it verified in the users console. An owner then
invites that address. The invitation must not hand the insider the admin
document: it takes the account back (refresh tokens revoked, password
replaced by one nobody knows), records the revocation time, emails the
set-password link, and the first sign-in must be a password sign-in after
that time. The owner is told on the page, the API and the CLI, and the trail
says so. Beside it: marking verified an address with a pending invitation is
refused, and a provider invitation's first sign-in must use that provider.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from click.testing import Result
from firebase_admin import auth

from adminapp.testing.firebase import rewrite_claims, token_claims
from tests.support.reset import carries_a_link, code_of, link_in, set_password
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, exchange, post_form

OWNER = "boss@acme.com"
INSIDER = "insider@acme.com"
FUTURE = "future.owner@acme.com"
PLANTED = "the insider's own password"
CHOSEN = "the invitee's first password"
WAIT = 30  # seconds: a generous deadline, polled, never slept through
SSO = {
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com,saml.acme",
    "SIGN_IN_PROVIDER_OPTIONS": json.dumps({"saml.acme": {"label": "Acme SSO"}}),
}


@pytest.fixture
def config(request, smtp):
    # RESET_DELIVERY is smtp (our own email and confirmation page) unless a
    # test asks for Firebase's own email and action page.
    return getattr(request, "param", None) or base_config(**smtp.config(), **SSO)


@pytest.fixture
def owner_client(signed_in_as):
    return signed_in_as(OWNER, "owner")


@pytest.fixture
def insider_client(signed_in_as):
    return signed_in_as(INSIDER, "admin")


def api(client, method: str, path: str, body: dict | None = None):
    headers = {"X-CSRFToken": csrf_token(client), "Origin": ORIGIN, "Accept": "application/json"}
    return client.open(path, method=method, json=body or {}, headers=headers)


def firebase_user(auth_emulator, email: str):
    return auth.get_user_by_email(email, app=auth_emulator.app)


def plant(auth_emulator, insider_client):
    """The insider's preparation: an account for the future admin's address,
    with the insider's password, marked verified in the users console
    (allowed: the address is nobody's admin yet)."""
    planted = auth_emulator.create_user(FUTURE, PLANTED, verified=False)
    response = api(insider_client, "POST", f"/admin/api/users/{planted.uid}/verify")
    assert response.status_code == 200, response.get_json()
    return planted


def invitations_to(smtp, email: str) -> list:
    """The set-password emails to ``email`` (an owner invited as an owner
    also gets the owners' alert: docs/pipa.md, "Alerts")."""
    return [message for message in smtp.inbox.to(email) if carries_a_link(message)]


def password_still_signs_in(auth_emulator, password: str) -> bool:
    try:
        auth_emulator.sign_in(FUTURE, password)
    except requests.HTTPError:
        return False
    return True


def after(moment: datetime) -> None:
    """Wait until Firebase's whole-second clock is past ``moment`` (polled)."""
    deadline = time.monotonic() + WAIT
    while datetime.now(UTC) < moment + timedelta(seconds=1):
        assert time.monotonic() < deadline, "the clock did not move"
        time.sleep(0.05)


def assert_not_bound(store, email: str = FUTURE) -> None:
    assert store.admin(email).get("uid") is None
    assert store.sessions(email=email, spent_pending=True) == []


def invite(how: str, app, owner_client, email: str = FUTURE, **extra):
    """Invite ``email`` as an owner from the page, the API or the CLI."""
    if how == "page":
        return post_form(owner_client, "/admin/admins", {"email": email, "role": "owner", **extra})
    if how == "api":
        return api(
            owner_client, "POST", "/admin/api/admins", {"email": email, "role": "owner", **extra}
        )
    args = ["admins", "add", email, "--role", "owner"]
    return app.test_cli_runner().invoke(args=args)


# -- the attack, end to end ---------------------------------------------------


def test_a_planted_account_is_taken_back_and_only_the_mailbox_signs_in(
    app, owner_client, insider_client, auth_emulator, store, smtp
):
    planted = plant(auth_emulator, insider_client)
    early_token = auth_emulator.sign_in(FUTURE, PLANTED)  # kept from before the invitation

    response = invite("api", app, owner_client)

    assert response.status_code == 201, response.get_json()
    # The planted password no longer signs in, and the insider's token from
    # before the invitation opens nothing.
    assert not password_still_signs_in(auth_emulator, PLANTED)
    refused = exchange(app.test_client(), early_token)
    assert refused.status_code in (401, 403)
    assert_not_bound(store)
    body = response.get_json()
    assert body["account_existed"] is True and body["user_created"] is False
    assert body["warning_code"] == "account_existed"
    assert "already had a Firebase account that this invitation did not make" in body["warning"]
    assert body["email_sent"] is True
    # The invitation recorded Firebase's own revocation time.
    admin = store.admin(FUTURE)
    cutoff = admin["first_sign_in_after"]
    assert admin["invited_provider"] == "password"
    assert (
        int(cutoff.timestamp()) * 1000
        == firebase_user(auth_emulator, FUTURE).tokens_valid_after_timestamp
    )
    [entry] = store.audit(event="invitation_took_back_account")
    assert entry["actor"] == OWNER and entry["target"] == FUTURE
    assert entry["target_uid"] == planted.uid
    assert "methods: password" in entry["reason"]

    # Whoever reads the mailbox sets a password through the link, and signs in.
    [message] = invitations_to(smtp, FUTURE)
    assert set_password(app.test_client(), code_of(link_in(message)), CHOSEN).status_code == 303
    after(cutoff)
    accepted = exchange(app.test_client(), auth_emulator.sign_in(FUTURE, CHOSEN))
    assert accepted.status_code == 200, accepted.get_json()
    assert store.admin(FUTURE)["uid"] == planted.uid
    assert not password_still_signs_in(auth_emulator, PLANTED)


@pytest.mark.parametrize("config", [base_config(RESET_DELIVERY="firebase", **SSO)], indirect=True)
def test_the_rule_holds_with_firebases_own_reset_page(
    app, owner_client, insider_client, auth_emulator, store, outbox
):
    """The exchange asks Firebase's clock, not our confirmation page: a
    password set on Firebase's own action page works the same way."""
    planted = plant(auth_emulator, insider_client)
    assert invite("api", app, owner_client).status_code == 201
    assert not password_still_signs_in(auth_emulator, PLANTED)
    [code] = outbox.sent(FUTURE)
    # What Firebase's action page does with the emailed code.
    requests.post(
        f"http://{auth_emulator.host}/identitytoolkit.googleapis.com/v1/accounts:resetPassword",
        params={"key": "demo-api-key"},
        json={"oobCode": code["oobCode"], "newPassword": CHOSEN},
        timeout=5,
    ).raise_for_status()
    after(store.admin(FUTURE)["first_sign_in_after"])
    assert exchange(app.test_client(), auth_emulator.sign_in(FUTURE, CHOSEN)).status_code == 200
    assert store.admin(FUTURE)["uid"] == planted.uid


def test_a_sign_in_not_newer_than_the_take_back_does_not_bind(
    app, insider_client, auth_emulator, store
):
    """The cut-off itself. An operator invites with --password (no email:
    they pass it on), so the account's revocation time stays the cut-off.
    A sign-in whose auth_time is that very second passes Firebase's own
    revocation check (whole seconds) but is refused here, audited, and
    binds nothing; a later one binds."""
    plant(auth_emulator, insider_client)
    args = ["admins", "add", FUTURE, "--role", "owner", "--password", CHOSEN]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert not password_still_signs_in(auth_emulator, PLANTED)
    cutoff = store.admin(FUTURE)["first_sign_in_after"]
    after(cutoff)
    token = auth_emulator.sign_in(FUTURE, CHOSEN)
    # The emulator's tokens are unsigned: this is the token a sign-in in the
    # revocation's own second gets.
    same_second = rewrite_claims(token, auth_time=int(cutoff.timestamp()))
    revoked_before = firebase_user(auth_emulator, FUTURE).tokens_valid_after_timestamp
    assert token_claims(same_second)["auth_time"] * 1000 == revoked_before

    response = exchange(app.test_client(), same_second)

    assert response.status_code == 403
    assert response.get_json()["error"] == "sign_in_before_invitation"
    assert_not_bound(store)
    [entry] = store.audit(event="sign_in", actor=FUTURE)
    assert entry["outcome"] == "refused" and entry["reason"] == "sign_in_before_invitation"
    assert exchange(app.test_client(), token).status_code == 200
    assert store.admin(FUTURE)["uid"] is not None


@pytest.mark.parametrize("how", ["page", "api", "cli"])
def test_the_owner_is_told_everywhere(
    how, app, owner_client, insider_client, auth_emulator, store, smtp
):
    plant(auth_emulator, insider_client)

    result = invite(how, app, owner_client)

    told = "already had a Firebase account that this invitation did not make"
    if how == "page":
        assert result.status_code == 303
        page = owner_client.get("/admin/admins").get_data(as_text=True)
        assert 'class="flash flash-warning"' in page and told in page
    elif how == "api":
        assert result.get_json()["account_existed"] is True
    else:
        assert isinstance(result, Result) and result.exit_code == 0, result.output
        assert f"Warning: {FUTURE} {told}" in result.output
    assert not password_still_signs_in(auth_emulator, PLANTED)
    assert len(invitations_to(smtp, FUTURE)) == 1  # the set-password link
    assert len(store.audit(event="invitation_took_back_account")) == 1


def test_the_owner_reads_it_in_korean(app, owner_client, insider_client, auth_emulator, store):
    plant(auth_emulator, insider_client)
    headers = {
        "X-CSRFToken": csrf_token(owner_client),
        "Origin": ORIGIN,
        "Accept-Language": "ko",
    }
    response = owner_client.post(
        "/admin/api/admins", json={"email": FUTURE, "role": "owner"}, headers=headers
    )
    assert response.status_code == 201
    assert "이 초대가 만들지 않은 Firebase 계정" in response.get_json()["warning"]


# -- accounts with other sign-in methods --------------------------------------


def test_a_password_invitation_onto_a_provider_account_is_refused_and_writes_nothing(
    app, owner_client, auth_emulator, store, smtp
):
    auth_emulator.sign_in_with_idp("google.com", FUTURE)
    before = firebase_user(auth_emulator, FUTURE)

    response = invite("api", app, owner_client)

    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "account_signs_in_otherwise"
    assert "signs in with google.com" in body["message"]
    assert store.admin(FUTURE) is None
    assert store.audit(event="admin_invited") == []
    assert smtp.inbox.to(FUTURE) == []
    after_refusal = firebase_user(auth_emulator, FUTURE)
    assert after_refusal.tokens_valid_after_timestamp == before.tokens_valid_after_timestamp
    assert [p.provider_id for p in after_refusal.provider_data] == ["google.com"]


def test_the_page_and_the_cli_refuse_it_too(app, owner_client, auth_emulator, store):
    auth_emulator.sign_in_with_idp("saml.acme", FUTURE)
    page = invite("page", app, owner_client)
    assert page.status_code == 409
    assert "signs in with saml.acme" in page.get_data(as_text=True)
    cli = invite("cli", app, owner_client)
    assert cli.exit_code == 1 and "signs in with saml.acme" in cli.output
    assert store.admin(FUTURE) is None


def test_a_provider_invitation_onto_that_providers_account_is_taken_back(
    app, owner_client, auth_emulator, store, smtp
):
    auth_emulator.sign_in_with_idp("google.com", FUTURE)
    early = auth_emulator.sign_in_with_idp("google.com", FUTURE)

    response = invite("api", app, owner_client, provider="google.com")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["account_existed"] is True and body["provider"] == "google.com"
    assert "must be with google.com" in body["warning"]
    assert exchange(app.test_client(), early).status_code in (401, 403)
    assert_not_bound(store)
    after(store.admin(FUTURE)["first_sign_in_after"])
    fresh = auth_emulator.sign_in_with_idp("google.com", FUTURE)
    assert exchange(app.test_client(), fresh).status_code == 200
    assert store.admin(FUTURE)["uid"] == firebase_user(auth_emulator, FUTURE).uid


# -- the invited provider -----------------------------------------------------


def test_a_google_invitation_is_not_completed_by_a_saml_sign_in(
    app, owner_client, auth_emulator, store
):
    response = invite("api", app, owner_client, provider="google.com")
    assert response.status_code == 201

    refused = exchange(app.test_client(), auth_emulator.sign_in_with_idp("saml.acme", FUTURE))

    assert refused.status_code == 403
    assert_not_bound(store)
    assert refused.get_json()["error"] == "invited_sign_in_method"
    assert store.admin(FUTURE)["invited_provider"] == "google.com"
    [entry] = store.audit(event="sign_in", actor=FUTURE)
    assert entry["outcome"] == "refused" and entry["reason"] == "invited_sign_in_method"
    # Their own Google sign-in still completes it.
    accepted = exchange(app.test_client(), auth_emulator.sign_in_with_idp("google.com", FUTURE))
    assert accepted.status_code == 200


def test_a_bearer_call_cannot_bind_with_another_provider(app, owner_client, auth_emulator, store):
    invite("api", app, owner_client, provider="google.com")
    # A script's account (its bearer calls need no second factor), so that
    # only the invited provider stands between this token and the binding.
    store.update_admin(FUTURE, service_account=True)
    token = auth_emulator.sign_in_with_idp("saml.acme", FUTURE)
    response = app.test_client().get("/admin/api/me", headers={"Authorization": f"Bearer {token}"})
    assert store.admin(FUTURE).get("uid") is None
    assert response.status_code == 403
    assert response.get_json()["error"] == "invited_sign_in_method"


# -- marking verified an address with a pending invitation ---------------------


@pytest.fixture
def pending_and_planted(app, owner_client, auth_emulator, store):
    """An owner invited FUTURE to sign in with Google; then someone signed up
    a password account for that address (unverified)."""
    assert invite("api", app, owner_client, provider="google.com").status_code == 201
    return auth_emulator.create_user(FUTURE, PLANTED, verified=False)


def assert_still_unverified(auth_emulator, store) -> None:
    assert firebase_user(auth_emulator, FUTURE).email_verified is False
    assert store.audit(event="user_email_verified", target=FUTURE) == []


def test_the_api_refuses_to_mark_a_pending_invitation_verified(
    owner_client, pending_and_planted, auth_emulator, store
):
    response = api(owner_client, "POST", f"/admin/api/users/{pending_and_planted.uid}/verify")
    assert response.status_code == 409
    assert response.get_json()["error"] == "pending_invitation"
    assert (
        "has been invited as an admin and has not signed in yet" in (response.get_json()["message"])
    )
    assert_still_unverified(auth_emulator, store)


def test_the_page_refuses_it_in_korean(owner_client, pending_and_planted, auth_emulator, store):
    response = post_form(
        owner_client,
        f"/admin/users/{pending_and_planted.uid}/verify",
        headers={"Accept-Language": "ko"},
    )
    assert response.status_code == 409
    assert "관리자로 초대" in response.get_data(as_text=True)
    assert_still_unverified(auth_emulator, store)


def test_the_cli_refuses_it(app, pending_and_planted, auth_emulator, store):
    result = app.test_cli_runner().invoke(args=["users", "verify", pending_and_planted.uid])
    assert result.exit_code == 1
    assert "has been invited as an admin and has not signed in yet" in result.output
    assert_still_unverified(auth_emulator, store)


def test_a_second_factor_planted_on_the_account_goes_with_the_take_back(
    app, owner_client, insider_client, auth_emulator, store, smtp
):
    # The insider also enrols their own phone as the account's Firebase
    # second factor: kept, it would stand between the invitee and their
    # first sign-in (Firebase asks for a code sent to the insider's phone).
    planted = plant(auth_emulator, insider_client)
    auth_emulator.enrol_sms_factor(FUTURE, "+15555550100", PLANTED)
    assert len(auth_emulator.enrolment_ids(FUTURE)) == 1

    response = invite("api", app, owner_client)

    assert response.status_code == 201, response.get_json()
    assert auth_emulator.enrolment_ids(FUTURE) == []
    [entry] = store.audit(event="invitation_took_back_account")
    assert entry["target_uid"] == planted.uid
    assert "second factors removed: 1" in entry["reason"]
    # The invitee's first sign-in is the password alone, as for any invitee.
    [message] = invitations_to(smtp, FUTURE)
    assert set_password(app.test_client(), code_of(link_in(message)), CHOSEN).status_code == 303
    after(store.admin(FUTURE)["first_sign_in_after"])
    accepted = exchange(app.test_client(), auth_emulator.sign_in(FUTURE, CHOSEN))
    assert accepted.status_code == 200, accepted.get_json()
