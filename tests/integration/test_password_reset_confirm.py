"""Choosing a new password from the emailed link: the code is checked first,
the new password works, the old one and every earlier session do not, and
no code or password reaches a log or the audit trail."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from firebase_admin import auth

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from adminapp.testing.live import serve
from tests.support.reset import code_of, link_in, request_reset, set_password, settle
from tests.support.settings import base_config
from tests.support.web import sign_in

NEW_PASSWORD = "a brand new passphrase for the owner"


@pytest.fixture
def config(smtp):
    return base_config(**smtp.config())


@pytest.fixture
def code(app, owner, smtp):
    """A fresh reset code for the owner, from the email our app sent."""
    assert request_reset(app.test_client(), OWNER).status_code == 200
    settle(app)
    [message] = smtp.inbox.to(OWNER)
    link = link_in(message)
    assert link.startswith("http://localhost/admin/resetpassword/confirm?oobCode=")
    return code_of(link)


def signs_in(auth_emulator, password: str) -> bool:
    try:
        auth_emulator.sign_in(OWNER, password)
    except requests.HTTPError:
        return False
    return True


def test_the_email_has_text_and_html_parts(app, owner, smtp, code):
    [message] = smtp.inbox.to(OWNER)
    assert message["Subject"] == "Reset your admin password"
    assert message["From"] == "Admin <no-reply@example.com>"
    html = message.get_body(("html",)).get_content()
    assert f'href="http://localhost/admin/resetpassword/confirm?oobCode={code}"' in html


def test_the_page_checks_the_code_and_keeps_it_private(client, code):
    response = client.get(f"/admin/resetpassword/confirm?oobCode={code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert OWNER in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="referrer" content="no-referrer">' in page
    # The form posts the code in its body, not in the URL.
    assert 'action="/admin/resetpassword/confirm"' in page


def test_a_reset_changes_the_password_and_ends_everything(app, auth_emulator, owner, store, code):
    earlier = app.test_client()
    sign_in(earlier, auth_emulator, OWNER)
    assert earlier.get("/admin/").status_code == 200
    # Revocation times have a resolution of one second.
    time.sleep(1.1)
    started = time.time()

    response = set_password(app.test_client(), code, NEW_PASSWORD)

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/login"
    assert signs_in(auth_emulator, NEW_PASSWORD)
    assert not signs_in(auth_emulator, DEFAULT_PASSWORD)
    # The session opened before the reset is refused at the guard.
    refused = earlier.get("/admin/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/admin/login")
    assert all(s["ended_at"] is not None for s in store.sessions(email=OWNER))
    valid_after = auth.get_user(owner.uid, app=auth_emulator.app).tokens_valid_after_timestamp
    assert valid_after / 1000 >= int(started)
    [entry] = store.audit(event="password_reset_completed")
    assert entry["actor"] == OWNER and entry["outcome"] == "ok"
    trail = repr(store.audit())
    assert code not in trail and NEW_PASSWORD not in trail


def test_the_login_page_shows_the_notice(client, code):
    set_password(client, code, NEW_PASSWORD)
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Your password has been changed" in page


def test_a_used_code_gets_a_clear_page_with_a_way_to_ask_again(client, code):
    assert set_password(client, code, NEW_PASSWORD).status_code == 303
    again = client.get(f"/admin/resetpassword/confirm?oobCode={code}")
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert "not valid or has already been used" in page
    assert 'action="/admin/resetpassword"' in page
    assert set_password(client, code, "yet another long password").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "oobCode=unknown-code-123",
        "oobCode=",
        "",
        "oobCode=%3Cscript%3E",
        "mode=verifyEmail&oobCode=abc",
    ],
)
def test_unknown_or_malformed_codes(client, owner, query):
    response = client.get(f"/admin/resetpassword/confirm?{query}")
    assert response.status_code == 400
    assert "Ask for a new" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_code_of_another_kind_gets_the_invalid_page(app, client, auth_emulator, owner, store):
    # A real email-verification code: Firebase's check of it returns its
    # email too, with requestType VERIFY_EMAIL.
    code = auth_emulator.verify_email_code(OWNER)
    browser = app.test_client()
    sign_in(browser, auth_emulator, OWNER)
    before = auth.get_user(owner.uid, app=auth_emulator.app)

    page = client.get(f"/admin/resetpassword/confirm?oobCode={code}")
    assert page.status_code == 400
    assert "not valid" in page.get_data(as_text=True)
    assert 'name="password"' not in page.get_data(as_text=True)

    posted = set_password(client, code, NEW_PASSWORD)
    assert posted.status_code == 400
    assert "not valid" in posted.get_data(as_text=True)
    assert signs_in(auth_emulator, DEFAULT_PASSWORD)
    after = auth.get_user(owner.uid, app=auth_emulator.app)
    assert after.tokens_valid_after_timestamp == before.tokens_valid_after_timestamp
    assert browser.get("/admin/").status_code == 200  # no session was ended
    assert [s.get("ended_at") for s in store.sessions()] == [None]
    assert store.audit(event="password_reset_completed") == []


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        ("", "", "Enter a new password."),
        ("short", "short", "Use at least 12 characters."),
        ("x" * 4097, "x" * 4097, "Use at most 4096 characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords are not the same."),
    ],
)
def test_password_rules(client, auth_emulator, code, password, repeat, message):
    response = set_password(client, code, password, repeat)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert signs_in(auth_emulator, DEFAULT_PASSWORD)  # nothing changed
    assert client.get(f"/admin/resetpassword/confirm?oobCode={code}").status_code == 200


def test_missing_csrf_token_is_refused(client, auth_emulator, code):
    response = client.post(
        "/admin/resetpassword/confirm",
        data={"oob_code": code, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert signs_in(auth_emulator, DEFAULT_PASSWORD)


def test_no_code_or_password_in_the_logs(app, code, caplog):
    caplog.set_level(logging.DEBUG)
    with serve(app) as url:
        page = requests.get(f"{url}/admin/resetpassword/confirm?oobCode={code}", timeout=10)
    assert page.status_code == 200
    client = app.test_client()
    set_password(client, code, NEW_PASSWORD)
    logged = caplog.text
    assert "/admin/resetpassword/confirm?oobCode=[redacted]" in logged  # werkzeug's access log
    assert code not in logged
    assert NEW_PASSWORD not in logged


class TestFirebaseMode:
    """Firebase sends its own email; with the template's action URL pointed
    at our page, its link arrives with mode, oobCode, apiKey and continueUrl."""

    @pytest.fixture
    def config(self):
        return base_config()

    def test_firebase_link_parameters_work_on_our_page(
        self, app, client, owner, outbox, auth_emulator
    ):
        request_reset(client, OWNER)
        settle(app)
        [record] = outbox.sent(OWNER)
        query = record["oobLink"].split("?", 1)[1]  # mode=resetPassword&oobCode=…&apiKey=…
        page = client.get(f"/admin/resetpassword/confirm?{query}")
        assert page.status_code == 200
        response = set_password(client, record["oobCode"], NEW_PASSWORD)
        assert response.status_code == 303
        assert signs_in(auth_emulator, NEW_PASSWORD)
