"""What a person does in the browser, as small reusable steps."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

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
    """Sign in through the login page and wait for the dashboard."""
    page.goto(f"{base_url}/admin/login")
    fill_login(page, email, password)
    page.wait_for_url(f"{base_url}/admin/")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot. ``make screenshots`` points
    ADMINAPP_SCREENSHOTS at docs/screenshots to refresh the README's pictures;
    otherwise they land in .test-logs for inspection."""
    folder = Path(os.environ.get("ADMINAPP_SCREENSHOTS") or ROOT / ".test-logs" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
