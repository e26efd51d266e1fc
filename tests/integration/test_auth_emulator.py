"""The Auth emulator as the tests start it: firebase-tools' own, with its
request validators compiled on first use instead of at start-up
(``adminapp/testing/emulator/auth-validators-on-first-use.cjs`` says why).
It must still refuse what the Identity Toolkit API refuses."""

from __future__ import annotations

import pytest
import requests

from adminapp.testing import emulator_control

PROJECT = "demo-adminapp-validators"
SIGN_UP = "/identitytoolkit.googleapis.com/v1/accounts:signUp"
TIMEOUT = 10


@pytest.fixture
def started(tmp_path):
    """A fresh Auth emulator of its own, logging to ``tmp_path``: its host."""
    port = emulator_control.free_port()
    emulators = emulator_control.Emulators(
        project_id=PROJECT,
        auth_host=f"127.0.0.1:{port}",
        firestore_host="",  # not started: only the Auth emulator is under test
        log_dir=tmp_path,
    )
    try:
        emulators.start_auth()
        yield emulators.auth_host
    finally:
        emulators.stop()


def sign_up(host: str, body: dict) -> requests.Response:
    return requests.post(
        f"http://{host}{SIGN_UP}", params={"key": "demo-api-key"}, json=body, timeout=TIMEOUT
    )


def test_the_validators_are_compiled_on_first_use_and_still_refuse(started, tmp_path):
    log = (tmp_path / "auth-emulator.log").read_text(errors="replace")
    assert "request validators are compiled on first use" in log

    # A field of the wrong type is refused by the schema, as before.
    refused = sign_up(started, {"email": ["not", "a", "string"], "password": "pw-123456"})
    assert refused.status_code == 400
    assert "Invalid JSON payload received" in refused.json()["error"]["message"]
    # And a valid request is served.
    served = sign_up(started, {"email": "new@example.com", "password": "pw-123456"})
    assert served.status_code == 200, served.text
    assert served.json()["email"] == "new@example.com"
