"""Settings for an app on the emulators: what the ``app`` fixture uses, here
and in a product's tests."""

from __future__ import annotations

import secrets

# The emulators' project (a demo- id: nothing can reach a real project).
PROJECT_ID = "demo-adminapp"
# Fresh for every run: a key written in a repository would be a published one.
SECRET_KEY = secrets.token_urlsafe(48)
# The AES-GCM key for TOTP secrets at rest (32 bytes, base64url), fresh too.
MFA_KEY = secrets.token_urlsafe(32)


def base_config(**overrides: str) -> dict[str, str]:
    """Settings for an app on the emulators; tests override what they probe."""
    return {
        "ADMINAPP_ENV": "development",
        "FIREBASE_PROJECT_ID": PROJECT_ID,
        "SECRET_KEY": SECRET_KEY,
        "SECRET_KEY_FALLBACKS": "",
        "MFA_ENCRYPTION_KEY": MFA_KEY,
        "FIREBASE_CREDENTIALS": "",
        "PUBLIC_URL": "",
        "SESSION_COOKIE_SECURE": "true",
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOG_LEVEL": "INFO",
        **overrides,
    }
