"""When Firebase or the SMTP server misbehaves: the person sees the neutral
request page or a clear confirmation error, the log says why, nothing leaks.

requests-mock injects Firebase's answers (no emulator can be told to fail
this way); everything it does not match goes to the real Auth emulator.
"""

from __future__ import annotations

import logging

import pytest
import requests
import requests_mock

from adminapp.testing.emulator_control import free_port
from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from tests.support.mail import start_smtp
from tests.support.reset import (
    code_of,
    fresh_app,
    link_in,
    request_reset,
    set_password,
    settle,
)
from tests.support.settings import base_config
from tests.support.tls import self_signed

SENT = "If an admin account exists for that address, a link is on its way."
NEW_PASSWORD = "a brand new passphrase for the owner"


def toolkit_url(emulators, method: str) -> str:
    return f"http://{emulators.auth_host}/identitytoolkit.googleapis.com/v1/accounts:{method}"


def firebase_error(code: str, status: int = 400) -> dict:
    return {"status_code": status, "json": {"error": {"code": status, "message": code}}}


FAILURES = {
    "EMAIL_NOT_FOUND": firebase_error("EMAIL_NOT_FOUND"),
    "RESET_PASSWORD_EXCEED_LIMIT": firebase_error("RESET_PASSWORD_EXCEED_LIMIT"),
    "HTTPError": {"status_code": 503, "text": "Service Unavailable"},
    "ConnectTimeout": {"exc": requests.exceptions.ConnectTimeout},
    "ReadTimeout": {"exc": requests.exceptions.ReadTimeout},
}


@pytest.mark.parametrize("cause", sorted(FAILURES))
def test_request_faults_in_firebase_mode(app, client, owner, outbox, store, clean, caplog, cause):
    with requests_mock.Mocker(real_http=True) as mock:
        mock.post(toolkit_url(clean, "sendOobCode"), **FAILURES[cause])
        response = request_reset(client, OWNER)
        settle(app)
    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    assert outbox.sent() == []
    [entry] = store.audit(event="password_reset_requested")
    assert entry["outcome"] == "failed" and cause in entry["reason"]
    assert f"password reset email not sent to {OWNER}" in caplog.text


def test_firestore_down_during_a_request_still_answers_the_same(app, client, owner, clean, caplog):
    clean.stop_firestore()
    try:
        response = request_reset(client, OWNER)
        settle(app)
    finally:
        clean.start_firestore()
    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    assert f"password reset request for {OWNER} dropped" in caplog.text


class TestSmtpFaults:
    @pytest.fixture
    def config(self, smtp):
        return base_config(**smtp.config())

    def test_the_server_refusing(self, app, client, owner, smtp, store):
        smtp.inbox.refuse = True
        response = request_reset(client, OWNER)
        settle(app)
        assert response.status_code == 200 and SENT in response.get_data(as_text=True)
        assert smtp.messages == []
        [entry] = store.audit(event="password_reset_requested")
        assert entry["outcome"] == "failed" and "SMTPDataError" in entry["reason"]

    def test_generate_link_refused_by_firebase(self, app, client, owner, smtp, store, clean):
        url = f"http://{clean.auth_host}/identitytoolkit.googleapis.com/v1/projects/demo-adminapp/accounts:sendOobCode"
        with requests_mock.Mocker(real_http=True) as mock:
            mock.post(url, **firebase_error("RESET_PASSWORD_EXCEED_LIMIT"))
            response = request_reset(client, OWNER)
            settle(app)
        assert response.status_code == 200
        assert smtp.messages == []
        [entry] = store.audit(event="password_reset_requested")
        assert entry["outcome"] == "failed"


class TestSmtpUnreachable:
    @pytest.fixture
    def config(self, smtp):
        return base_config(**smtp.config(SMTP_PORT=str(free_port()), SMTP_TIMEOUT_SECONDS="2"))

    def test_nobody_listening(self, app, client, owner, store):
        response = request_reset(client, OWNER)
        settle(app)
        assert response.status_code == 200 and SENT in response.get_data(as_text=True)
        [entry] = store.audit(event="password_reset_requested")
        assert entry["outcome"] == "failed" and "ConnectionRefusedError" in entry["reason"]


class TestTls:
    """STARTTLS and SMTP over TLS against a server with a private certificate."""

    @pytest.fixture(params=["starttls", "ssl"])
    def server(self, request, tmp_path):
        certificate = self_signed(tmp_path)
        server = start_smtp(tls=certificate.server_context(), implicit_tls=request.param == "ssl")
        server.security = request.param
        server.ca_file = str(certificate.cert_file)
        yield server
        server.stop()

    def test_delivers_when_the_certificate_is_trusted(self, server, clean, owner):
        with fresh_app(
            base_config(**server.config(server.security, SMTP_CA_FILE=server.ca_file))
        ) as app:
            request_reset(app.test_client(), OWNER)
            settle(app)
        [message] = server.inbox.to(OWNER)
        assert "/admin/resetpassword/confirm?oobCode=" in link_in(message)

    def test_refuses_an_untrusted_certificate(self, server, clean, owner, store):
        with fresh_app(base_config(**server.config(server.security))) as app:
            request_reset(app.test_client(), OWNER)
            settle(app)
        assert server.messages == []
        [entry] = store.audit(event="password_reset_requested")
        assert entry["outcome"] == "failed" and "SSLCertVerificationError" in entry["reason"]


class TestConfirmFaults:
    @pytest.fixture
    def config(self, smtp):
        return base_config(**smtp.config())

    @pytest.fixture
    def code(self, app, owner, smtp):
        request_reset(app.test_client(), OWNER)
        settle(app)
        return code_of(link_in(smtp.inbox.to(OWNER)[0]))

    @pytest.mark.parametrize(
        ("failure", "status", "message"),
        [
            (firebase_error("EXPIRED_OOB_CODE"), 400, "This link has expired."),
            (firebase_error("INVALID_OOB_CODE"), 400, "not valid or has already been used"),
            ({"status_code": 500, "text": "boom"}, 503, "not answering right now"),
            ({"exc": requests.exceptions.ReadTimeout}, 503, "not answering right now"),
        ],
    )
    def test_checking_the_code(self, client, clean, code, caplog, failure, status, message):
        caplog.set_level(logging.INFO)
        with requests_mock.Mocker(real_http=True) as mock:
            mock.post(toolkit_url(clean, "resetPassword"), **failure)
            response = client.get(f"/admin/resetpassword/confirm?oobCode={code}")
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert code not in caplog.text

    @staticmethod
    def set_password_refused(client, emulators, code: str, error: str):
        """Submit a new password that Firebase answers with ``error`` (the
        code check before it still reaches the real emulator)."""
        with requests_mock.Mocker(real_http=True) as mock:
            mock.post(
                toolkit_url(emulators, "resetPassword"),
                additional_matcher=lambda request: "newPassword" in request.json(),
                **firebase_error(error),
            )
            return set_password(client, code, NEW_PASSWORD)

    def test_weak_password_refused_by_firebase(self, client, clean, code, auth_emulator):
        response = self.set_password_refused(
            client, clean, code, "WEAK_PASSWORD : Password should be at least 6 characters"
        )
        assert response.status_code == 400
        assert "Firebase refused this password" in response.get_data(as_text=True)
        assert auth_emulator.sign_in(OWNER, DEFAULT_PASSWORD)  # unchanged

    def test_expired_between_page_and_submit(self, client, clean, code, store):
        response = self.set_password_refused(client, clean, code, "EXPIRED_OOB_CODE")
        assert response.status_code == 400
        assert "This link has expired." in response.get_data(as_text=True)
        assert store.audit(event="password_reset_completed") == []
