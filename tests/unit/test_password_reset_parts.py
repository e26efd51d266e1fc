"""The pure parts of the reset flow: forms, links, log redaction, settings."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from adminapp import ConfigError
from adminapp.config import load_settings
from adminapp.firebase import identity_toolkit as toolkit
from adminapp.log_redaction import REDACTED, RedactResetCodes, redact
from adminapp.mail.password_links import LinkDeliveryError, code_from_link, confirm_link
from adminapp.web.auth.forms import EmailForm, NewPasswordForm
from tests.support.settings import STRONG, production


@pytest.fixture
def form_app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY=STRONG, WTF_CSRF_ENABLED=False)
    Babel(app)  # the forms' messages are translations (English here)
    with app.test_request_context(method="POST"):
        yield app


def errors(form_class, **data) -> dict:
    form = form_class(formdata=MultiDict(data))
    form.validate()
    return form.errors


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        ("", "", "Enter a new password."),
        ("eleven char", "eleven char", "Use at least 12 characters."),
        ("x" * 4097, "x" * 4097, "Use at most 4096 characters."),
        ("twelve chars", "twelve chars?", "The two passwords are not the same."),
    ],
)
def test_new_password_rules(form_app, password, repeat, message):
    found = errors(NewPasswordForm, oob_code="abc", password=password, repeat=repeat)
    assert message in [text for messages in found.values() for text in messages]


@pytest.mark.parametrize("password", ["twelve chars", "x" * 4096])
def test_new_password_limits_are_inclusive(form_app, password):
    assert errors(NewPasswordForm, oob_code="abc", password=password, repeat=password) == {}


def test_email_form_normalizes_and_limits(form_app):
    form = EmailForm(formdata=MultiDict({"email": "  Owner@Example.COM "}))
    assert form.validate() and form.email.data == "owner@example.com"
    assert (
        "An email address has at most 254 characters."
        in errors(EmailForm, email="a" * 250 + "@example.com")["email"]
    )


def test_confirm_link_encodes_the_code():
    link = confirm_link("https://admin.example.com", "a+b/c=")
    assert link == "https://admin.example.com/admin/resetpassword/confirm?oobCode=a%2Bb%2Fc%3D"


def test_code_from_a_firebase_link():
    link = (
        "https://demo.firebaseapp.com/__/auth/action?mode=resetPassword"
        "&oobCode=XYZ-123&apiKey=k&continueUrl=https%3A%2F%2Fa.example%2Fadmin%2Flogin"
    )
    assert code_from_link(link) == "XYZ-123"
    with pytest.raises(LinkDeliveryError):
        code_from_link("https://demo.firebaseapp.com/__/auth/action?mode=resetPassword")


@pytest.mark.parametrize(
    "text",
    [
        '127.0.0.1 - - "GET /admin/resetpassword/confirm?oobCode=SECRET123 HTTP/1.1" 200 -',
        "GET /x?mode=resetPassword&oobCode=SECRET123&apiKey=k",
        '{"oobCode": "SECRET123", "newPassword": "n"}',
        "continueUrl=x%26oobCode%3DSECRET123",
    ],
)
def test_redaction(text):
    cleaned = redact(text)
    assert "SECRET123" not in cleaned and REDACTED in cleaned


def test_the_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s %s" %s', ("GET", "/c?oobCode=S3CR3T", 200), None
    )
    assert RedactResetCodes().filter(record)
    assert record.getMessage() == f'"GET /c?oobCode={REDACTED}" 200'


def smtp_settings(**overrides) -> dict[str, str]:
    smtp = {
        "RESET_DELIVERY": "smtp",
        "SMTP_HOST": "smtp.acme.example",
        "MAIL_FROM": "Acme admin <no-reply@acme.example>",
    }
    return production(**{**smtp, **overrides})


def test_smtp_settings_load():
    smtp = load_settings(smtp_settings(SMTP_SECURITY="ssl")).smtp
    assert (smtp.port, smtp.security, smtp.timeout) == (465, "ssl", 10)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SMTP_HOST": ""}, "SMTP_HOST"),
        ({"MAIL_FROM": ""}, "MAIL_FROM"),
        ({"MAIL_FROM": "not an address"}, "MAIL_FROM"),
        ({"MAIL_FROM": "a@b.example\nBcc: x@y.example"}, "MAIL_FROM"),
        ({"SMTP_SECURITY": "maybe"}, "SMTP_SECURITY"),
        ({"SMTP_TIMEOUT_SECONDS": "0"}, "SMTP_TIMEOUT_SECONDS"),
        ({"SMTP_CA_FILE": "/nonexistent/ca.pem"}, "SMTP_CA_FILE"),
        ({"RESET_RATE_LIMIT_PER_EMAIL": "lots"}, "RESET_RATE_LIMIT_PER_EMAIL"),
        ({"RESET_RATE_LIMIT_PER_IP": "5 every so often"}, "RESET_RATE_LIMIT_PER_IP"),
        ({"RESET_DELIVERY": "pigeon"}, "RESET_DELIVERY"),
    ],
)
def test_bad_reset_settings_are_refused_by_name(overrides, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(smtp_settings(**overrides))


def test_smtp_mode_needs_a_public_url():
    config = smtp_settings(ADMINAPP_ENV="development", PUBLIC_URL="")
    with pytest.raises(ConfigError, match="PUBLIC_URL is required with RESET_DELIVERY=smtp"):
        load_settings(config)


def firebase_answer(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("EMAIL_NOT_FOUND", toolkit.EmailNotFound),
        ("RESET_PASSWORD_EXCEED_LIMIT", toolkit.TooManyResets),
        ("EXPIRED_OOB_CODE", toolkit.ExpiredCode),
        ("INVALID_OOB_CODE", toolkit.InvalidCode),
        ("WEAK_PASSWORD : Password should be at least 6 characters", toolkit.WeakPassword),
        ("SOMETHING_NEW", toolkit.ToolkitError),
    ],
)
def test_firebase_error_codes_become_typed_errors(message, kind):
    body = json.dumps({"error": {"code": 400, "message": message}}).encode()
    error = toolkit._refusal(firebase_answer(400, body))
    assert type(error) is kind
    assert error.code == message.split(" ")[0]


def test_a_garbled_error_still_names_the_status():
    error = toolkit._refusal(firebase_answer(403, b"<html>nope</html>"))
    assert type(error) is toolkit.ToolkitError and error.code == "HTTP_403"


def test_the_toolkit_talks_to_the_emulator_only_when_told():
    emulated = load_settings(
        smtp_settings(
            ADMINAPP_ENV="development",
            FIREBASE_PROJECT_ID="demo-x",
            FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099",
        )
    )
    assert toolkit.IdentityToolkit(None, emulated).base_url == (
        "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1"
    )
    real = load_settings(smtp_settings())
    assert toolkit.IdentityToolkit(None, real).base_url == toolkit.PRODUCTION_BASE
