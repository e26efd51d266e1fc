"""What a person does in the browser, as small reusable steps."""

from __future__ import annotations

from playwright.sync_api import Page

SESSION_COOKIE = "__Host-admin_session"


def fill_login(page: Page, email: str, password: str) -> None:
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")


def login_error(page: Page) -> str:
    page.wait_for_selector("#login-error:not([hidden])")
    return page.inner_text("#login-error")


def session_cookie(page: Page) -> dict | None:
    for cookie in page.context.cookies():
        if cookie["name"] == SESSION_COOKIE:
            return cookie
    return None
