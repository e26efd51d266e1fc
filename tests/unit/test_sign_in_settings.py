"""Single sign-on settings: the providers list, their buttons' options, the
email-domain allow-list and the unverified-email override, each validated at
start-up with an error that names the setting."""

from __future__ import annotations

import json

import pytest

from adminapp.config import ProviderButton, load_settings
from tests.support.settings import development, refusal

SSO = "password,google.com,microsoft.com,oidc.kakao,saml.acme"
LABELS = json.dumps({"oidc.kakao": {"label": "Kakao"}, "saml.acme": {"label": "Acme SSO"}})


def test_default_is_the_password_alone():
    settings = load_settings(development())
    assert settings.allowed_sign_in_providers == ("password",)
    assert settings.provider_buttons == ()
    assert settings.password_sign_in
    assert settings.allowed_email_domains == ()
    assert settings.trust_unverified_email_providers == frozenset()
    assert settings.accept_firebase_second_factor is False


def test_buttons_follow_the_providers_order_with_their_options():
    options = json.loads(LABELS)
    options["google.com"] = {"parameters": {"hd": "acme.com"}, "scopes": ["profile"]}
    options["microsoft.com"] = {"parameters": {"tenant": "acme.onmicrosoft.com"}}
    settings = load_settings(
        development(
            ALLOWED_SIGN_IN_PROVIDERS="saml.acme, google.com,oidc.kakao,microsoft.com",
            SIGN_IN_PROVIDER_OPTIONS=json.dumps(options),
        )
    )
    assert not settings.password_sign_in
    assert settings.provider_buttons == (
        ProviderButton("saml.acme", "Acme SSO"),
        ProviderButton("google.com", "Google", ("profile",), (("hd", "acme.com"),)),
        ProviderButton("oidc.kakao", "Kakao"),
        ProviderButton("microsoft.com", "Microsoft", (), (("tenant", "acme.onmicrosoft.com"),)),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ALLOWED_SIGN_IN_PROVIDERS": "password,anonymous"}, "'anonymous' is not a sign-in"),
        ({"ALLOWED_SIGN_IN_PROVIDERS": "gogle.com"}, "ALLOWED_SIGN_IN_PROVIDERS: 'gogle.com'"),
        ({"ALLOWED_SIGN_IN_PROVIDERS": "oidc."}, "ALLOWED_SIGN_IN_PROVIDERS: 'oidc.'"),
        ({"ALLOWED_SIGN_IN_PROVIDERS": "google.com,google.com"}, "names a provider twice"),
        ({"ALLOWED_SIGN_IN_PROVIDERS": "oidc.kakao"}, "needs a label"),
        (
            {"ALLOWED_SIGN_IN_PROVIDERS": SSO, "SIGN_IN_PROVIDER_OPTIONS": "{oops"},
            "SIGN_IN_PROVIDER_OPTIONS is not JSON",
        ),
        (
            {"SIGN_IN_PROVIDER_OPTIONS": '{"google.com": {}}'},
            "options for 'google.com', which has no button",
        ),
        (
            {
                "ALLOWED_SIGN_IN_PROVIDERS": "google.com",
                "SIGN_IN_PROVIDER_OPTIONS": '{"google.com": {"hd": "acme.com"}}',
            },
            "must be an object with only label, parameters, scopes",
        ),
        (
            {
                "ALLOWED_SIGN_IN_PROVIDERS": "google.com",
                "SIGN_IN_PROVIDER_OPTIONS": '{"google.com": {"parameters": {"hd": 1}}}',
            },
            "parameters must map parameter names to strings",
        ),
        (
            {
                "ALLOWED_SIGN_IN_PROVIDERS": "saml.acme",
                "SIGN_IN_PROVIDER_OPTIONS": '{"saml.acme": {"label": "A", "scopes": ["x"]}}',
            },
            "SAML providers take no scopes",
        ),
        ({"ALLOWED_EMAIL_DOMAINS": "@acme.com"}, "ALLOWED_EMAIL_DOMAINS: '@acme.com'"),
        ({"ALLOWED_EMAIL_DOMAINS": "*.acme.com"}, "no wildcard"),
        ({"ALLOWED_EMAIL_DOMAINS": "localhost"}, "ALLOWED_EMAIL_DOMAINS: 'localhost'"),
        ({"TRUST_UNVERIFIED_EMAIL_PROVIDERS": "password"}, "cannot name password"),
        ({"TRUST_UNVERIFIED_EMAIL_PROVIDERS": "oidc.kakao"}, "not in ALLOWED_SIGN_IN_PROVIDERS"),
        ({"ACCEPT_FIREBASE_SECOND_FACTOR": "maybe"}, "ACCEPT_FIREBASE_SECOND_FACTOR='maybe'"),
    ],
)
def test_bad_sign_in_settings_stop_the_app_naming_the_setting(overrides, message):
    assert message in refusal(development(**overrides))


def test_email_domains_are_lower_cased():
    settings = load_settings(development(ALLOWED_EMAIL_DOMAINS="Acme.com, ACME.co.kr"))
    assert settings.allowed_email_domains == ("acme.com", "acme.co.kr")
