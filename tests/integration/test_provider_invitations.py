"""Inviting someone to sign in with a provider instead of a password: no
Firebase user in advance, an email saying "Sign in with Google at <link>",
the same from the page, the API and the command line; addresses outside
ALLOWED_EMAIL_DOMAINS are refused before anything is written."""

from __future__ import annotations

import json

import pytest
from firebase_admin import auth

from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, exchange, post_form

OWNER = "boss@acme.com"
NEW = "new.person@acme.com"
SSO = {
    # Gate 2's own second factor is not what these tests are about.
    "MFA_REQUIRED_ROLES": "none",
    "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com,oidc.kakao",
    "SIGN_IN_PROVIDER_OPTIONS": json.dumps({"oidc.kakao": {"label": "Kakao"}}),
}


@pytest.fixture
def config(request, smtp):
    return base_config(**{**smtp.config(), **SSO, **getattr(request, "param", {})})


@pytest.fixture
def owner_client(signed_in_as):
    return signed_in_as(OWNER, "owner")


def invite_by_api(client, body: dict):
    headers = {"X-CSRFToken": csrf_token(client), "Origin": ORIGIN, "Accept": "application/json"}
    return client.post("/admin/api/admins", json=body, headers=headers)


def has_firebase_user(auth_emulator, email: str) -> bool:
    try:
        auth.get_user_by_email(email, app=auth_emulator.app)
    except auth.UserNotFoundError:
        return False
    return True


def test_page_invitation_by_provider_emails_where_to_sign_in_and_makes_no_user(
    app, owner_client, smtp, auth_emulator, store, outbox
):
    page = owner_client.get("/admin/admins").get_data(as_text=True)
    assert '<option value="google.com">Google</option>' in page

    response = post_form(
        owner_client, "/admin/admins", {"email": NEW, "role": "admin", "provider": "google.com"}
    )

    assert response.status_code == 303
    assert store.admin(NEW)["role"] == "admin"
    assert not has_firebase_user(auth_emulator, NEW)
    assert outbox.sent(NEW) == []  # no password link from Firebase either
    [message] = smtp.inbox.to(NEW)
    assert message["Subject"] == "You are an admin: sign in with Google"
    text = message.get_body(("plain",)).get_content()
    assert "Sign in with Google at http://localhost/admin/login" in text
    assert "password" not in text.split("Sign in with")[0]
    html = message.get_body(("html",)).get_content()
    assert '<a href="http://localhost/admin/login">' in html
    [entry] = [e for e in store.audit() if e["event"] == "admin_invited"]
    assert entry["reason"] == "role admin; sign in with google.com"
    listing = owner_client.get("/admin/admins").get_data(as_text=True)
    assert "An email telling them where to sign in is on its way." in listing

    # They sign in with Google: Firebase makes the user then; they are in.
    token = auth_emulator.sign_in_with_idp("google.com", NEW)
    assert exchange(app.test_client(), token).status_code == 200


def test_api_invitation_by_provider(owner_client, smtp, auth_emulator, store):
    response = invite_by_api(
        owner_client, {"email": NEW, "role": "viewer", "provider": "oidc.kakao"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["provider"] == "oidc.kakao"
    assert body["user_created"] is False
    assert body["email_sent"] is True and body["warning"] is None
    [message] = smtp.inbox.to(NEW)
    assert "Sign in with Kakao at http://localhost/admin/login" in (
        message.get_body(("plain",)).get_content()
    )
    assert not has_firebase_user(auth_emulator, NEW)


def test_cli_invitation_by_provider(app, smtp, auth_emulator, store):
    result = app.test_cli_runner().invoke(
        args=["admins", "add", NEW, "--role", "admin", "--provider", "google.com"]
    )
    assert result.exit_code == 0, result.output
    assert "The invitation email is on its way." in result.output
    assert store.admin(NEW)["role"] == "admin"
    assert not has_firebase_user(auth_emulator, NEW)
    assert len(smtp.inbox.to(NEW)) == 1


@pytest.mark.parametrize("provider", ["github.com", "saml.other", 7])
def test_a_provider_the_site_does_not_offer_is_refused_before_anything_is_written(
    owner_client, smtp, store, provider
):
    response = invite_by_api(owner_client, {"email": NEW, "role": "admin", "provider": provider})
    assert response.status_code == 400
    assert store.admin(NEW) is None
    assert smtp.inbox.to(NEW) == []


@pytest.mark.parametrize("config", [{"ALLOWED_EMAIL_DOMAINS": "acme.com"}], indirect=True)
class TestDomainAllowList:
    OUTSIDER = "someone@gmail.com"
    MESSAGE = "Only addresses at acme.com can be admins of this site."

    def assert_nothing_written(self, store, smtp, auth_emulator, outbox):
        assert store.admin(self.OUTSIDER) is None
        assert smtp.inbox.to(self.OUTSIDER) == []
        assert outbox.sent(self.OUTSIDER) == []
        assert not has_firebase_user(auth_emulator, self.OUTSIDER)
        assert [e for e in store.audit() if e["event"] == "admin_invited"] == []

    @pytest.mark.parametrize("provider", ["password", "google.com"])
    def test_page(self, owner_client, store, smtp, auth_emulator, outbox, provider):
        response = post_form(
            owner_client,
            "/admin/admins",
            {"email": self.OUTSIDER, "role": "admin", "provider": provider},
        )
        assert response.status_code == 400
        assert self.MESSAGE in response.get_data(as_text=True)
        self.assert_nothing_written(store, smtp, auth_emulator, outbox)

    def test_api(self, owner_client, store, smtp, auth_emulator, outbox):
        response = invite_by_api(owner_client, {"email": self.OUTSIDER, "role": "admin"})
        assert response.status_code == 400
        assert response.get_json() == {
            "error": "email_domain_not_allowed",
            "message": self.MESSAGE,
        }
        self.assert_nothing_written(store, smtp, auth_emulator, outbox)

    def test_cli(self, app, store, smtp, auth_emulator, outbox):
        result = app.test_cli_runner().invoke(
            args=["admins", "add", self.OUTSIDER, "--role", "admin", "--password", "x" * 16]
        )
        assert result.exit_code == 1
        assert self.MESSAGE in result.output
        self.assert_nothing_written(store, smtp, auth_emulator, outbox)


@pytest.mark.parametrize(
    "config", [{"SMTP_HOST": "", "RESET_DELIVERY": "firebase", "PUBLIC_URL": ""}], indirect=True
)
def test_without_smtp_the_owner_is_told_what_to_pass_on(owner_client, store):
    body = {"email": NEW, "role": "admin", "provider": "google.com"}
    response = invite_by_api(owner_client, body)
    assert response.status_code == 201
    body = response.get_json()
    assert body["email_sent"] is False
    assert "tell them: Sign in with Google at the admin sign-in page" in body["warning"]
    assert store.admin(NEW) is not None
