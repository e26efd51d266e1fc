"""The main flows in Chromium through a stand-in for Firebase Hosting
(tests/support/hosting_proxy.py: only ``__session`` reaches the app), with
``COOKIE_MODE=hosting``; and the default mode behind the same proxy, which
must say what to set instead of looping.

The proxy serves ``http://localhost:<port>`` (passkeys need a host name);
``PUBLIC_URL`` names it, and the app trusts one proxy's ``X-Forwarded-*``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adminapp.testing.emulator_control import free_port
from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from adminapp.testing.live import serve
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.browser.test_passkeys import (
    add_authenticator,
    credentials,
    enrol_a_passkey_at_the_first_sign_in,
    sign_in_with_passkey,
)
from tests.support.hosting_proxy import FORWARDED_COOKIE, hosting_proxy
from tests.support.pages import fill_login, login_error, pass_second_factor, sign_in_with_password
from tests.support.reset import fresh_app, link_in, settle
from tests.support.settings import base_config

NEW_PASSWORD = "a brand new passphrase behind hosting"


def behind_hosting(smtp, **settings):
    """The app (in its own thread) behind the stand-in; yields (app, url, seen)."""
    port = free_port()
    url = f"http://localhost:{port}"
    config = base_config(TRUSTED_PROXY_COUNT="1", **smtp.config(PUBLIC_URL=url), **settings)
    with (
        fresh_app(config) as app,
        serve(app) as upstream,
        hosting_proxy(upstream, port) as (
            proxied,
            seen,
        ),
    ):
        assert proxied == url
        yield app, url, seen


@pytest.fixture
def site(clean, smtp):
    yield from behind_hosting(smtp, COOKIE_MODE="hosting")


def cookie_names(page) -> list[str]:
    return sorted(cookie["name"] for cookie in page.context.cookies())


def test_sign_in_with_a_new_totp_app_then_with_a_code_and_the_old_cookie_refused(
    site, page, owner, store
):
    _app, url, seen = site
    page.goto(f"{url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_url(f"{url}/admin/mfa/enrol?next=/admin/")
    pass_second_factor(page, OWNER)  # enrols a TOTP app with a real code
    page.wait_for_url(f"{url}/admin/")
    assert page.inner_text("#admin-email") == OWNER
    # One cookie, the one Hosting forwards: nothing was dropped on the way.
    assert cookie_names(page) == [FORWARDED_COOKIE]
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert seen.dropped_cookies == set()
    [session] = [s for s in store.sessions(email=OWNER) if s["active"]]
    assert session["ip"] == "127.0.0.1"  # X-Forwarded-For, one proxy trusted

    page.click("text=Sign out")
    page.wait_for_url(f"{url}/admin/login")
    assert "You have signed out." in page.inner_text("main")
    # The cookie of the signed-out session, replayed: refused.
    page.context.add_cookies([{**_without_domain(cookie), "url": url}])
    page.goto(f"{url}/admin/")
    page.wait_for_url(f"{url}/admin/login?next=/admin/")

    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_url(f"{url}/admin/mfa?next=/admin/")
    pass_second_factor(page, OWNER)  # a code from the app enrolled above
    page.wait_for_url(f"{url}/admin/")
    full = [s for s in store.sessions(email=OWNER) if s["active"]]
    assert [s["mfa_factor"] for s in full] == ["totp"]


def _without_domain(cookie: dict) -> dict:
    """A cookie as add_cookies takes it with a ``url`` (host-only)."""
    return {k: v for k, v in cookie.items() if k not in ("domain", "path")}


def test_a_passkey_behind_hosting(site, page, context, owner, store):
    _app, url, _seen = site
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    add_authenticator(cdp)
    enrol_a_passkey_at_the_first_sign_in(page, url)
    assert len(credentials(cdp)) == 1

    page.click("text=Sign out")
    page.wait_for_url(f"{url}/admin/login")
    sign_in_with_passkey(page, url)
    full = [s for s in store.sessions(email=OWNER) if s["active"]]
    assert [s["mfa_factor"] for s in full] == ["passkey"]


def test_a_step_up_continues_the_interrupted_action(site, page, owner, store):
    _app, url, _seen = site
    sign_in_with_password(page, url, OWNER, DEFAULT_PASSWORD)
    before = {f["id"] for f in store.factors(OWNER) if f["kind"] == "recovery_codes"}
    long_ago = datetime.now(UTC) - timedelta(minutes=11)
    [session] = [s for s in store.sessions(email=OWNER, active=True) if not s["mfa_pending"]]
    store.update_session(session["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago)
    page.goto(f"{url}/admin/security")
    page.click("#regenerate-form button[type=submit]")
    page.wait_for_selector("#second-factor-challenge")
    page.fill("#code", AUTHENTICATORS[url, OWNER].next_code())
    page.click("#totp-form button[type=submit]")
    # The interrupted form waited in __session's state, and comes back.
    page.wait_for_url(f"{url}/admin/mfa/continue")
    page.click("#continue-form button[type=submit]")
    page.wait_for_selector("#recovery-codes-page")
    renewed = {f["id"] for f in store.factors(OWNER) if f["kind"] == "recovery_codes"}
    assert len(renewed) == 1 and renewed != before


def test_the_language_switch_behind_hosting(site, page):
    _app, url, _seen = site
    page.goto(f"{url}/admin/resetpassword")
    assert page.get_attribute("html", "lang") == "en"

    page.click("#language-switch a[hreflang=ko]")

    page.wait_for_selector("text=비밀번호 재설정")
    assert page.get_attribute("html", "lang") == "ko"
    page.goto(f"{url}/admin/login")
    assert page.get_attribute("html", "lang") == "ko"  # kept, in __session
    assert cookie_names(page) == [FORWARDED_COOKIE]


def test_password_reset_request_and_confirm_behind_hosting(site, page, owner, smtp):
    app, url, _seen = site
    page.goto(f"{url}/admin/login")
    page.click("#forgot-password")
    page.fill("#email", OWNER)
    page.click("#send-link")
    page.wait_for_selector("#reset-sent")
    settle(app)
    link = link_in(smtp.inbox.to(OWNER)[0])
    assert link.startswith(f"{url}/admin/resetpassword/confirm?oobCode=")

    page.goto(link)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#repeat", NEW_PASSWORD)
    page.click("#set-password")
    page.wait_for_url(f"{url}/admin/login")
    assert "Your password has been changed" in page.inner_text("main")
    fill_login(page, OWNER, NEW_PASSWORD)
    pass_second_factor(page, OWNER)
    page.wait_for_url(f"{url}/admin/")


@pytest.fixture
def default_mode_site(clean, smtp):
    yield from behind_hosting(smtp)  # COOKIE_MODE unset: standard


def test_the_default_cookie_mode_behind_hosting_says_what_to_set_instead_of_looping(
    default_mode_site, page, owner, store
):
    _app, url, seen = default_mode_site
    page.goto(f"{url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)

    message = login_error(page)

    assert "COOKIE_MODE=hosting" in message
    assert page.url == f"{url}/admin/login"  # no redirect, no loop
    assert store.sessions() == []
    assert "__Host-admin_state" in seen.dropped_cookies  # what Hosting stripped
