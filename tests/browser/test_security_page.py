"""The security page and a step-up in headless Chromium: rename a factor,
then new recovery codes after the step-up window ran out (the prompt, a real
TOTP code, the confirming form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from adminapp.testing.sign_in import AUTHENTICATORS
from tests.support.pages import screenshot, sign_in_with_password


def test_security_page_and_a_step_up_in_a_real_browser(page, live_url, owner, store):
    sign_in_with_password(page, live_url, OWNER, DEFAULT_PASSWORD)
    page.click("nav >> text=Security")
    page.wait_for_url(f"{live_url}/admin/security")
    page.fill("#name-1", "Phone (Aegis)")
    page.click(".rename-form button[type=submit]")
    page.wait_for_selector("text=Renamed to")
    assert [f["name"] for f in store.factors(OWNER) if f["kind"] == "totp"] == ["Phone (Aegis)"]
    screenshot(page, "security")

    # The step-up window runs out; new recovery codes ask for a proof first.
    before = {f["id"] for f in store.factors(OWNER) if f["kind"] == "recovery_codes"}
    long_ago = datetime.now(UTC) - timedelta(minutes=11)
    [session] = [s for s in store.sessions(email=OWNER, active=True) if not s["mfa_pending"]]
    store.update_session(session["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago)
    page.click("#regenerate-form button[type=submit]")
    page.wait_for_selector("#second-factor-challenge")
    assert "Confirm it is you" in page.inner_text("h1")
    screenshot(page, "step-up")
    page.fill("#code", AUTHENTICATORS[live_url, OWNER].next_code())
    page.click("#totp-form button[type=submit]")
    page.wait_for_url(f"{live_url}/admin/mfa/continue")
    after_proof = {f["id"] for f in store.factors(OWNER) if f["kind"] == "recovery_codes"}
    assert after_proof == before  # nothing done until the action is confirmed
    page.click("#continue-form button[type=submit]")
    page.wait_for_selector("#recovery-codes-page")
    assert page.locator("#recovery-codes code").count() == 10
    renewed = {f["id"] for f in store.factors(OWNER) if f["kind"] == "recovery_codes"}
    assert len(renewed) == 1 and renewed != before
    assert store.audit(event="step_up", actor=OWNER)
    page.click("#continue")
    page.wait_for_url(f"{live_url}/admin/security")
