"""The users console in headless Chromium: browse, find, act, edit claims."""

from __future__ import annotations

import pytest
from firebase_admin import auth

from adminapp.testing.firebase import DEFAULT_PASSWORD
from tests.support.pages import screenshot, sign_in_with_password

OWNER = "owner@example.com"
CUSTOMERS = [
    ("ada@example.com", "Ada Lovelace", "+15555550101", True),
    ("grace@example.com", "Grace Hopper", "+15555550102", False),
    ("linus@example.com", None, None, True),
]


@pytest.fixture
def owner_page(page, live_url, auth_emulator, store):
    auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner", display_name="Olivia Owner")
    for email, name, phone, verified in CUSTOMERS:
        auth.create_user(
            email=email,
            display_name=name,
            phone_number=phone,
            email_verified=verified,
            password=DEFAULT_PASSWORD,
            app=auth_emulator.app,
        )
    ada = auth.get_user_by_email("ada@example.com", app=auth_emulator.app)
    auth.set_custom_user_claims(ada.uid, {"plan": "pro", "seats": 5}, app=auth_emulator.app)
    sign_in_with_password(page, live_url, OWNER, DEFAULT_PASSWORD)
    return page


def test_browse_find_and_disable_a_user(owner_page, live_url, auth_emulator, store):
    page = owner_page
    page.click("nav >> text=Users")
    page.wait_for_selector("#users-table")
    emails = page.locator("#users-table td[data-label=Email] a").all_inner_texts()
    assert {"ada@example.com", "grace@example.com", "linus@example.com", OWNER} <= set(emails)
    screenshot(page, "users")

    page.fill("#q", "ada@example.com")
    page.click("#user-search button[type=submit]")
    page.wait_for_selector("#user-claims")
    assert '"plan": "pro"' in page.inner_text("#user-claims")
    assert page.inner_text("#user-providers") == "password, phone"
    screenshot(page, "user")

    page.click("#user-actions button:has-text('Disable')")
    page.wait_for_selector(".flash-success")
    assert "ada@example.com is disabled" in page.inner_text(".flash-success")
    assert page.inner_text("#user-status") == "Disabled"
    assert auth.get_user_by_email("ada@example.com", app=auth_emulator.app).disabled
    assert [e["target"] for e in store.audit(event="user_disabled")] == ["ada@example.com"]


def test_the_claims_editor_shows_why_claims_are_refused(owner_page, live_url, auth_emulator):
    page = owner_page
    grace = auth.get_user_by_email("grace@example.com", app=auth_emulator.app)
    page.goto(f"{live_url}/admin/users/{grace.uid}")
    page.fill("#claims", '{"sub": "someone-else"}')
    page.click("#claims-form button[type=submit]")
    page.wait_for_selector("#claims-error")
    assert "sub is a reserved claim" in page.inner_text("#claims-error")
    assert page.input_value("#claims") == '{"sub": "someone-else"}'
    assert not auth.get_user(grace.uid, app=auth_emulator.app).custom_claims

    page.fill("#claims", '{"beta": true}')
    page.click("#claims-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert auth.get_user(grace.uid, app=auth_emulator.app).custom_claims == {"beta": True}


def test_users_pages_fit_a_phone(owner_page, live_url, auth_emulator):
    page = owner_page
    page.set_viewport_size({"width": 375, "height": 740})
    ada = auth.get_user_by_email("ada@example.com", app=auth_emulator.app)
    for path in ("/admin/users/", f"/admin/users/{ada.uid}", f"/admin/users/{ada.uid}/delete"):
        page.goto(f"{live_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{path} scrolls sideways on a phone"
