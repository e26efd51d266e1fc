"""Apps for the adversarial suite."""

from __future__ import annotations

import pytest
import requests_mock

from adminapp import create_app
from adminapp.web.extensions import limiter
from tests.support.settings import PROJECT_ID, base_config
from tests.support.tokens import TokenFactory


@pytest.fixture
def signed_tokens(request, clean, monkeypatch):
    """Production-mode token verification: the Auth emulator variable is
    unset, so the Admin SDK checks real RS256 signatures against the
    certificates it fetches from Google (served here by requests-mock).
    Firestore stays on its emulator, which the config allows only with
    ADMINAPP_ENV=development and a demo- project id. Indirect parameters
    add settings."""
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST")
    app = create_app(
        base_config(
            FIREBASE_WEB_API_KEY="test-web-api-key",
            FIREBASE_AUTH_DOMAIN=f"{PROJECT_ID}.firebaseapp.com",
            **getattr(request, "param", {}),
        )
    )
    app.config["TESTING"] = True
    limiter.reset()
    assert not app.extensions["adminapp"].settings.auth_emulator_host
    factory = TokenFactory(PROJECT_ID)
    # real_http=False: any call we did not expect fails the test loudly.
    with requests_mock.Mocker() as mocker:
        factory.serve(mocker)
        yield app, factory, mocker
    app.extensions["adminapp"].backend.close()
