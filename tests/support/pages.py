"""What a person does in the browser, as small reusable steps."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page

from adminapp.testing.sign_in import AUTHENTICATORS, Authenticator

ROOT = Path(__file__).resolve().parents[2]

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


def sign_in_with_password(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in through the login page, the second factor included, and wait
    for the dashboard."""
    page.goto(f"{base_url}/admin/login")
    fill_login(page, email, password)
    pass_second_factor(page, email)
    page.wait_for_url(f"{base_url}/admin/")


def pass_second_factor(
    page: Page,
    email: str,
    *,
    shots: bool = False,
    at_each_page: Callable[[Page, str], None] | None = None,
) -> None:
    """After the password: enrol a TOTP app (a real code from pyotp) if the
    page asks for it, else answer the challenge with the app this helper
    enrolled earlier (adminapp.testing.sign_in.AUTHENTICATORS, per site and admin).

    ``shots`` takes a screenshot of each page on the way, and ``at_each_page``
    is called with each of them and its name (the accessibility scan)."""

    def reached(name: str) -> None:
        if shots:
            screenshot(page, name)
        if at_each_page is not None:
            at_each_page(page, name)

    page.wait_for_selector("#second-factor-enrolment, #second-factor-challenge")
    parts = urlsplit(page.url)
    key = (f"{parts.scheme}://{parts.netloc}", email)
    if page.query_selector("#second-factor-enrolment"):
        reached("mfa-enrolment")
        authenticator = Authenticator(
            secret=page.inner_text("#totp-secret").replace(" ", ""), last_step=0
        )
        page.fill("#code", authenticator.next_code())
        page.click("#totp-enrolment-form button[type=submit]")
        page.wait_for_selector("#recovery-codes-page")
        reached("mfa-recovery-codes")
        authenticator.recovery_codes = page.locator("#recovery-codes code").all_inner_texts()
        AUTHENTICATORS[key] = authenticator
        page.click("#continue")
        return
    reached("mfa-challenge")
    page.fill("#code", AUTHENTICATORS[key].next_code())
    page.click("#totp-form button[type=submit]")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot. ``make screenshots`` points
    ADMINAPP_SCREENSHOTS at docs/screenshots to refresh the docs' pictures;
    otherwise they land in .test-logs for inspection."""
    folder = Path(os.environ.get("ADMINAPP_SCREENSHOTS") or ROOT / ".test-logs" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
