"""The back office in headless Chromium: the main path of each page."""

from __future__ import annotations

import pytest

from adminapp.testing.firebase import DEFAULT_PASSWORD
from tests.support.pages import screenshot, session_cookie, sign_in_with_password

OWNER = "owner@example.com"


@pytest.fixture
def owner_page(page, live_url, auth_emulator, store):
    auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner", display_name="Olivia Owner")
    auth_emulator.create_user("viewer@example.com")
    store.add_admin("viewer@example.com", "viewer")
    sign_in_with_password(page, live_url, OWNER, DEFAULT_PASSWORD)
    screenshot(page, "dashboard")
    return page


def row(page, email: str):
    return page.locator(f'#admins-table tr[data-email="{email}"]')


def test_invite_an_admin(owner_page, live_url, store):
    page = owner_page
    page.click("text=Admins")
    page.fill("#email", "New.Hire@example.com")
    page.select_option("#role", "admin")
    page.click("#invite-form button[type=submit]")

    page.wait_for_selector(".flash-success")
    assert "new.hire@example.com is now an admin (admin)." in page.inner_text(".flash-success")
    assert row(page, "new.hire@example.com").count() == 1
    assert store.admin("new.hire@example.com")["role"] == "admin"
    screenshot(page, "admins")


def test_invalid_invite_shows_the_reason_next_to_the_field(owner_page, live_url):
    page = owner_page
    page.goto(f"{live_url}/admin/admins")
    page.fill("#email", "not an email")
    page.click("#invite-form button[type=submit]")
    assert "Enter a valid email address" in page.inner_text("#invite-email-error")
    assert page.get_attribute("#email", "aria-invalid") == "true"


def test_change_a_role(owner_page, live_url, store):
    page = owner_page
    page.goto(f"{live_url}/admin/admins")
    viewer = row(page, "viewer@example.com")
    viewer.locator("select").select_option("admin")
    viewer.locator("text=Change").click()
    page.wait_for_selector(".flash-success")
    assert "viewer@example.com is now admin." in page.inner_text(".flash-success")
    assert row(page, "viewer@example.com").locator("select").input_value() == "admin"
    assert store.admin("viewer@example.com")["role"] == "admin"


def test_end_another_session(owner_page, live_url, browser, store):
    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        sign_in_with_password(other, live_url, OWNER, DEFAULT_PASSWORD)

        page = owner_page
        page.click("text=Sessions")
        rows = page.locator("#sessions-table tbody tr")
        assert rows.count() == 2
        screenshot(page, "sessions")
        rows.filter(has_not_text="This session").locator("text=End").click()
        page.wait_for_selector(".flash-success")
        assert page.locator("#sessions-table tbody tr").count() == 1

        other.goto(f"{live_url}/admin/")
        assert other.url.startswith(f"{live_url}/admin/login")
        assert session_cookie(other) is None
    finally:
        other_context.close()


def test_filter_the_audit_trail(owner_page, live_url):
    page = owner_page
    page.goto(f"{live_url}/admin/admins")
    row(page, "viewer@example.com").locator("text=Disable").click()
    page.wait_for_selector(".flash-success")

    page.click("text=Audit trail")
    events = page.locator("#audit-table td.event")
    # The page shows each event's name; the stored code is in data-event.
    assert set(events.all_inner_texts()) >= {"Sign-in", "Admin disabled"}
    codes = {events.nth(i).get_attribute("data-event") for i in range(events.count())}
    assert codes >= {"sign_in", "admin_disabled"}
    page.select_option("#event", "admin_disabled")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**/admin/audit?event=admin_disabled*")
    assert page.locator("#audit-table td.event").all_inner_texts() == ["Admin disabled"]
    screenshot(page, "audit")


def test_pages_fit_a_phone(owner_page, live_url):
    page = owner_page
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/admin/", "/admin/admins", "/admin/sessions", "/admin/audit"):
        page.goto(f"{live_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{path} scrolls sideways on a phone"
    screenshot(page, "admins-phone")
