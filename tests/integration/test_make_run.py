"""``make run`` (devtools/run.py) reads its settings in the documented
order: the environment first, then ``.env`` for what the environment leaves
unset (.env.example says so; wsgi.py and the flask command do the same)."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from adminapp.testing.emulator_control import free_port
from tests.support.instances import eventually

ROOT = Path(__file__).resolve().parents[2]
STARTED_WITHIN = 90  # seconds: imports and the catalogs on a loaded machine


@pytest.fixture
def env_file(tmp_path) -> Path:
    """A .env as `make run` writes it, saying: password sign-in only, in Korean."""
    text = (ROOT / ".env.example").read_text()
    text = re.sub(r"\nSECRET_KEY=\n", f"\nSECRET_KEY={secrets.token_urlsafe(48)}\n", text)
    text = re.sub(
        r"\nMFA_ENCRYPTION_KEY=\n", f"\nMFA_ENCRYPTION_KEY={secrets.token_urlsafe(32)}\n", text
    )
    text = re.sub(
        r"\nALLOWED_SIGN_IN_PROVIDERS=.*\n", "\nALLOWED_SIGN_IN_PROVIDERS=password\n", text
    )
    text = re.sub(r"\nDEFAULT_LOCALE=.*\n", "\nDEFAULT_LOCALE=ko\n", text)
    path = tmp_path / ".env"
    path.write_text(text)
    return path


@pytest.fixture
def make_run(clean, env_file, tmp_path):
    """devtools/run.py on a free port, on the test run's emulators, with
    ALLOWED_SIGN_IN_PROVIDERS set in its environment."""
    port = free_port()
    env = {
        **os.environ,
        "ALLOWED_SIGN_IN_PROVIDERS": "password,google.com",
        "GRPC_VERBOSITY": "ERROR",
    }
    env.pop("DEFAULT_LOCALE", None)
    log = tmp_path / "make-run.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools.run",
                "--port",
                str(port),
                "--env-file",
                str(env_file),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def serving() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        eventually(serving, STARTED_WITHIN)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_the_environment_wins_over_the_env_file(make_run):
    page = requests.get(f"{make_run}/admin/login", timeout=10).text

    # ALLOWED_SIGN_IN_PROVIDERS from the environment, not .env's "password".
    assert 'data-provider="google.com"' in page
    # DEFAULT_LOCALE, which the environment leaves unset, from .env.
    assert '<html lang="ko"' in page
