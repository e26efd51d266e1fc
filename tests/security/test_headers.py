"""Security headers on every response, in production and in development."""

from __future__ import annotations

import re

import pytest

from adminapp import create_app
from tests.support.settings import AUDIT_KEY, base_config

PRODUCTION = {
    "ADMINAPP_ENV": "production",
    "FIREBASE_PROJECT_ID": "real-project",
    "PUBLIC_URL": "https://admin.example.com",
    "FIREBASE_WEB_API_KEY": "web-api-key",
    "FIREBASE_AUTH_DOMAIN": "real-project.firebaseapp.com",
    "AUDIT_CHAIN_KEY": AUDIT_KEY,  # required in production
}
# Pages that need no Firebase call, so a production app can serve them here.
PAGES = ["/admin/login", "/admin/", "/admin/nope", "/healthz"]


@pytest.fixture
def production_client(monkeypatch):
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(base_config(**PRODUCTION))
    return app.test_client()


def csp(response) -> dict[str, list[str]]:
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


@pytest.mark.parametrize("path", PAGES)
def test_production_policy(production_client, path):
    response = production_client.get(path)
    policy = csp(response)
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["connect-src"] == [
        "'self'",
        "https://identitytoolkit.googleapis.com",
        "https://securetoken.googleapis.com",
    ]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 365 * 24 * 3600


def test_development_policy_allows_only_the_auth_emulator(client, emulators):
    response = client.get("/admin/login")
    assert csp(response)["connect-src"] == ["'self'", f"http://{emulators.auth_host}"]
    assert "Strict-Transport-Security" not in response.headers


def test_the_import_map_carries_a_fresh_nonce_and_no_other_inline_script_runs(
    production_client,
):
    first = production_client.get("/admin/login")
    second = production_client.get("/admin/login")
    nonces = []
    for response in (first, second):
        [nonce] = [v for v in csp(response)["script-src"] if v.startswith("'nonce-")]
        nonce = nonce[len("'nonce-") : -1]
        page = response.get_data(as_text=True)
        assert f'<script type="importmap" nonce="{nonce}">' in page
        # Every other script is either data (JSON) or loaded from our origin.
        for tag in re.findall(r"<script[^>]*>", page):
            assert (
                f'nonce="{nonce}"' in tag
                or 'type="application/json"' in tag
                or re.search(r'src="/admin/static/', tag)
            ), tag
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert len(nonces[0]) >= 16


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/admin/nope", "/admin/api/me"])
def test_admin_responses_are_never_stored(production_client, path):
    assert production_client.get(path).headers["Cache-Control"] == "no-store"


def test_error_responses_carry_the_headers_too(production_client):
    response = production_client.post("/admin/login")  # no session: refused
    assert response.status_code == 401
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


SSO = {
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com,oidc.kakao",
    "SIGN_IN_PROVIDER_OPTIONS": '{"oidc.kakao": {"label": "Kakao"}}',
}
# Pages other than the login page, each checked to keep the strict policy
# when the login page relaxes its own.
OTHER_PAGES = ["/admin/", "/admin/nope", "/healthz", "/admin/resetpassword"]


def sso_client(monkeypatch, **settings):
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    return create_app(base_config(**PRODUCTION, **settings)).test_client()


def test_login_page_with_providers_allows_popups_and_the_auth_domain(monkeypatch):
    response = sso_client(monkeypatch, **SSO).get("/admin/login")
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
    policy = csp(response)
    assert policy["frame-src"] == ["https://real-project.firebaseapp.com"]
    assert policy["connect-src"] == [
        "'self'",
        "https://identitytoolkit.googleapis.com",
        "https://securetoken.googleapis.com",
        "https://real-project.firebaseapp.com",
    ]
    [nonce] = [v for v in policy["script-src"] if v.startswith("'nonce-")]
    assert policy["script-src"] == ["'self'", nonce, "https://apis.google.com"]
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", OTHER_PAGES)
def test_every_other_page_stays_strict_when_providers_are_on(monkeypatch, path):
    response = sso_client(monkeypatch, **SSO, FIREBASE_SMS_SECOND_FACTOR="true", SMTP_HOST="").get(
        path
    )
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = csp(response)
    assert "frame-src" not in policy  # default-src 'none': no frames at all
    assert policy["connect-src"] == [
        "'self'",
        "https://identitytoolkit.googleapis.com",
        "https://securetoken.googleapis.com",
    ]
    assert not [v for v in policy["script-src"] if v.startswith("https:")]


def test_login_page_without_providers_stays_strict(production_client):
    response = production_client.get("/admin/login")
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-src" not in csp(response)
    assert "https://apis.google.com" not in csp(response)["script-src"]


def test_sms_second_factors_let_the_login_page_alone_run_recaptcha(monkeypatch):
    client = sso_client(monkeypatch, FIREBASE_SMS_SECOND_FACTOR="true")
    login = csp(client.get("/admin/login"))
    assert "https://www.google.com/recaptcha/" in login["script-src"]
    assert "https://www.gstatic.com/recaptcha/" in login["script-src"]
    assert login["frame-src"] == [
        "https://www.google.com/recaptcha/",
        "https://recaptcha.google.com/recaptcha/",
    ]
    # Password only: no popups, so the opener policy stays strict.
    assert client.get("/admin/login").headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-src" not in csp(client.get("/admin/resetpassword"))


def test_development_login_page_frames_only_the_auth_emulator(app_with_sso, emulators):
    response = app_with_sso.get("/admin/login")
    assert csp(response)["frame-src"] == [f"http://{emulators.auth_host}"]


@pytest.fixture
def app_with_sso(clean):
    app = create_app(base_config(**SSO))
    yield app.test_client()
    app.extensions["adminapp"].close()
