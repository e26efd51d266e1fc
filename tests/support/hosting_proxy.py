"""A stand-in for Firebase Hosting in front of the app (a Cloud Run rewrite).

The Hosting emulator cannot proxy to a local Cloud Run service, so the tests
put this small reverse proxy of their own in front of a live app. It does to
each request what Hosting does before it reaches Cloud Run:

- it forwards only the ``__session`` cookie and drops every other pair of
  the ``Cookie`` header (Firebase Hosting's documentation, "Manage cache
  behavior": "Firebase Hosting strips all cookies except __session");
- it appends the client's address to ``X-Forwarded-For`` and sets
  ``X-Forwarded-Host`` (the host the browser asked for) and
  ``X-Forwarded-Proto: https`` (Hosting serves HTTPS only);

and it passes the response back as it came: status, every header
(``Set-Cookie`` included) and body, without following redirects.

Standard library only (``http.server`` with a thread per connection, and
``http.client``): it has no behaviour of its own to trust.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from adminapp.testing.emulator_control import free_port

FORWARDED_COOKIE = "__session"
# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
UPSTREAM_TIMEOUT = 30


@dataclass
class Seen:
    """What the proxy forwarded, for the tests to inspect."""

    cookie_headers: list[str] = field(default_factory=list)
    dropped_cookies: set[str] = field(default_factory=set)


def only_session_cookie(header: str, seen: Seen | None = None) -> str:
    """The ``Cookie`` header as Hosting forwards it: ``__session`` only."""
    kept = []
    for pair in header.split(";"):
        name = pair.split("=", 1)[0].strip()
        if not name:
            continue
        if name == FORWARDED_COOKIE:
            kept.append(pair.strip())
        elif seen is not None:
            seen.dropped_cookies.add(name)
    return "; ".join(kept)


def _handler(upstream: str, seen: Seen) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {}
            for name, value in self.headers.items():
                lower = name.lower()
                if (
                    lower in HOP_BY_HOP
                    or lower in ("host", "cookie")
                    or lower.startswith("x-forwarded-")
                ):
                    continue
                headers[name] = value
            cookie = only_session_cookie("; ".join(self.headers.get_all("Cookie") or []), seen)
            seen.cookie_headers.append(cookie)
            if cookie:
                headers["Cookie"] = cookie
            client_ip = self.client_address[0]
            earlier = self.headers.get("X-Forwarded-For")
            headers["X-Forwarded-For"] = f"{earlier}, {client_ip}" if earlier else client_ip
            headers["X-Forwarded-Host"] = self.headers.get("Host", "")
            headers["X-Forwarded-Proto"] = "https"
            connection = http.client.HTTPConnection(
                target.hostname, target.port, timeout=UPSTREAM_TIMEOUT
            )
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                        continue
                    self.send_header(name, value)  # Set-Cookie: each one, as it came
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        def log_message(self, format, *args):
            pass  # the app logs its requests; a test's output stays quiet

    return Forward


@contextmanager
def hosting_proxy(upstream: str, port: int | None = None) -> Iterator[tuple[str, Seen]]:
    """Serve the stand-in on ``localhost`` (passkeys need a host name, not
    an IP) in front of ``upstream``; yields its URL and what it saw."""
    seen = Seen()
    port = port or free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(upstream, seen))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"hosting-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
