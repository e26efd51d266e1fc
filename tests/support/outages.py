"""A Firebase service that is down, without stopping an emulator.

Stopping the Auth emulator and starting it again costs 20 to 30 seconds of
a CPU (firebase-tools loads its whole bundle; docs/testing.md). Where a test
needs only an app that cannot reach the service, a second app with the same
settings is pointed at one of these instead, with the first app's session
cookie; tests/security/test_faults.py still stops and restarts both
emulators for real where the point is that the same app recovers.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from flask.testing import FlaskClient

from adminapp import create_app
from adminapp.testing.sign_in import SESSION_COOKIE


@contextmanager
def black_hole() -> Iterator[str]:
    """host:port of a server that accepts connections and never replies."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)  # the kernel completes handshakes; nobody reads
        yield f"127.0.0.1:{server.getsockname()[1]}"


@contextmanager
def refusing() -> Iterator[str]:
    """host:port that refuses every connection, as a stopped emulator's
    port does: a socket bound there that never listens, which also keeps
    another process from taking the port meanwhile."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{bound.getsockname()[1]}"


@contextmanager
def app_reaching(
    monkeypatch, variable: str, host: str, config: dict[str, str], cookie: str | None = None
) -> Iterator[FlaskClient]:
    """A test client of a second app made with ``config`` while ``variable``
    (``FIREBASE_AUTH_EMULATOR_HOST`` or ``FIRESTORE_EMULATOR_HOST``) names
    ``host``, carrying ``cookie`` as its session; the app is closed after."""
    monkeypatch.setenv(variable, host)
    app = create_app(config)
    try:
        client = app.test_client()
        if cookie is not None:
            client.set_cookie(SESSION_COOKIE, cookie)
        yield client
    finally:
        app.extensions["adminapp"].close()
