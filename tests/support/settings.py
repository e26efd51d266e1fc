"""Test settings, in one place: the app on the emulators (``base_config``,
what the ``app`` fixture uses), and production or development settings for
start-up tests that need no emulator."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from adminapp import ConfigError
from adminapp.config import load_settings

# A SECRET_KEY as `secrets.token_urlsafe` makes one: long and varied enough.
STRONG = secrets.token_urlsafe(32)

# The emulators' project (a demo- id: nothing can reach a real project).
PROJECT_ID = "demo-adminapp"
# Fresh for every run: a key written in the repository would be a published one.
SECRET_KEY = secrets.token_urlsafe(48)
# The AES-GCM key for TOTP secrets at rest (32 bytes, base64url), fresh too.
MFA_KEY = secrets.token_urlsafe(32)
# The audit chain's key: required in production (elsewhere derived from SECRET_KEY).
AUDIT_KEY = secrets.token_urlsafe(32)
# Where the emulators and app processes started by tests write their logs.
LOG_DIR = Path(__file__).resolve().parent.parent.parent / ".test-logs"


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


def production(**overrides) -> dict[str, str]:
    return {
        "ADMINAPP_ENV": "production",
        "FIREBASE_PROJECT_ID": "acme-prod",
        "SECRET_KEY": STRONG,
        "MFA_ENCRYPTION_KEY": MFA_KEY,
        "AUDIT_CHAIN_KEY": AUDIT_KEY,
        "FIREBASE_WEB_API_KEY": "AIza-test",
        "FIREBASE_AUTH_DOMAIN": "acme-prod.firebaseapp.com",
        "PUBLIC_URL": "https://admin.acme.example",
        **overrides,
    }


def development(**overrides) -> dict[str, str]:
    return {
        "ADMINAPP_ENV": "development",
        "FIREBASE_PROJECT_ID": PROJECT_ID,
        "SECRET_KEY": STRONG,
        "MFA_ENCRYPTION_KEY": MFA_KEY,
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080",
        **overrides,
    }


def refusal(config: dict[str, str]) -> str:
    """The message of the ConfigError that ``config`` must raise."""
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return str(raised.value)
