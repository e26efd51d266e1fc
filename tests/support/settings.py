"""Test settings, in one place: the app on the emulators (``base_config``,
what the ``app`` fixture uses, from adminapp.testing), and production or
development settings for start-up tests that need no emulator."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from adminapp import ConfigError
from adminapp.config import load_settings
from adminapp.testing.settings import MFA_KEY, PROJECT_ID, SECRET_KEY, base_config

__all__ = ["MFA_KEY", "PROJECT_ID", "SECRET_KEY", "base_config"]  # and what is defined here

# A SECRET_KEY as `secrets.token_urlsafe` makes one: long and varied enough.
STRONG = secrets.token_urlsafe(32)

# The audit chain's key: required in production (elsewhere derived from SECRET_KEY).
AUDIT_KEY = secrets.token_urlsafe(32)
# Where the emulators and app processes started by tests write their logs.
LOG_DIR = Path(__file__).resolve().parent.parent.parent / ".test-logs"


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
