"""Sign-in in headless Chromium: the Firebase JS SDK, the exchange, the guard."""

from __future__ import annotations

from adminapp.testing.firebase import DEFAULT_PASSWORD
from adminapp.testing.firebase import OWNER as ADMIN
from tests.support.pages import (
    fill_login,
    login_error,
    pass_second_factor,
    screenshot,
    session_cookie,
)


def test_sign_in_reaches_the_dashboard_with_a_strict_cookie(page, live_url, owner, store):
    page.goto(f"{live_url}/admin/login")
    screenshot(page, "login")
    fill_login(page, ADMIN, DEFAULT_PASSWORD)
    pass_second_factor(page, ADMIN)
    page.wait_for_url(f"{live_url}/admin/")

    assert page.inner_text("#admin-email") == ADMIN
    assert page.inner_text("#admin-role") == "owner"
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert len(store.sessions(email=ADMIN)) == 1
    # The page script cannot read the session cookie.
    assert "admin_session" not in page.evaluate("document.cookie")


def test_keyboard_alone_signs_in(page, live_url, owner):
    page.goto(f"{live_url}/admin/login")
    page.keyboard.type(ADMIN)  # the email field has focus on load
    page.keyboard.press("Tab")
    page.keyboard.type(DEFAULT_PASSWORD)
    # The button stays disabled until the script that sends the password to
    # Firebase alone has loaded (without it, the form would post the password
    # here), and Enter on a form whose button is disabled does nothing. A
    # person sees the button turn active; a loaded machine can type first.
    page.wait_for_selector("#sign-in:enabled")
    page.keyboard.press("Enter")
    pass_second_factor(page, ADMIN)
    page.wait_for_url(f"{live_url}/admin/")


def test_enter_before_the_script_has_loaded_sends_the_password_nowhere(
    page, live_url, owner, emulators
):
    # The login script is held back: the form is on the page, its button
    # still disabled, as on a slow connection or a loaded machine.
    held = []
    page.route("**/admin/static/js/login.js", lambda route: held.append(route))
    sent = []
    page.on("request", lambda request: sent.append(request))
    # A module script holds up DOMContentLoaded: wait for the form alone.
    page.goto(f"{live_url}/admin/login", wait_until="commit")
    page.wait_for_selector("#email:focus")
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    while not held:
        page.wait_for_timeout(50)
    # Once the script is in, the button turns active and Enter signs in.
    held[0].continue_()
    page.wait_for_selector("#sign-in:enabled")
    page.keyboard.press("Enter")
    pass_second_factor(page, ADMIN)
    page.wait_for_url(f"{live_url}/admin/")
    # The first Enter submitted nothing (a submitted form would have left
    # the page, and the sign-in above would not have found its form): the
    # password went to Firebase alone, once, and never to this site.
    carried = [r.url for r in sent if DEFAULT_PASSWORD in f"{r.url} {r.post_data or ''}"]
    assert len(carried) == 1 and carried[0].startswith(f"http://{emulators.auth_host}/"), carried


def test_wrong_password_shows_an_inline_error_and_no_cookie(page, live_url, owner, store):
    page.goto(f"{live_url}/admin/login")
    fill_login(page, ADMIN, "not the password at all")
    assert login_error(page) == "Wrong email or password."
    assert page.url == f"{live_url}/admin/login"
    assert session_cookie(page) is None
    assert store.sessions() == []
    assert page.is_enabled("#sign-in")


def test_firebase_user_who_is_not_an_admin_is_refused(page, live_url, auth_emulator, store):
    auth_emulator.create_user("customer@example.com")
    page.goto(f"{live_url}/admin/login")
    fill_login(page, "customer@example.com", DEFAULT_PASSWORD)
    assert login_error(page) == "This account is not an admin of this site."
    assert session_cookie(page) is None
    assert store.sessions() == []


def test_signed_out_visit_goes_through_login_and_back(page, live_url, owner):
    page.goto(f"{live_url}/admin/?from=bookmark")
    assert page.url.startswith(f"{live_url}/admin/login?next=")
    fill_login(page, ADMIN, DEFAULT_PASSWORD)
    pass_second_factor(page, ADMIN)
    page.wait_for_url(f"{live_url}/admin/?from=bookmark")
    assert page.inner_text("#admin-email") == ADMIN


def test_sign_out_returns_to_login_and_the_old_cookie_is_refused(page, live_url, owner, store):
    page.goto(f"{live_url}/admin/login")
    fill_login(page, ADMIN, DEFAULT_PASSWORD)
    pass_second_factor(page, ADMIN)
    page.wait_for_url(f"{live_url}/admin/")
    old_cookie = session_cookie(page)

    page.click("text=Sign out")
    page.wait_for_url(f"{live_url}/admin/login")
    assert "You have signed out." in page.inner_text("main")
    assert session_cookie(page) is None

    page.context.add_cookies([old_cookie])
    page.goto(f"{live_url}/admin/")
    assert page.url.startswith(f"{live_url}/admin/login")
    [session] = store.sessions(email=ADMIN)
    assert session["ended_reason"] == "signed_out"


def test_button_is_disabled_while_signing_in(page, live_url, owner):
    held = []  # hold the exchange request until we have looked at the button
    page.route("**/admin/session", lambda route: held.append(route))
    page.goto(f"{live_url}/admin/login")
    fill_login(page, ADMIN, DEFAULT_PASSWORD)
    page.wait_for_function("document.getElementById('sign-in').disabled")
    assert page.get_attribute("#login-form", "aria-busy") == "true"
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    pass_second_factor(page, ADMIN)
    page.wait_for_url(f"{live_url}/admin/")


def test_unreachable_sign_in_service_is_explained(page, live_url, owner, emulators):
    # Firebase Auth cannot be reached from the browser (network down).
    page.route(f"http://{emulators.auth_host}/**", lambda route: route.abort())
    page.goto(f"{live_url}/admin/login")
    fill_login(page, ADMIN, DEFAULT_PASSWORD)
    assert "Cannot reach the sign-in service" in login_error(page)
    assert session_cookie(page) is None


def test_too_many_attempts_is_explained(page, live_url, owner, emulators):
    # Firebase's own answer after repeated failures, injected: the emulator
    # does not throttle.
    page.route(
        f"http://{emulators.auth_host}/**accounts:signInWithPassword*",
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            body='{"error": {"code": 400, "message": "TOO_MANY_ATTEMPTS_TRY_LATER"}}',
        ),
    )
    page.goto(f"{live_url}/admin/login")
    fill_login(page, ADMIN, DEFAULT_PASSWORD)
    assert login_error(page).startswith("Too many attempts.")
