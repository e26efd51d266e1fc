"""Korean and English: which language a page, a refusal, a JSON message and
an email speaks, and in which time zone times are shown."""

from __future__ import annotations

import re

import pytest

from adminapp.testing.firebase import OWNER
from tests.support.cookies import LANGUAGE, items_set_by, present
from tests.support.reset import request_reset, settle
from tests.support.settings import base_config
from tests.support.web import post_form

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
STAFF = "staff@example.com"


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


def test_the_browser_language_chooses_the_login_page_language(client):
    korean = client.get("/admin/login", headers=KO)
    english = client.get("/admin/login", headers=EN)

    assert html_lang(korean) == "ko" and "관리자 영역 로그인" in korean.get_data(as_text=True)
    assert html_lang(english) == "en" and "Sign in to the admin area" in english.get_data(
        as_text=True
    )


@pytest.mark.parametrize("config", [base_config(DEFAULT_LOCALE="ko")])
def test_without_a_preference_the_default_locale_speaks(client):
    response = client.get("/admin/login")  # no Accept-Language

    assert html_lang(response) == "ko"


@pytest.mark.both_cookie_modes
def test_the_signed_out_switch_keeps_only_the_language_in_a_lax_cookie(client, cookie_mode):
    response = client.get(
        "/admin/language", query_string={"lang": "ko", "next": "/admin/login?next=/admin/"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/login?next=/admin/"
    assert items_set_by(client, response) == {LANGUAGE: "ko"}
    [cookie] = response.headers.getlist("Set-Cookie")
    if cookie_mode == "standard":
        # The tests' app, like production, sends Secure cookies: __Host-.
        assert cookie.startswith("__Host-admin_lang=ko;") and "SameSite=Lax" in cookie
    else:
        # In the one cookie Hosting forwards, which is Strict.
        assert cookie.startswith("__session=") and "SameSite=Strict" in cookie
    # The cookie outranks Accept-Language.
    page = client.get("/admin/login", headers=EN)
    assert html_lang(page) == "ko"


@pytest.mark.both_cookie_modes
@pytest.mark.parametrize("lang", ["fr", "", "ko; Domain=evil.example"])
def test_the_switch_refuses_a_language_we_do_not_have(client, lang):
    response = client.get("/admin/language", query_string={"lang": lang})

    assert response.status_code == 400
    assert LANGUAGE not in items_set_by(client, response)


def test_the_switch_goes_back_only_to_our_own_pages(client):
    response = client.get(
        "/admin/language", query_string={"lang": "en", "next": "https://evil.example/"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


@pytest.mark.both_cookie_modes
def test_the_admins_own_language_outranks_cookie_and_browser(signed_in_as):
    client = signed_in_as(STAFF, "viewer", locale="en")
    present(client, LANGUAGE, "ko")

    response = client.get("/admin/", headers=KO)

    assert html_lang(response) == "en"
    assert "Dashboard" in response.get_data(as_text=True)


def test_the_dashboard_speaks_korean_with_times_in_the_admins_zone(signed_in_as):
    client = signed_in_as(STAFF, "viewer", locale="ko", timezone="Asia/Seoul")

    page = client.get("/admin/", headers=EN).get_data(as_text=True)

    assert "<h1>대시보드</h1>" in page
    assert "KST" in page and "UTC" not in page
    assert "오전" in page or "오후" in page


def test_an_unusable_stored_language_or_zone_falls_back_to_the_defaults(signed_in_as):
    # Hand-edited documents: a preference we cannot use never refuses access.
    client = signed_in_as(STAFF, "viewer", locale="xx", timezone="Mars/Olympus")

    response = client.get("/admin/", headers=EN)

    assert response.status_code == 200
    assert html_lang(response) == "en" and " UTC" in response.get_data(as_text=True)


@pytest.mark.both_cookie_modes
def test_an_admin_saves_language_and_zone_on_their_account_page(signed_in_as, store):
    client = signed_in_as(STAFF, "viewer")
    assert "Your account" in client.get("/admin/account", headers=EN).get_data(as_text=True)

    response = post_form(
        client, "/admin/account", {"locale": "ko", "timezone": "Asia/Seoul"}, headers=EN
    )

    assert response.status_code == 303
    assert items_set_by(client, response)[LANGUAGE] == "ko"
    assert store.admin(STAFF)["locale"] == "ko"
    assert store.admin(STAFF)["timezone"] == "Asia/Seoul"
    page = client.get("/admin/sessions", headers=EN).get_data(as_text=True)
    assert "설정을 저장했습니다." in page  # flashed in the language just chosen
    assert ">내 세션</h1>" in page and "KST" in page

    # Back to the defaults.
    post_form(client, "/admin/account", {"locale": "", "timezone": ""}, headers=EN)
    assert store.admin(STAFF)["locale"] is None and store.admin(STAFF)["timezone"] is None
    assert html_lang(client.get("/admin/", headers=EN)) == "en"


@pytest.mark.parametrize(
    "fields",
    [{"locale": "fr", "timezone": "UTC"}, {"locale": "ko", "timezone": "Mars/Olympus"}],
)
def test_the_account_page_refuses_what_it_does_not_offer_and_writes_nothing(
    signed_in_as, store, fields
):
    client = signed_in_as(STAFF, "viewer")

    response = post_form(client, "/admin/account", fields, headers=EN)

    assert response.status_code == 400
    assert "from the list" in response.get_data(as_text=True)
    assert "locale" not in store.admin(STAFF) and "timezone" not in store.admin(STAFF)


def test_a_refusal_page_speaks_the_readers_language(signed_in_as):
    client = signed_in_as(STAFF, "viewer", locale="ko")

    response = client.get("/admin/admins/nobody@example.com/remove")

    assert response.status_code == 403  # a viewer: the role check comes first
    assert "이 작업에는 owner 역할이 필요합니다." in response.get_data(as_text=True)


def test_the_api_message_follows_accept_language_and_the_code_stays_english(signed_in_as):
    client = signed_in_as(STAFF, "owner", locale="en")

    korean = client.get("/admin/api/audit?limit=500", headers=KO)
    english = client.get("/admin/api/audit?limit=500", headers=EN)

    assert korean.status_code == english.status_code == 400
    assert korean.get_json() == {
        "error": "bad_request",
        "message": "limit는 1에서 200 사이여야 합니다.",
    }
    assert english.get_json()["message"] == "limit must be between 1 and 200."


def test_a_signed_out_api_call_is_refused_in_the_callers_language(client):
    response = client.get("/admin/api/me", headers=KO)

    assert response.status_code == 401
    assert response.get_json() == {
        "error": "unauthenticated",
        "message": "계속하려면 로그인하십시오.",
    }


@pytest.mark.both_cookie_modes
def test_flash_messages_follow_the_admin(signed_in_as, store):
    client = signed_in_as(OWNER, "owner", locale="ko")
    store.add_admin("viewer@example.com", "viewer")

    response = post_form(
        client, "/admin/admins/viewer@example.com/role", {"role": "admin"}, follow_redirects=True
    )

    assert "viewer@example.com의 역할을 관리자(으)로 변경했습니다." in response.get_data(
        as_text=True
    )


class TestKoreanEmails:
    @pytest.fixture
    def config(self, smtp):
        return base_config(**smtp.config())

    def test_a_korean_admin_gets_the_reset_email_in_korean(
        self, app, client, auth_emulator, store, smtp
    ):
        auth_emulator.create_user(STAFF)
        store.add_admin(STAFF, "admin", locale="ko", timezone="Asia/Seoul")

        request_reset(client, STAFF, headers=EN)  # the page's language does not matter
        settle(app)

        (message,) = smtp.inbox.to(STAFF)
        assert message["Subject"] == "관리자 비밀번호 재설정"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "비밀번호 재설정 요청이 접수되었습니다" in text
        assert '<html lang="ko">' in html and "새 비밀번호 설정" in html
        assert "Hello" not in text

    def test_an_admin_without_a_preference_gets_the_default_language(
        self, app, client, auth_emulator, store, smtp
    ):
        auth_emulator.create_user(STAFF)
        store.add_admin(STAFF, "admin")

        request_reset(client, STAFF, headers=KO)
        settle(app)

        (message,) = smtp.inbox.to(STAFF)
        assert message["Subject"] == "Reset your admin password"

    def test_the_password_changed_notice_shows_the_time_in_the_admins_zone(self, app, smtp):
        from datetime import UTC, datetime

        from adminapp.client import Client

        notices = app.extensions["adminapp"].resets.notices
        notices.password_changed(
            STAFF,
            datetime(2026, 11, 30, 0, 5, tzinfo=UTC),
            Client(ip="203.0.113.9", user_agent=""),
            locale="ko",
            timezone="Asia/Seoul",
        )

        (message,) = smtp.inbox.to(STAFF)
        assert message["Subject"] == "관리자 비밀번호가 변경되었습니다"
        text = message.get_body(("plain",)).get_content()
        assert "2026. 11. 30. 오전 9:05 KST에 변경되었습니다" in text


def test_firebase_delivery_asks_firebase_for_the_admins_language(
    app, client, auth_emulator, store, outbox, monkeypatch
):
    """Firebase sends its own email: X-Firebase-Locale picks its template's
    translation. The call still reaches the real Auth emulator."""
    import requests

    from adminapp.firebase import identity_toolkit

    sent_headers = []
    real_post = requests.post

    def recording_post(url, **kwargs):
        if url.endswith("accounts:sendOobCode"):
            sent_headers.append(dict(kwargs.get("headers") or {}))
        return real_post(url, **kwargs)

    monkeypatch.setattr(identity_toolkit.requests, "post", recording_post)
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "admin", locale="ko")

    request_reset(client, STAFF)
    settle(app)

    assert sent_headers == [{"X-Firebase-Locale": "ko"}]
    assert len(outbox.sent(STAFF)) == 1


@pytest.mark.parametrize("config", [base_config(SERVER_TIMING="true")])
def test_the_admins_language_and_zone_cost_no_extra_firestore_read(signed_in_as):
    """They come with the admin document the guard reads anyway."""
    from tests.integration.test_round_trips import round_trips

    client = signed_in_as(STAFF, "viewer", locale="ko", timezone="Asia/Seoul")

    for path, shows in (("/admin/", "KST"), ("/admin/account", 'selected value="Asia/Seoul"')):
        response = client.get(path, headers=EN)
        assert html_lang(response) == "ko" and shows in response.get_data(as_text=True)
        assert round_trips(response) == {"firestore": 1, "auth": 0}
