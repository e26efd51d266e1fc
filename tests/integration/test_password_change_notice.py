"""After a completed reset, the admin is told by email that their password
changed (ASVS 2.2.3, 2.5.5): through our SMTP server in either delivery mode,
never for a reset that did not happen, and never holding a code or password."""

from __future__ import annotations

import json
import logging

import pytest
from firebase_admin import auth

from adminapp.testing.firebase import OWNER
from tests.support.reset import code_of, fresh_app, set_password, settle
from tests.support.settings import base_config

NEW_PASSWORD = "a brand new passphrase for the owner"


@pytest.fixture
def code(owner, auth_emulator):
    """A reset code for the owner, made without sending any email."""
    return code_of(auth.generate_password_reset_link(OWNER, app=auth_emulator.app))


def notice_lines(caplog) -> list[dict]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "adminapp.security"]
    return [line for line in lines if line["event"] == "password_change_notice"]


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO, logger="adminapp.security")
    return caplog


class TestSmtpMode:
    @pytest.fixture
    def config(self, smtp):
        return base_config(**smtp.config())

    def test_a_completed_reset_sends_the_notice(self, app, client, smtp, code, logs):
        assert set_password(client, code, NEW_PASSWORD).status_code == 303
        settle(app)
        [notice] = smtp.inbox.to(OWNER)
        assert notice["Subject"] == "Your admin password was changed"
        assert notice["From"] == "Admin <no-reply@example.com>"
        text = notice.get_body(("plain",)).get_content()
        html = notice.get_body(("html",)).get_content()
        for part in (text, html):
            assert OWNER in part
            assert "UTC" in part and "127.0.0.1" in part
            assert "http://localhost/admin/login" in part
            assert code not in part and NEW_PASSWORD not in part
        assert "oobCode" not in text + html  # nothing to act on in a notice
        assert notice_lines(logs) == [
            {"event": "password_change_notice", "target": OWNER, "outcome": "ok"}
        ]

    @pytest.mark.parametrize(
        ("password", "repeat"),
        [
            pytest.param("short", "short", id="too-short"),
            pytest.param(NEW_PASSWORD, NEW_PASSWORD + "!", id="mismatch"),
        ],
    )
    def test_no_notice_when_the_password_did_not_change(
        self, app, client, smtp, code, password, repeat
    ):
        assert set_password(client, code, password, repeat).status_code == 400
        settle(app)
        assert smtp.inbox.to(OWNER) == []

    def test_no_notice_for_a_used_code(self, app, client, smtp, code):
        assert set_password(client, code, NEW_PASSWORD).status_code == 303
        settle(app)
        assert set_password(client, code, NEW_PASSWORD + " again").status_code == 400
        settle(app)
        assert len(smtp.inbox.to(OWNER)) == 1  # the first reset's notice only

    def test_a_refusing_mail_server_does_not_undo_the_reset(
        self, app, client, smtp, code, auth_emulator, logs
    ):
        smtp.inbox.refuse = True
        assert set_password(client, code, NEW_PASSWORD).status_code == 303
        settle(app)
        assert smtp.messages == []
        auth_emulator.sign_in(OWNER, NEW_PASSWORD)  # the new password works
        [line] = notice_lines(logs)
        assert line["outcome"] == "failed" and line["reason"] == "SMTPDataError"


class TestFirebaseMode:
    def test_with_smtp_configured_the_notice_is_ours(self, smtp, code, auth_emulator, logs):
        """Firebase sends the reset email; the notice still comes from us."""
        with fresh_app(base_config(**{**smtp.config(), "RESET_DELIVERY": "firebase"})) as app:
            assert set_password(app.test_client(), code, NEW_PASSWORD).status_code == 303
            settle(app)
        [notice] = smtp.inbox.to(OWNER)
        assert notice["Subject"] == "Your admin password was changed"

    def test_without_smtp_there_is_no_notice_and_the_log_says_so(
        self, app, client, code, smtp, logs
    ):
        assert set_password(client, code, NEW_PASSWORD).status_code == 303
        settle(app)
        assert smtp.messages == []  # this app was not given the server
        assert notice_lines(logs) == [
            {
                "event": "password_change_notice",
                "target": OWNER,
                "outcome": "skipped",
                "reason": "no_smtp",
            }
        ]
