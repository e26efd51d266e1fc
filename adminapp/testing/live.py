"""The app served over real HTTP for browsers and multi-process tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from adminapp.testing.emulator_control import free_port


@contextmanager
def serve(app, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` on a loopback port (a free one by default) in a thread;
    yields its base URL."""
    port = port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"live-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def serve_on_localhost(app) -> Iterator[str]:
    """:func:`serve`, with the base URL naming localhost rather than
    127.0.0.1: the passkeys' RP ID in development is localhost."""
    with serve(app) as url:
        yield url.replace("http://127.0.0.1:", "http://localhost:")
