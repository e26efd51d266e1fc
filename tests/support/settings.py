"""Settings dictionaries for start-up tests that need no emulator."""

from __future__ import annotations

import secrets

import pytest

from adminapp import ConfigError
from adminapp.config import load_settings

# A SECRET_KEY as `secrets.token_urlsafe` makes one: long and varied enough.
STRONG = secrets.token_urlsafe(32)


def production(**overrides) -> dict[str, str]:
    return {
        "ADMINAPP_ENV": "production",
        "FIREBASE_PROJECT_ID": "acme-prod",
        "SECRET_KEY": STRONG,
        "FIREBASE_WEB_API_KEY": "AIza-test",
        "FIREBASE_AUTH_DOMAIN": "acme-prod.firebaseapp.com",
        "PUBLIC_URL": "https://admin.acme.example",
        **overrides,
    }


def development(**overrides) -> dict[str, str]:
    return {
        "ADMINAPP_ENV": "development",
        "FIREBASE_PROJECT_ID": "demo-adminapp",
        "SECRET_KEY": STRONG,
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080",
        **overrides,
    }


def refusal(config: dict[str, str]) -> str:
    """The message of the ConfigError that ``config`` must raise."""
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return str(raised.value)
