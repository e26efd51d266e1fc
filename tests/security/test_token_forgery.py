"""Forged, stale and unacceptable ID tokens at the exchange, in production mode.

Every refusal is checked three ways: the status and reason, no session
document in Firestore, and no session cookie in the response.
"""

from __future__ import annotations

import time

import pytest

from tests.support.tokens import other_key
from tests.support.web import SESSION_COOKIE, exchange

ADMIN = "admin@example.com"
UID = "uid-of-the-admin"


def at_now(values: dict) -> dict:
    now = int(time.time())
    return {name: now + value if name in TIMES else value for name, value in values.items()}


def set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def assert_no_session(response, store):
    assert store.sessions() == []
    assert not any(c.startswith(SESSION_COOKIE) for c in set_cookies(response))


def test_correctly_signed_admin_token_is_accepted(signed_tokens, store):
    app, tokens, mocker = signed_tokens
    store.add_admin(ADMIN, "owner")
    lookup = tokens.account(mocker, UID, ADMIN)

    response = exchange(app.test_client(), tokens.sign(tokens.claims(UID, ADMIN)))

    assert response.status_code == 200, response.get_json()
    assert any(c.startswith(SESSION_COOKIE) for c in set_cookies(response))
    [session] = store.sessions(email=ADMIN)
    assert session["uid"] == UID
    assert lookup.called  # the revocation check really asked Firebase


# (id, claim changes, how to sign, account lookup, admin document, status, reason).
# Times are offsets from the moment the test runs.
TIMES = {"iat", "exp", "auth_time", "valid_since"}
FORGERIES = [
    ("alg-none", {}, {"alg": "none"}, {}, {}, 401, "invalid_token"),
    ("signed-by-another-key", {}, {"key": "other"}, {}, {}, 401, "invalid_token"),
    ("unknown-kid", {}, {"kid": "not-a-google-key"}, {}, {}, 401, "invalid_token"),
    ("expired", {"iat": -7200, "exp": -3600}, {}, {}, {}, 401, "expired_token"),
    ("iat-in-the-future", {"iat": 3600, "exp": 7200}, {}, {}, {}, 401, "invalid_token"),
    ("wrong-aud", {"aud": "another-project"}, {}, {}, {}, 401, "invalid_token"),
    (
        "wrong-iss",
        {"iss": "https://securetoken.google.com/another"},
        {},
        {},
        {},
        401,
        "invalid_token",
    ),
    ("empty-sub", {"sub": "", "user_id": ""}, {}, {}, {}, 401, "invalid_token"),
    ("revoked", {}, {}, {"valid_since": 60}, {}, 401, "revoked_token"),
    ("disabled-user", {}, {}, {"disabled": True}, {}, 403, "user_disabled"),
    ("stale-auth-time", {"auth_time": -600}, {}, {}, {}, 401, "stale_sign_in"),
    ("unverified-email", {"email_verified": False}, {}, {}, {}, 403, "email_unverified"),
    (
        "provider-not-allowed",
        {"firebase": {"sign_in_provider": "anonymous", "identities": {}}},
        {},
        {},
        {},
        403,
        "provider_not_allowed",
    ),
    ("not-an-admin", {}, {}, {}, None, 403, "not_admin"),
    ("uid-not-the-bound-one", {}, {}, {}, {"uid": "uid-of-someone-before"}, 403, "uid_mismatch"),
]


@pytest.mark.parametrize(
    ("changes", "signing", "account", "admin", "status", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in FORGERIES],
)
def test_forged_or_unacceptable_token_is_refused_without_a_session(
    signed_tokens, store, changes, signing, account, admin, status, reason
):
    app, tokens, mocker = signed_tokens
    changes, account = at_now(changes), at_now(account)
    if admin is not None:
        store.add_admin(ADMIN, "owner", **admin)
    tokens.account(mocker, UID, ADMIN, **account)
    if signing.get("key") == "other":
        signing = {**signing, "key": other_key()}
    token = tokens.sign(tokens.claims(UID, ADMIN, **changes), **signing)

    response = exchange(app.test_client(), token)

    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == reason
    assert response.get_json()["message"]
    assert_no_session(response, store)


@pytest.mark.parametrize(
    ("signed_tokens", "changes"),
    [
        pytest.param(
            {"REQUIRE_EMAIL_VERIFIED": "false"},
            {"email_verified": False},
            id="unverified-email-when-relaxed",
        ),
        pytest.param(
            {"ALLOWED_SIGN_IN_PROVIDERS": "password,google.com"},
            {"firebase": {"sign_in_provider": "google.com", "identities": {}}},
            id="provider-added-to-the-allow-list",
        ),
        pytest.param(
            {"RECENT_SIGN_IN_MINUTES": "15"},
            {"auth_time": -600},
            id="ten-minute-old-sign-in-with-a-15-minute-window",
        ),
    ],
    indirect=["signed_tokens"],
)
def test_policy_settings_relax_only_what_they_name(signed_tokens, store, changes):
    app, tokens, mocker = signed_tokens
    store.add_admin(ADMIN, "owner")
    tokens.account(mocker, UID, ADMIN)
    token = tokens.sign(tokens.claims(UID, ADMIN, **at_now(changes)))
    response = exchange(app.test_client(), token)
    assert response.status_code == 200, response.get_json()
    assert len(store.sessions(email=ADMIN)) == 1


def _provider(name: str) -> dict:
    return {"firebase": {"sign_in_provider": name, "identities": {}}}


SSO = {
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com,oidc.kakao",
    "SIGN_IN_PROVIDER_OPTIONS": '{"oidc.kakao": {"label": "Kakao"}}',
}
# (id, settings, email in the token, claim changes, reason): correctly
# signed tokens of admins (a document exists for the address) that the
# sign-in policy refuses.
POLICY_REFUSALS = [
    ("oidc-provider-not-configured", SSO, ADMIN, _provider("oidc.evil"), "provider_not_allowed"),
    ("saml-provider-not-configured", SSO, ADMIN, _provider("saml.acme"), "provider_not_allowed"),
    (
        "password-when-only-sso-is-allowed",
        {"ALLOWED_SIGN_IN_PROVIDERS": "google.com"},
        ADMIN,
        {},
        "provider_not_allowed",
    ),
    (
        "unverified-email-from-an-untrusted-provider",
        SSO,
        ADMIN,
        {"email_verified": False, **_provider("oidc.kakao")},
        "email_unverified",
    ),
    (
        "trust-for-one-provider-is-not-trust-for-another",
        {**SSO, "TRUST_UNVERIFIED_EMAIL_PROVIDERS": "oidc.kakao"},
        ADMIN,
        {"email_verified": False, **_provider("google.com")},
        "email_unverified",
    ),
    (
        "domain-outside-the-list",
        {**SSO, "ALLOWED_EMAIL_DOMAINS": "acme.com"},
        ADMIN,
        _provider("google.com"),
        "email_domain_not_allowed",
    ),
    (
        "allowed-domain-as-a-prefix-of-another",
        {"ALLOWED_EMAIL_DOMAINS": "example.com"},
        "admin@example.com.evil.io",
        {},
        "email_domain_not_allowed",
    ),
    (
        "subdomain-of-an-allowed-domain",
        {"ALLOWED_EMAIL_DOMAINS": "example.com"},
        "admin@mail.example.com",
        {},
        "email_domain_not_allowed",
    ),
    (
        "allowed-domain-in-the-local-part",
        {"ALLOWED_EMAIL_DOMAINS": "example.com"},
        '"admin@example.com"@evil.io',
        {},
        "invalid_email",  # a quoted local part is never an admin's key
    ),
]


@pytest.mark.parametrize(
    ("signed_tokens", "email", "changes", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in POLICY_REFUSALS],
    indirect=["signed_tokens"],
)
def test_provider_and_domain_policy_refuses_signed_admin_tokens(
    signed_tokens, store, email, changes, reason
):
    app, tokens, mocker = signed_tokens
    store.add_admin(email.lower(), "owner")
    tokens.account(mocker, UID, email)

    response = exchange(app.test_client(), tokens.sign(tokens.claims(UID, email, **changes)))

    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"] == reason
    assert response.get_json()["message"]
    assert_no_session(response, store)


@pytest.mark.parametrize(
    ("signed_tokens", "email", "changes"),
    [
        pytest.param(SSO, ADMIN, _provider("oidc.kakao"), id="configured-oidc-provider"),
        pytest.param(
            {**SSO, "TRUST_UNVERIFIED_EMAIL_PROVIDERS": "oidc.kakao"},
            ADMIN,
            {"email_verified": False, **_provider("oidc.kakao")},
            id="unverified-email-from-the-trusted-provider",
        ),
        pytest.param(
            {"ALLOWED_EMAIL_DOMAINS": "acme.com,example.com"},
            "Admin@EXAMPLE.com",
            {},
            id="allowed-domain-in-capitals",
        ),
    ],
    indirect=["signed_tokens"],
)
def test_provider_and_domain_settings_admit_what_they_name(signed_tokens, store, email, changes):
    app, tokens, mocker = signed_tokens
    store.add_admin(email.lower(), "owner")
    tokens.account(mocker, UID, email)
    response = exchange(app.test_client(), tokens.sign(tokens.claims(UID, email, **changes)))
    assert response.status_code == 200, response.get_json()
    assert len(store.sessions(email=email.lower())) == 1
