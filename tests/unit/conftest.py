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


class Clock:
    """A clock the test moves: the services' rules read time only from it."""

    def __init__(self):
        from datetime import UTC, datetime

        self.now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def memory_services(clock):
    """The app's real services and stores on an in-memory Firestore
    (tests/support/memory_firestore.py): the rules run as in the app, in
    milliseconds, with no emulator. Firebase Auth is not there: a test that
    reaches it fails loudly (no emulator host answers)."""
    from adminapp.config import load_settings
    from adminapp.services import build_services
    from tests.support.memory_firestore import memory_client
    from tests.support.settings import development

    settings = load_settings(
        development(
            FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9",  # discard port: nothing answers
            FIRESTORE_EMULATOR_HOST="127.0.0.1:9",
            MFA_ADMIN_MAX_FAILURES="6",
        )
    )
    services = build_services(settings, clock, firestore_client=memory_client())
    yield services
    services.background.close()
