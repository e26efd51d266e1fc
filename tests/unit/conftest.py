"""Unit tests see only the settings they pass, not the developer's shell."""

import os

import pytest

SETTING_PREFIXES = (
    "FIREBASE_",
    "FIRESTORE_",
    "ADMINAPP_",
    "SECRET_KEY",
    "SESSION_",
    "PUBLIC_URL",
    "RESET_",
    "SMTP_",
    "MAIL_",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)
