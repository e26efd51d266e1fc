"""Emulator mode (which accepts unsigned ID tokens) can never face real data.

tests/unit/test_config.py checks every combination through ``load_settings``
with the variables passed as settings. Here they arrive the way the Firebase
SDKs read them, in the process environment, and the app is started for real:
in-process with ``create_app`` for the whole matrix, and as a separate
process through ``wsgi.py`` (what gunicorn loads).
"""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import product
from pathlib import Path

import pytest

from adminapp import ConfigError, create_app
from tests.support.settings import AUDIT_KEY, MFA_KEY, STRONG

ROOT = Path(__file__).resolve().parents[2]
AUTH, FIRESTORE = "FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"
SETTINGS = {
    "SECRET_KEY": STRONG,
    "MFA_ENCRYPTION_KEY": MFA_KEY,
    "AUDIT_CHAIN_KEY": AUDIT_KEY,
    "FIREBASE_WEB_API_KEY": "web-api-key",
    "FIREBASE_AUTH_DOMAIN": "project.firebaseapp.com",
    "PUBLIC_URL": "https://admin.example.com",
}
VARIABLES = {"auth": (AUTH,), "firestore": (FIRESTORE,), "both": (AUTH, FIRESTORE)}
MATRIX = [
    pytest.param(variables, env, project, id=f"{variables}-{env}-{project}")
    for variables, env, project in product(
        VARIABLES, ("production", "development"), ("demo-adminapp", "acme-prod")
    )
]


def refusal_names(env: str) -> str:
    """The setting the message must name, besides the emulator variables."""
    return "ADMINAPP_ENV" if env == "production" else "FIREBASE_PROJECT_ID"


@pytest.fixture
def environment(monkeypatch):
    for name in (AUTH, FIRESTORE):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("variables", "env", "project"), MATRIX)
def test_start_up_with_emulator_variables(environment, variables, env, project):
    for name in VARIABLES[variables]:
        environment.setenv(name, "127.0.0.1:9")
    config = {**SETTINGS, "ADMINAPP_ENV": env, "FIREBASE_PROJECT_ID": project}
    if env == "development" and project.startswith("demo-"):
        assert create_app(config).config["ADMINAPP_EMULATED"]
        return
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    message = str(refused.value)
    assert all(name in message for name in VARIABLES[variables])
    assert refusal_names(env) in message


def test_production_without_emulators_starts_and_is_not_emulated(environment):
    app = create_app({**SETTINGS, "ADMINAPP_ENV": "production", "FIREBASE_PROJECT_ID": "acme"})
    assert not app.config["ADMINAPP_EMULATED"]


def test_production_is_the_default_so_a_forgotten_mode_refuses_emulators(environment):
    environment.setenv(AUTH, "127.0.0.1:9")
    with pytest.raises(ConfigError, match="ADMINAPP_ENV"):
        create_app({**SETTINGS, "FIREBASE_PROJECT_ID": "demo-adminapp"})


def start_wsgi(**env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], **SETTINGS, **env}
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_wsgi_process_refuses_auth_emulator_in_production():
    started = start_wsgi(ADMINAPP_ENV="production", FIREBASE_PROJECT_ID="acme", **{AUTH: "x:1"})
    assert started.returncode != 0
    assert "ConfigError" in started.stderr
    assert AUTH in started.stderr and "ADMINAPP_ENV" in started.stderr


def test_wsgi_process_starts_with_the_allowed_combination():
    started = start_wsgi(
        ADMINAPP_ENV="development", FIREBASE_PROJECT_ID="demo-adminapp", **{FIRESTORE: "x:1"}
    )
    assert started.returncode == 0, started.stderr
