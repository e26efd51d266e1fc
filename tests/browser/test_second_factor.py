"""The second factor in headless Chromium: TOTP enrolment with a real code
(pyotp), the recovery codes page, then the challenge at the next sign-in."""

from __future__ import annotations

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from tests.support.pages import fill_login, pass_second_factor, session_cookie


def test_totp_enrolment_then_challenge_in_a_real_browser(page, live_url, owner, store):
    page.goto(f"{live_url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_url}/admin/mfa/enrol?next=/admin/")
    # Nothing of the admin area opens yet.
    assert page.query_selector('nav[aria-label="Main"]') is None
    pass_second_factor(page, OWNER, shots=True)
    page.wait_for_url(f"{live_url}/admin/")
    assert page.inner_text("#admin-email") == OWNER
    assert len(store.factors(OWNER)) == 2

    page.click("text=Sign out")
    page.wait_for_url(f"{live_url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_url}/admin/mfa?next=/admin/")
    pass_second_factor(page, OWNER, shots=True)
    page.wait_for_url(f"{live_url}/admin/")
    assert session_cookie(page)["secure"] is True
    full = [s for s in store.sessions(email=OWNER) if s["active"]]
    assert [s["mfa_factor"] for s in full] == ["totp"]
