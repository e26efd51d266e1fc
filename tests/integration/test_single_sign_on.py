"""Staff single sign-on at the exchange: real ID tokens from the Auth
emulator's signInWithIdp (Google, Microsoft, OIDC, SAML), checked against
ALLOWED_SIGN_IN_PROVIDERS, ALLOWED_EMAIL_DOMAINS, email verification and the
uid binding.
"""

from __future__ import annotations

import json
import logging

import pytest

from adminapp.testing.firebase import rewrite_claims, token_claims
from tests.support.settings import base_config
from tests.support.web import exchange, session_cookie

ADMIN = "alice@acme.com"
SSO = {
    # Gate 2's own second factor is not what these tests are about.
    "MFA_REQUIRED_ROLES": "none",
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com,microsoft.com,oidc.kakao,saml.acme",
    "SIGN_IN_PROVIDER_OPTIONS": json.dumps(
        {"oidc.kakao": {"label": "Kakao"}, "saml.acme": {"label": "Acme SSO"}}
    ),
}


@pytest.fixture
def config(request):
    return base_config(**{**SSO, **getattr(request, "param", {})})


def assert_refused(response, client, store, status: int, error: str) -> str:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["error"] == error
    assert store.sessions() == []
    assert session_cookie(client) is None
    return body["message"]


@pytest.mark.parametrize("provider", ["google.com", "microsoft.com", "oidc.kakao", "saml.acme"])
def test_admin_of_a_configured_provider_gets_a_session(client, auth_emulator, store, provider):
    store.add_admin(ADMIN, "admin")
    token = auth_emulator.sign_in_with_idp(provider, ADMIN)

    response = exchange(client, token)

    assert response.status_code == 200, response.get_json()
    [session] = store.sessions(email=ADMIN)
    assert session["sign_in_provider"] == provider
    assert session["firebase_second_factor"] is None
    assert client.get("/admin/").status_code == 200


def test_a_provider_not_configured_is_refused_even_with_a_valid_token(
    app, client, auth_emulator, store
):
    store.add_admin(ADMIN, "admin")
    token = auth_emulator.sign_in_with_idp("github.com", ADMIN)
    message = assert_refused(exchange(client, token), client, store, 403, "provider_not_allowed")
    assert "not allowed" in message
    assert store.admin(ADMIN).get("uid") is None  # nothing bound either


@pytest.mark.parametrize(
    "config", [{"ALLOWED_SIGN_IN_PROVIDERS": "", "SIGN_IN_PROVIDER_OPTIONS": ""}], indirect=True
)
def test_default_settings_allow_only_the_password(client, auth_emulator, store):
    store.add_admin(ADMIN, "admin")
    token = auth_emulator.sign_in_with_idp("google.com", ADMIN)
    assert_refused(exchange(client, token), client, store, 403, "provider_not_allowed")


@pytest.mark.parametrize(
    "config", [{"ALLOWED_EMAIL_DOMAINS": "acme.com,acme.co.kr"}], indirect=True
)
@pytest.mark.parametrize("provider", ["google.com", "oidc.kakao", "password"])
def test_an_address_outside_the_allowed_domains_is_refused(client, auth_emulator, store, provider):
    outsider = "mallory@gmail.com"
    store.add_admin(outsider, "owner")  # even an admin document does not let them in
    if provider == "password":
        auth_emulator.create_user(outsider)
        token = auth_emulator.sign_in(outsider)
    else:
        token = auth_emulator.sign_in_with_idp(provider, outsider)
    response = exchange(client, token)
    message = assert_refused(response, client, store, 403, "email_domain_not_allowed")
    assert message == "Only addresses at acme.com, acme.co.kr can be admins of this site."
    # Refused before the admin document is read: logged, not audited.
    assert [e for e in store.audit() if e["event"] == "sign_in"] == []


@pytest.mark.parametrize("config", [{"ALLOWED_EMAIL_DOMAINS": "acme.com"}], indirect=True)
def test_an_address_inside_the_allowed_domains_signs_in(client, auth_emulator, store):
    store.add_admin("Bob@ACME.com", "admin")
    token = auth_emulator.sign_in_with_idp("google.com", "Bob@ACME.com")
    assert exchange(client, token).status_code == 200
    assert len(store.sessions(email="bob@acme.com")) == 1


@pytest.mark.parametrize("config", [{"ALLOWED_EMAIL_DOMAINS": "acme.com"}], indirect=True)
def test_the_bearer_api_applies_the_domain_list_too(client, auth_emulator, store):
    outsider = "mallory@gmail.com"
    store.add_admin(outsider, "owner")
    token = auth_emulator.sign_in_with_idp("google.com", outsider)
    response = client.get("/admin/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "email_domain_not_allowed"
    assert store.admin(outsider).get("uid") is None


def test_an_unverified_email_from_an_untrusted_provider_is_refused(client, auth_emulator, store):
    store.add_admin(ADMIN, "admin")
    token = auth_emulator.sign_in_with_idp("oidc.kakao", ADMIN, verified=None)
    assert_refused(exchange(client, token), client, store, 403, "email_unverified")


@pytest.mark.parametrize(
    "config", [{"TRUST_UNVERIFIED_EMAIL_PROVIDERS": "oidc.kakao"}], indirect=True
)
def test_a_provider_trusted_for_unverified_emails_signs_in_and_is_logged(
    client, auth_emulator, store, caplog
):
    store.add_admin(ADMIN, "admin")
    kakao = auth_emulator.sign_in_with_idp("oidc.kakao", ADMIN, verified=None)
    with caplog.at_level(logging.INFO, logger="adminapp.security"):
        assert exchange(client, kakao).status_code == 200
    [line] = [r.getMessage() for r in caplog.records if "unverified_email_trusted" in r.message]
    assert json.loads(line) == {
        "event": "unverified_email_trusted",
        "provider": "oidc.kakao",
        "actor": ADMIN,
    }
    # The override names one provider: the others still need a verified email.
    google = auth_emulator.sign_in_with_idp("google.com", "bob@acme.com", verified=False)
    store.add_admin("bob@acme.com", "admin")
    refused = exchange(client, google)
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "email_unverified"


def test_linked_accounts_one_uid_both_providers_work(client, auth_emulator, store):
    """Firebase's default, "Link accounts that use the same email": the second
    provider joins the first one's account, so the bound uid matches."""
    store.add_admin(ADMIN, "admin")
    assert exchange(client, auth_emulator.sign_in_with_idp("google.com", ADMIN)).status_code == 200
    bound = store.admin(ADMIN)["uid"]
    second = auth_emulator.sign_in_with_idp("microsoft.com", ADMIN)
    assert exchange(client, second).status_code == 200
    sessions = store.sessions(email=ADMIN)
    assert {s["uid"] for s in sessions} == {bound}
    assert {s["sign_in_provider"] for s in sessions} == {"google.com", "microsoft.com"}


def test_multiple_accounts_per_email_second_provider_is_refused_with_advice(
    client, auth_emulator, store
):
    """ "Create multiple accounts for each identity provider": the second
    provider is another Firebase user; the admin stays bound to the first."""
    store.add_admin(ADMIN, "admin")
    assert exchange(client, auth_emulator.sign_in_with_idp("google.com", ADMIN)).status_code == 200
    bound = store.admin(ADMIN)["uid"]
    auth_emulator.allow_duplicate_emails(True)
    try:
        second = auth_emulator.sign_in_with_idp("microsoft.com", ADMIN)
    finally:
        auth_emulator.allow_duplicate_emails(False)
    assert token_claims(second)["user_id"] != bound  # a separate Firebase user
    # Firebase puts the IdP's email in this user's tokens; the emulator
    # leaves it out in this mode (and refuses to set it), so add it.
    second = rewrite_claims(second, email=ADMIN, email_verified=True)
    fresh = client.application.test_client()

    response = exchange(fresh, second)

    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "uid_mismatch"
    assert "Link accounts that use the same email" in body["message"]
    assert "Authentication > Settings" in body["message"]
    assert session_cookie(fresh) is None
    assert len(store.sessions(email=ADMIN)) == 1  # only the first sign-in's
    assert store.admin(ADMIN)["uid"] == bound


def phone_factor_token(auth_emulator, email: str) -> str:
    """A provider token that says Firebase's SMS second factor was passed.
    (The emulator's tokens are unsigned; the real SMS flow is in
    tests/browser/test_single_sign_on.py.)"""
    token = auth_emulator.sign_in_with_idp("google.com", email)
    firebase = token_claims(token)["firebase"]
    return rewrite_claims(
        token,
        firebase={
            **firebase,
            "sign_in_second_factor": "phone",
            "second_factor_identifier": ENROLMENT,
        },
    )


ENROLMENT = "sms-enrolment-1"
TRUSTED = {ENROLMENT: {"trusted_by": "owner@acme.com"}}


# MFA_REQUIRED_ROLES="" is the default: every role needs a second factor.
# Firebase's factor counts only when accepted and for a trusted enrolment
# (adminapp/services/mfa/firebase_factors.py; the untrusted case is in
# tests/integration/test_bearer_second_factor.py).
@pytest.mark.parametrize(
    ("config", "with_claim", "pending", "factor"),
    [
        pytest.param(
            {"MFA_REQUIRED_ROLES": "", "ACCEPT_FIREBASE_SECOND_FACTOR": "true"},
            True,
            False,
            "firebase_phone",
            id="accepted",
        ),
        pytest.param({"MFA_REQUIRED_ROLES": ""}, True, True, None, id="not-accepted"),
        pytest.param(
            {"MFA_REQUIRED_ROLES": "", "ACCEPT_FIREBASE_SECOND_FACTOR": "true"},
            False,
            True,
            None,
            id="accepted-but-no-claim",
        ),
    ],
    indirect=["config"],
)
def test_firebase_second_factor_opens_a_full_session_only_when_accepted(
    client, auth_emulator, store, with_claim, pending, factor
):
    store.add_admin(ADMIN, "admin", firebase_factors=TRUSTED)
    if with_claim:
        token = phone_factor_token(auth_emulator, ADMIN)
    else:
        token = auth_emulator.sign_in_with_idp("google.com", ADMIN)

    response = exchange(client, token, next_path="/admin/")

    assert response.status_code == 200, response.get_json()
    [session] = store.sessions(email=ADMIN)
    assert session["firebase_second_factor"] == ("phone" if with_claim else None)
    assert session["mfa_pending"] is pending
    assert session["mfa_factor"] == factor
    if pending:
        assert response.get_json()["redirect"].startswith("/admin/mfa")
    else:
        assert response.get_json()["redirect"] == "/admin/"
        assert client.get("/admin/").status_code == 200
        [entry] = [e for e in store.audit() if e["event"] == "sign_in"]
        assert entry["reason"] == "firebase_phone"
