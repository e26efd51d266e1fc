"""Password reset in headless Chromium, with our own email (smtp mode): from
the login page to a new password, and an earlier session refused."""

from __future__ import annotations

import pytest

from adminapp.testing.emulator_control import free_port
from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from adminapp.testing.live import serve
from tests.support.pages import (
    fill_login,
    login_error,
    pass_second_factor,
    screenshot,
    sign_in_with_password,
)
from tests.support.reset import fresh_app, link_in, settle
from tests.support.settings import base_config

NEW_PASSWORD = "a brand new passphrase for the owner"


@pytest.fixture
def reset_site(clean, smtp):
    """The app served where PUBLIC_URL says, so the emailed link points at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fresh_app(base_config(**smtp.config(PUBLIC_URL=url))) as app, serve(app, port=port):
        yield app, url


@pytest.mark.long
def test_reset_from_the_login_page_to_a_new_password(reset_site, browser, page, owner, smtp, store):
    app, url = reset_site
    # A session from before the reset, in another browser profile.
    earlier = browser.new_context()
    earlier_page = earlier.new_page()
    sign_in_with_password(earlier_page, url, OWNER, DEFAULT_PASSWORD)

    page.goto(f"{url}/admin/login")
    page.click("#forgot-password")
    page.wait_for_url(f"{url}/admin/resetpassword")
    page.fill("#email", OWNER)
    page.click("#send-link")
    page.wait_for_selector("#reset-sent")
    screenshot(page, "reset-sent")
    settle(app)
    [message] = smtp.inbox.to(OWNER)
    link = link_in(message)
    assert link.startswith(f"{url}/admin/resetpassword/confirm?oobCode=")

    page.goto(link)
    assert page.inner_text("#reset-email") == OWNER
    page.fill("#password", NEW_PASSWORD)
    page.fill("#repeat", "not the same at all")
    page.click("#set-password")
    assert "The two passwords are not the same." in page.inner_text("#new-password-form")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#repeat", NEW_PASSWORD)
    screenshot(page, "reset-confirm")
    page.click("#set-password")
    page.wait_for_url(f"{url}/admin/login")
    assert "Your password has been changed" in page.inner_text("main")

    fill_login(page, OWNER, DEFAULT_PASSWORD)
    assert login_error(page) == "Wrong email or password."
    fill_login(page, OWNER, NEW_PASSWORD)
    pass_second_factor(page, OWNER)
    page.wait_for_url(f"{url}/admin/")

    # The browser that signed in before the reset is sent back to sign in.
    earlier_page.goto(f"{url}/admin/sessions")
    assert earlier_page.url.startswith(f"{url}/admin/login")
    earlier.close()


def open_emailed_link(page, reset_site, smtp) -> str:
    """Ask for a link on the request page and open the one that arrives."""
    app, url = reset_site
    page.goto(f"{url}/admin/resetpassword")
    page.fill("#email", OWNER)
    page.click("#send-link")
    page.wait_for_selector("#reset-sent")
    settle(app)
    link = link_in(smtp.inbox.to(OWNER)[0])
    page.goto(link)
    return link


def test_a_used_link_says_so_and_offers_a_new_one(reset_site, page, owner, smtp):
    _, url = reset_site
    link = open_emailed_link(page, reset_site, smtp)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#repeat", NEW_PASSWORD)
    page.click("#set-password")
    page.wait_for_url(f"{url}/admin/login")
    page.goto(link)
    assert "already been used" in page.inner_text("#reset-invalid")
    screenshot(page, "reset-invalid")


def test_the_new_password_form_shows_a_strength_meter(reset_site, page, owner, smtp):
    open_emailed_link(page, reset_site, smtp)
    assert page.is_visible("#password-strength")

    def strength(password: str) -> tuple[int, str]:
        page.fill("#password", password)
        return (
            int(page.eval_on_selector("#password-strength-meter", "m => m.value")),
            page.inner_text("#password-strength-label"),
        )

    score, label = strength("password1234")
    assert score <= 1 and label.startswith(("Strength: Very weak.", "Strength: Weak."))
    # The account's own address is among the words an attacker tries first.
    assert strength(OWNER)[0] <= 1
    score, label = strength(NEW_PASSWORD)
    assert score >= 3 and label.startswith(("Strength: Strong", "Strength: Very strong"))
    assert strength("")[1] == ""
