"""Passkeys in headless Chromium, through its virtual authenticator (CDP
WebAuthn domain: ctap2, internal, resident keys, user verified): enrolment
at the first sign-in, then the recovery codes; sign-in with the passkey;
a second passkey added from a full session, which then signs in."""

from __future__ import annotations

import base64

import pytest

from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from tests.support.pages import fill_login, screenshot
from tests.support.passkeys import unb64

# A platform authenticator (a laptop's, say) that verifies its user.
VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


def add_authenticator(cdp) -> None:
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    cdp.authenticator_id = added["authenticatorId"]


@pytest.fixture
def authenticator(context, page):
    """The CDP session of a virtual authenticator in this browser context."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    add_authenticator(cdp)
    return cdp


def credentials(cdp) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": cdp.authenticator_id})[
        "credentials"
    ]


def sign_in_with_passkey(page, live_url, *, shots: bool = False) -> None:
    page.goto(f"{live_url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_url}/admin/mfa?next=/admin/")
    page.wait_for_selector("#use-passkey")
    if shots:
        screenshot(page, "mfa-challenge-passkey")
    page.click("#use-passkey")
    page.wait_for_url(f"{live_url}/admin/")


def enrol_a_passkey_at_the_first_sign_in(page, live_url, name: str = "Laptop") -> None:
    """Sign in with the password, choose a passkey at the enrolment page,
    pass the recovery codes and reach the dashboard."""
    page.goto(f"{live_url}/admin/login")
    fill_login(page, OWNER, DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_url}/admin/mfa/enrol?next=/admin/")
    page.fill("#passkey-name", name)
    page.click("#create-passkey")
    page.wait_for_selector("#recovery-codes-page")
    assert page.locator("#recovery-codes code").count() == 10
    page.click("#continue")
    page.wait_for_url(f"{live_url}/admin/")


def test_passkey_enrolment_sign_in_and_a_second_passkey(
    page, live_url, owner, store, authenticator
):
    enrol_a_passkey_at_the_first_sign_in(page, live_url)
    [credential] = credentials(authenticator)
    [stored] = [f for f in store.factors(OWNER) if f["kind"] == "passkey"]
    assert stored["name"] == "Laptop" and stored["transports"] == ["internal"]
    assert unb64(stored["credential_id"]) == base64.b64decode(credential["credentialId"])

    page.click("text=Sign out")
    page.wait_for_url(f"{live_url}/admin/login")
    sign_in_with_passkey(page, live_url, shots=True)
    assert page.inner_text("#admin-email") == OWNER
    full = [s for s in store.sessions(email=OWNER) if s["active"]]
    assert [s["mfa_factor"] for s in full] == ["passkey"]

    # A second passkey, from the full session, on a second authenticator.
    cdp = authenticator
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": cdp.authenticator_id})
    add_authenticator(cdp)
    page.goto(f"{live_url}/admin/mfa/passkeys/new")
    page.fill("#passkey-name", "Security key")
    page.click("#create-passkey")
    page.wait_for_url(f"{live_url}/admin/")
    names = sorted(f["name"] for f in store.factors(OWNER) if f["kind"] == "passkey")
    assert names == ["Laptop", "Security key"]
    assert store.admin(OWNER)["second_factors"] == 2
    assert len(credentials(cdp)) == 1

    page.click("text=Sign out")
    page.wait_for_url(f"{live_url}/admin/login")
    sign_in_with_passkey(page, live_url)
    used = {f["name"]: f["last_used_at"] for f in store.factors(OWNER) if f["kind"] == "passkey"}
    assert used["Security key"] is not None
