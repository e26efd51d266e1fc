"""Separate app processes (gunicorn) and a real Redis, for multi-instance tests.

Each instance is its own process, as behind a load balancer: nothing is
shared between them but what the settings name (secret key, emulators,
Redis). Cookies are passed by hand, so a test says exactly which instance
sees which cookie.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devtools.emulators import free_port
from devtools.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent.parent
HTTP_TIMEOUT = 10
START_TIMEOUT = 60
SESSION_COOKIE = "__Host-admin_session"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Instance:
    url: str
    process: subprocess.Popen
    log: Path

    def get(self, path: str, cookie: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
        return requests.get(
            self.url + path, headers=headers, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs
        )

    def form_headers(self, cookie: str | None = None) -> dict[str, str]:
        """CSRF token, its cookie and our Origin, as the login page's script sends them."""
        page = requests.get(f"{self.url}/admin/login", timeout=HTTP_TIMEOUT)
        token = _CSRF_META.search(page.text).group(1)
        cookies = [f"{name}={value}" for name, value in page.cookies.items()]
        if cookie:
            cookies.append(f"{SESSION_COOKIE}={cookie}")
        return {"X-CSRFToken": token, "Origin": self.url, "Cookie": "; ".join(cookies)}

    def exchange(self, id_token: str) -> requests.Response:
        """POST /admin/session, as the login page does."""
        return requests.post(
            f"{self.url}/admin/session",
            headers={**self.form_headers(), "Authorization": f"Bearer {id_token}"},
            json={},
            timeout=HTTP_TIMEOUT,
        )

    def sign_in(self, id_token: str) -> str:
        response = self.exchange(id_token)
        assert response.status_code == 200, response.text
        return response.cookies[SESSION_COOKIE]

    def sign_out(self, cookie: str) -> requests.Response:
        return requests.post(
            f"{self.url}/admin/logout",
            headers=self.form_headers(cookie),
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def eventually(condition: Callable[[], bool], within: float) -> float:
    """Seconds until ``condition`` held, polling; fails the test after ``within``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"not true within {within}s")
        time.sleep(0.01)
    return time.monotonic() - start


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {START_TIMEOUT}s")


@contextlib.contextmanager
def instance(config: dict[str, str], log_dir: Path) -> Iterator[Instance]:
    """The app under gunicorn (one worker) in its own process group."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"instance-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--workers=1",
                "--worker-class=gthread",
                "--threads=4",
                f"--bind=127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env={**os.environ, "GRPC_VERBOSITY": "ERROR", **config},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process, "app instance")
        yield Instance(url=f"http://127.0.0.1:{port}", process=process, log=log)
    finally:
        _stop(process)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server on a free port: no disk, no persistence."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make redis` (Debian package).")
    server = RedisServer(port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
