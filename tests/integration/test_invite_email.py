"""An invitation that creates a Firebase user sends the password-set email
through the reset flow's delivery; a failed email keeps the admin and says so."""

from __future__ import annotations

import pytest

from tests.support.reset import code_of, link_in, set_password
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, post_form

OWNER = "boss@example.com"
NEW = "new.person@example.com"


@pytest.fixture
def owner_client(signed_in_as):
    return signed_in_as(OWNER, "owner")


def invite_by_api(client, email: str):
    headers = {"X-CSRFToken": csrf_token(client), "Origin": ORIGIN, "Accept": "application/json"}
    return client.post("/admin/api/admins", json={"email": email, "role": "admin"}, headers=headers)


class TestFirebaseMode:
    def test_a_new_user_gets_one_email(self, owner_client, outbox, store):
        response = post_form(owner_client, "/admin/admins", {"email": NEW, "role": "admin"})
        assert response.status_code == 303
        assert len(outbox.sent(NEW)) == 1
        page = owner_client.get("/admin/admins").get_data(as_text=True)
        assert "An email with a link to set their password is on its way." in page

    def test_an_existing_user_gets_one_too(self, owner_client, outbox, auth_emulator):
        # Its password was replaced: the link is how the mailbox's owner
        # signs in (tests/integration/test_planted_accounts.py).
        auth_emulator.create_user(NEW)
        post_form(owner_client, "/admin/admins", {"email": NEW, "role": "admin"})
        assert len(outbox.sent(NEW)) == 1

    def test_the_api_reports_it(self, owner_client, outbox):
        response = invite_by_api(owner_client, NEW)
        assert response.status_code == 201
        body = response.get_json()
        assert body["email_sent"] is True and body["warning"] is None
        assert len(outbox.sent(NEW)) == 1


class TestSmtpMode:
    @pytest.fixture
    def config(self, smtp):
        return base_config(**smtp.config())

    def test_the_invitation_email_sets_a_first_password(
        self, app, owner_client, smtp, auth_emulator
    ):
        post_form(owner_client, "/admin/admins", {"email": NEW, "role": "admin"})
        [message] = smtp.inbox.to(NEW)
        assert message["Subject"] == "Set your admin password"
        assert "You have been made an admin" in message.get_body(("plain",)).get_content()
        code = code_of(link_in(message))
        response = set_password(app.test_client(), code, "the first password of the new admin")
        assert response.status_code == 303
        assert auth_emulator.sign_in(NEW, "the first password of the new admin")

    def test_an_existing_user_gets_one_too(self, owner_client, smtp, auth_emulator):
        auth_emulator.create_user(NEW)
        post_form(owner_client, "/admin/admins", {"email": NEW, "role": "admin"})
        [message] = smtp.inbox.to(NEW)
        assert message["Subject"] == "Set your admin password"

    def test_a_failed_email_keeps_the_admin_and_warns_the_owner(self, owner_client, smtp, store):
        smtp.inbox.refuse = True
        response = post_form(owner_client, "/admin/admins", {"email": NEW, "role": "admin"})
        assert response.status_code == 303
        assert store.admin(NEW)["role"] == "admin"
        page = owner_client.get("/admin/admins").get_data(as_text=True)
        assert 'class="flash flash-warning"' in page
        assert "could not be sent" in page

    def test_a_failed_email_is_reported_by_the_api(self, owner_client, smtp, store):
        smtp.inbox.refuse = True
        response = invite_by_api(owner_client, NEW)
        assert response.status_code == 201
        body = response.get_json()
        assert body["email_sent"] is False and body["user_created"] is True
        assert "could not be sent" in body["warning"]
        assert store.admin(NEW) is not None
