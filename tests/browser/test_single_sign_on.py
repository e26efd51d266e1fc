"""Single sign-on on the login page, in headless Chromium against the Auth
emulator. Page.route replaces only adminapp/static/js/provider_sign_in.js
(the popup step, which cannot complete offline) by a stand-in that signs in
with a fake provider token; the buttons, the messages, the second factor,
the exchange and the redirect run unmodified."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from adminapp.testing.firebase import DEFAULT_PASSWORD
from tests.support.pages import login_error, screenshot, session_cookie
from tests.support.providers import fake_provider_sign_in, idp_claims
from tests.support.settings import base_config

ADMIN = "alice@acme.com"
SSO = {
    # Gate 2's own second factor is not what these tests are about.
    "MFA_REQUIRED_ROLES": "none",
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com,microsoft.com,oidc.kakao,saml.acme",
    "SIGN_IN_PROVIDER_OPTIONS": json.dumps(
        {
            "google.com": {"parameters": {"hd": "acme.com"}},
            "microsoft.com": {"parameters": {"tenant": "acme.onmicrosoft.com"}},
            "oidc.kakao": {"label": "Kakao", "scopes": ["openid", "email"]},
            "saml.acme": {"label": "Acme SSO"},
        }
    ),
    "ALLOWED_EMAIL_DOMAINS": "acme.com",
}


@pytest.fixture
def config(request):
    return base_config(**{**SSO, **getattr(request, "param", {})})


def button(provider: str) -> str:
    return f'button[data-provider="{provider}"]'


def test_login_page_shows_one_button_per_provider_in_order(page, live_url):
    response = page.goto(f"{live_url}/admin/login")
    labels = page.locator("button[data-provider]").all_inner_texts()
    assert labels == [
        "Sign in with Google",
        "Sign in with Microsoft",
        "Sign in with Kakao",
        "Sign in with Acme SSO",
    ]
    assert page.is_visible("#login-form")  # password is allowed too
    page.wait_for_function("!document.querySelector('button[data-provider]').disabled")
    screenshot(page, "login-providers")
    # The browser got the login page's own opener policy.
    assert response.headers["cross-origin-opener-policy"] == "same-origin-allow-popups"


@pytest.mark.parametrize("provider", ["google.com", "oidc.kakao", "saml.acme"])
def test_admin_signs_in_from_a_provider_button_and_reaches_the_dashboard(
    page, live_url, store, provider
):
    store.add_admin(ADMIN, "admin")
    fake_provider_sign_in(page, {provider: idp_claims(ADMIN)})
    page.goto(f"{live_url}/admin/login")
    page.click(button(provider))
    page.wait_for_url(f"{live_url}/admin/")

    assert page.inner_text("#admin-email") == ADMIN
    assert session_cookie(page) is not None
    [session] = store.sessions(email=ADMIN)
    assert session["sign_in_provider"] == provider


def test_the_button_asks_the_provider_for_the_configured_scopes_and_parameters(page, live_url):
    held = []
    page.route("**/admin/session", lambda route: held.append(route))
    fake_provider_sign_in(page, {"microsoft.com": idp_claims(ADMIN)})
    page.goto(f"{live_url}/admin/login")
    page.click(button("microsoft.com"))
    while not held:
        page.wait_for_timeout(50)
    assert page.evaluate("window.lastProviderRequest") == {
        "id": "microsoft.com",
        "label": "Microsoft",
        "scopes": [],
        "parameters": {"tenant": "acme.onmicrosoft.com"},
    }
    held[0].abort()


def test_an_address_outside_the_allowed_domains_is_refused_with_no_session(page, live_url, store):
    store.add_admin("mallory@gmail.com", "owner")
    fake_provider_sign_in(page, {"google.com": idp_claims("mallory@gmail.com")})
    page.goto(f"{live_url}/admin/login")
    page.click(button("google.com"))
    assert login_error(page) == "Only addresses at acme.com can be admins of this site."
    assert session_cookie(page) is None
    assert store.sessions() == []
    assert page.is_enabled(button("google.com"))  # they can try another account


def test_an_unverified_email_from_an_untrusted_provider_is_refused(page, live_url, store):
    store.add_admin(ADMIN, "admin")
    fake_provider_sign_in(page, {"oidc.kakao": idp_claims(ADMIN, verified=None)})
    page.goto(f"{live_url}/admin/login")
    page.click(button("oidc.kakao"))
    assert login_error(page) == "Verify your email address before signing in to the admin area."
    assert session_cookie(page) is None
    assert store.sessions() == []


@pytest.mark.parametrize(
    "config",
    [
        {
            "ALLOWED_SIGN_IN_PROVIDERS": "google.com,saml.acme",
            "SIGN_IN_PROVIDER_OPTIONS": '{"saml.acme": {"label": "Acme SSO"}}',
        }
    ],
    indirect=True,
)
def test_without_password_there_is_no_password_form(page, live_url):
    page.goto(f"{live_url}/admin/login")
    assert page.locator("#login-form").count() == 0
    assert page.locator("#forgot-password").count() == 0
    assert page.locator("button[data-provider]").all_inner_texts() == [
        "Sign in with Google",
        "Sign in with Acme SSO",
    ]


def test_the_real_provider_module_loads_and_a_failed_popup_is_explained(page, live_url, store):
    # No stand-in here: the real module, under the page's real CSP. The
    # popup needs Google's gapi script, which cannot load on this machine.
    page.route("https://apis.google.com/**", lambda route: route.abort())
    page.goto(f"{live_url}/admin/login")
    page.click(button("google.com"))
    # auth/internal-error: the SDK could not load gapi, before any popup.
    assert login_error(page) == "Sign-in failed. Try again."
    assert session_cookie(page) is None
    assert store.sessions() == []


PHONE = "+15555550100"


# Every role needs a second factor (the default), and Firebase's counts.
@pytest.mark.parametrize(
    "config",
    [{"MFA_REQUIRED_ROLES": "", "ACCEPT_FIREBASE_SECOND_FACTOR": "true"}],
    indirect=True,
)
def test_sms_second_factor_through_the_resolver_reaches_the_dashboard(
    page, live_url, auth_emulator, store
):
    """Identity Platform MFA: Firebase pauses the sign-in with
    auth/multi-factor-auth-required; the page asks for the texted code
    (getMultiFactorResolver, a fresh RecaptchaVerifier, which the emulator
    mode turns into a no-op) and the token then carries
    firebase.sign_in_second_factor, recorded on the session; with
    ACCEPT_FIREBASE_SECOND_FACTOR the admin is not asked again by gate 2."""
    auth_emulator.create_user(ADMIN)
    auth_emulator.enrol_sms_factor(ADMIN, PHONE)
    # An enrolment approved for this admin: only such a factor counts.
    [enrolment] = auth_emulator.enrolment_ids(ADMIN)
    store.add_admin(ADMIN, "admin", firebase_factors={enrolment: {"trusted_by": "cli:test"}})
    sent_before = len(auth_emulator.sms_codes(PHONE))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_url}/admin/login")
    page.fill("#email", ADMIN)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("#sign-in")

    page.wait_for_selector("#second-factor-form:not([hidden])")
    assert "0100" in page.inner_text("#second-factor-prompt")  # the number, masked
    assert store.sessions() == []  # nothing yet: the first step alone opens nothing
    while len(auth_emulator.sms_codes(PHONE)) == sent_before:
        page.wait_for_timeout(50)
    code = auth_emulator.sms_code(PHONE)

    page.fill("#second-factor-code", "000000" if code != "000000" else "111111")
    page.click("#second-factor-submit")
    assert login_error(page) == "That code is not right. Check it and try again."
    assert store.sessions() == []

    page.fill("#second-factor-code", code)
    page.click("#second-factor-submit")
    page.wait_for_url(f"{live_url}/admin/")
    [session] = store.sessions(email=ADMIN)
    assert session["firebase_second_factor"] == "phone"
    assert session["sign_in_provider"] == "password"
    assert session["mfa_pending"] is False
    assert session["mfa_factor"] == "firebase_phone"
    # reCAPTCHA's script was never loaded (the emulator mode disables app
    # verification): nothing was fetched from beyond this machine.
    beyond = [url for url in requested if urlsplit(url).hostname not in ("127.0.0.1", "localhost")]
    assert beyond == []
