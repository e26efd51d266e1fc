"""Korean and English in headless Chromium: the browser's language, the
admin's own choice, times in the admin's zone. With ADMINAPP_SCREENSHOTS
(make screenshots) these tests also take the Korean pictures (ko-*.png)."""

from __future__ import annotations

import json
import re

import pytest

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from tests.support.pages import (
    fill_login,
    login_error,
    pass_second_factor,
    screenshot,
    session_cookie,
)

STAFF = "staff@example.com"


@pytest.fixture
def korean_page(browser):
    """A browser whose language is Korean (Accept-Language: ko-KR)."""
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_a_korean_browser_signs_in_to_korean_pages_with_times_in_the_chosen_zone(
    korean_page, live_url, auth_emulator, store
):
    page = korean_page
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "owner", display_name="김관리", timezone="Asia/Seoul")

    page.goto(f"{live_url}/admin/login")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.inner_text("h1") == "관리자 영역 로그인"
    assert page.inner_text("#sign-in") == "로그인"  # set by login.js from the page's messages
    screenshot(page, "ko-login")

    fill_login(page, STAFF, DEFAULT_PASSWORD)
    pass_second_factor(page, STAFF)
    page.wait_for_url(f"{live_url}/admin/")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.inner_text("h1") == "대시보드"
    assert page.inner_text("#admin-role") == "소유자"
    started = page.inner_text("#session-started")
    assert re.fullmatch(r"\d{4}\. \d{1,2}\. \d{1,2}\. (오전|오후) \d{1,2}:\d{2} KST", started)
    screenshot(page, "ko-dashboard")

    page.click("text=감사 기록")
    assert page.inner_text("h1") == "감사 기록"
    events = page.locator("#audit-table td.event").all_inner_texts()
    assert "로그인" in events and "2단계 인증 성공" in events
    assert "KST" in page.locator("#audit-table time").first.inner_text()
    screenshot(page, "ko-audit")
    page.click("text=세션")
    assert page.inner_text("h1") == "내 세션"
    screenshot(page, "ko-sessions")
    page.click("text=관리자")
    assert "KST" in page.inner_text("#admins-table")
    screenshot(page, "ko-admins")


def test_a_wrong_password_is_explained_in_korean(korean_page, live_url, auth_emulator, store):
    page = korean_page
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "viewer")

    page.goto(f"{live_url}/admin/login")
    fill_login(page, STAFF, "not the password at all")

    assert login_error(page) == "이메일 또는 비밀번호가 올바르지 않습니다."
    assert session_cookie(page) is None
    assert store.sessions() == []


def test_english_chosen_on_the_account_page_stays_after_signing_out_and_in(
    korean_page, live_url, auth_emulator, store
):
    page = korean_page
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "viewer")
    page.goto(f"{live_url}/admin/login")
    fill_login(page, STAFF, DEFAULT_PASSWORD)
    pass_second_factor(page, STAFF)
    page.wait_for_url(f"{live_url}/admin/")
    assert page.inner_text("h1") == "대시보드"

    page.click("#account-link")
    assert page.inner_text("h1") == "내 계정"
    screenshot(page, "ko-account")
    page.select_option("#locale", "en")
    page.select_option("#timezone", "Europe/Berlin")
    page.click("#save-account")
    page.wait_for_selector(".flash-success")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text(".flash-success") == "Your preferences are saved."
    assert store.admin(STAFF)["locale"] == "en"

    page.click("#sign-out")
    page.wait_for_url(re.compile(r".*/admin/login.*"))
    # Still a Korean browser, but the admin chose English.
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Sign in to the admin area"
    fill_login(page, STAFF, DEFAULT_PASSWORD)
    pass_second_factor(page, STAFF)
    page.wait_for_url(f"{live_url}/admin/")
    assert page.inner_text("h1") == "Dashboard"
    assert re.search(r"(CET|CEST)$", page.inner_text("#session-started"))


def test_the_language_switch_on_the_signed_out_pages(korean_page, live_url):
    page = korean_page
    page.goto(f"{live_url}/admin/resetpassword")
    assert page.inner_text("h1") == "비밀번호 재설정"
    screenshot(page, "ko-reset-request")

    page.click("#language-switch a[hreflang=en]")

    page.wait_for_selector("text=Reset your password")
    assert page.get_attribute("html", "lang") == "en"
    assert page.url == f"{live_url}/admin/resetpassword"
    cookie = next(c for c in page.context.cookies() if c["name"].endswith("admin_lang"))
    assert cookie["value"] == "en" and cookie["sameSite"] == "Lax"


def test_the_second_factor_speaks_korean(korean_page, live_url, owner, store):
    """Enrolment, recovery codes and the challenge at the next sign-in, in
    Korean; the passkey script's messages come from the page, in Korean."""
    page = korean_page
    page.goto(f"{live_url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_selector("#second-factor-enrolment")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.inner_text("h1") == "2단계 인증 설정"
    assert page.inner_text("#create-passkey") == "패스키 만들기"
    messages = json.loads(page.inner_text("#passkey-messages"))
    assert messages["failed"] == "패스키가 작동하지 않았습니다."
    pass_second_factor(page, OWNER)
    page.wait_for_url(f"{live_url}/admin/")

    page.click("#sign-out")
    page.wait_for_url(f"{live_url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_selector("#second-factor-challenge")
    assert page.inner_text("h1") == "한 단계 더"
    assert page.inner_text("#totp-form button[type=submit]") == "계속"
    assert page.inner_text("#recovery summary") == "복구 코드 사용(10개 남음)"
    screenshot(page, "ko-mfa-challenge")
