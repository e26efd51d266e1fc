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

from adminapp.testing.emulator_control import free_port
from adminapp.testing.sign_in import SESSION_COOKIE, LiveBrowser, csrf_token, exchange, sign_in
from devtools.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT = 60
# gunicorn options of an instance: one worker by default, or the documented
# deploy command's (the shipped gunicorn.conf.py).
ONE_WORKER = ("--workers=1", "--worker-class=gthread", "--threads=4")
SHIPPED_CONF = ("--config=gunicorn.conf.py",)
# An access log line per request: the worker's pid, the request, its status
# and the X-Test-Request header the test sent (see Instance.served).
TRACED = (
    "--access-logfile=-",
    "--access-logformat=served pid=%(p)s %(m)s %(U)s %(s)s id=%({x-test-request}i)s",
)
_SERVED = re.compile(
    r"served pid=<?(?P<pid>\d+)>? (?P<method>\S+) (?P<path>\S+) (?P<status>\d+) id=(?P<id>\S*)"
)


@dataclass
class Instance:
    url: str
    process: subprocess.Popen
    log: Path

    def get(self, path: str, cookie: str | None = None, **kwargs) -> requests.Response:
        return self.browser(cookie).get(path, **kwargs)

    def browser(self, cookie: str | None = None) -> LiveBrowser:
        """A fresh browser on this instance, holding ``cookie`` if given."""
        return LiveBrowser(self.url, {SESSION_COOKIE: cookie} if cookie else None)

    def exchange(self, id_token: str) -> requests.Response:
        """POST /admin/session, as the login page does."""
        return exchange(self.browser(), id_token)

    def sign_in(self, id_token: str) -> str:
        """The session cookie's value for ``id_token``."""
        return sign_in(self.browser(), id_token)

    def sign_out(self, cookie: str) -> requests.Response:
        return self.post_form("/admin/logout", cookie)

    def post_form(
        self, path: str, cookie: str | None = None, data: dict | None = None
    ) -> requests.Response:
        """A form of the pages, posted as a browser holding ``cookie`` would
        (CSRF token and Origin included); redirects are not followed."""
        browser = self.browser(cookie)
        headers = {"X-CSRFToken": csrf_token(browser), "Origin": browser.origin}
        return browser.post(path, headers=headers, data=data)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def served(self) -> list[dict[str, str]]:
        """The requests in the access log (started with ``TRACED``), in log order."""
        return [match.groupdict() for match in _SERVED.finditer(self.output())]

    def worker_pids(self) -> list[str]:
        """The gunicorn master's live worker processes."""
        pid = self.process.pid
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


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


def _gunicorn(config: dict[str, str], log_dir: Path, options: tuple[str, ...], cwd: Path = ROOT):
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"instance-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                *options,
                f"--bind=127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=cwd,
            env={**os.environ, "GRPC_VERBOSITY": "ERROR", **config},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return port, process, log


@contextlib.contextmanager
def instance(
    config: dict[str, str], log_dir: Path, options: tuple[str, ...] = ONE_WORKER
) -> Iterator[Instance]:
    """The app under gunicorn (one worker unless ``options`` say) in its own process group."""
    port, process, log = _gunicorn(config, log_dir, options)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process, "app instance")
        yield Instance(url=f"http://127.0.0.1:{port}", process=process, log=log)
    finally:
        _stop(process)


@contextlib.contextmanager
def started_together(config: dict[str, str], log_dir: Path) -> Iterator[tuple[Instance, Instance]]:
    """Instances A and B of one configuration (one worker each), started
    together: each boots while the other does, instead of one after the other."""
    with contextlib.ExitStack() as stack:
        a, b = (stack.enter_context(launched(config, log_dir, ONE_WORKER)) for _ in range(2))
        for each in (a, b):
            _wait_for(f"{each.url}/healthz", each.process, "app instance")
        yield a, b


@contextlib.contextmanager
def launched(
    config: dict[str, str], log_dir: Path, options: tuple[str, ...], *, cwd: Path = ROOT
) -> Iterator[Instance]:
    """gunicorn started from ``cwd`` and not waited for: the test watches it
    serve, stop, or both. Stopped afterwards if it still runs."""
    port, process, log = _gunicorn(config, log_dir, options, cwd)
    try:
        yield Instance(url=f"http://127.0.0.1:{port}", process=process, log=log)
    finally:
        _stop(process)


def refused_start(
    config: dict[str, str], log_dir: Path, options: tuple[str, ...]
) -> tuple[int | None, str]:
    """Start gunicorn expecting it to refuse: its exit status and output.

    The status is None if it served /healthz instead (it is then stopped).
    """
    port, process, log = _gunicorn(config, log_dir, options)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process, "app instance")
        status = None  # it started and served
    except RuntimeError:
        status = process.returncode  # None if it neither exited nor answered
    finally:
        _stop(process)
    return status, log.read_text(errors="replace")


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
