"""The login page's provider step, replaced in the browser (and only it)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page

FAKE_MODULE = Path(__file__).with_name("fake_provider_sign_in.js")
PROVIDER_MODULE = "**/admin/static/js/provider_sign_in.js"


def idp_claims(email: str, *, sub: str | None = None, verified: bool | None = True) -> dict:
    """What an identity provider's ID token says (the emulator reads it as JSON)."""
    claims = {"sub": sub or f"sub-of-{email}", "email": email}
    if verified is not None:
        claims["email_verified"] = verified
    return claims


def fake_provider_sign_in(page: Page, claims_by_provider: dict[str, dict]) -> None:
    """Serve the fake provider module instead of the real one: each provider
    button then signs in as ``claims_by_provider[provider id]``."""
    source = FAKE_MODULE.read_text().replace("__PROVIDER_CLAIMS__", json.dumps(claims_by_provider))
    page.route(
        PROVIDER_MODULE,
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=source),
    )
