"""Rate limits under the documented deploy command: gunicorn with the shipped
gunicorn.conf.py, two worker processes, each with its own listening socket
(reuse_port), so that connections spread over both.

Counted in each worker's memory, every limit would hold once per worker; so
the shipped configuration takes shared storage (a real redis-server here),
and refuses memory:// with more than one worker: at gunicorn's master when
it reads gunicorn.conf.py, and in the app itself however it is started
(adminapp/serving_process.py).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from adminapp.serving_process import lock_path
from adminapp.testing.sign_in import csrf_token
from tests.support.instances import (
    ROOT,
    SHIPPED_CONF,
    TRACED,
    eventually,
    instance,
    launched,
    redis_server,
    refused_start,
)
from tests.support.settings import LOG_DIR, base_config, production

SIGN_IN_LIMIT = 10  # SIGN_IN_RATE_LIMIT's default: 10 per minute
PAIRS = 12  # addresses whose reset form is posted twice
EMULATORS = {"FIREBASE_AUTH_EMULATOR_HOST": "", "FIRESTORE_EMULATOR_HOST": ""}


@pytest.fixture
def two_workers(clean):
    with redis_server() as redis:
        config = base_config(
            RATELIMIT_STORAGE_URI=redis.uri,
            WEB_CONCURRENCY="2",
            # Room for every reset post of the test: the guard under test is
            # the per-address double-submit one, not the per-IP limit.
            RESET_RATE_LIMIT_PER_IP="100 per hour",
        )
        with instance(config, LOG_DIR, (*SHIPPED_CONF, *TRACED)) as server:
            assert len(server.worker_pids()) == 2
            yield server


def post_reset(server, email: str, request_id: str) -> requests.Response:
    """The reset request form, as a browser posts it (CSRF token, Origin)."""
    browser = server.browser()
    headers = {"X-CSRFToken": csrf_token(browser), "Origin": browser.origin}
    return browser.post(
        "/admin/resetpassword",
        headers={**headers, "X-Test-Request": request_id},
        data={"email": email},
    )


def test_two_workers_share_the_sign_in_limit(two_workers):
    statuses = [two_workers.exchange("not-a-valid-id-token").status_code for _ in range(20)]

    assert statuses == [400] * SIGN_IN_LIMIT + [429] * (20 - SIGN_IN_LIMIT)

    # gunicorn writes a request's access line after its answer has gone.
    def exchanges():
        return [r for r in two_workers.served() if r["path"] == "/admin/session"]

    eventually(lambda: len(exchanges()) >= 20, within=30)
    assert len(exchanges()) == 20
    assert len({r["pid"] for r in exchanges()}) == 2  # both workers answered


def test_two_workers_share_the_double_submit_guard(two_workers, auth_emulator, store, outbox):
    addresses = [f"admin{n}@example.com" for n in range(PAIRS)]
    for address in addresses:
        auth_emulator.create_user(address)
        store.add_admin(address, "admin")

    answers = {
        address: [post_reset(two_workers, address, f"{n}-{post}").status_code for post in "ab"]
        for n, address in enumerate(addresses)
    }

    assert answers == {address: [200, 409] for address in addresses}
    # gunicorn writes the access line after the response has gone: wait for
    # all of them rather than read the log the moment the last answer came.
    eventually(lambda: len(reset_posts(two_workers)) == 2 * PAIRS, within=30)
    pids = reset_posts(two_workers)
    split = [n for n in range(PAIRS) if pids[f"{n}-a"] != pids[f"{n}-b"]]
    assert split, "every pair landed on one worker; the guard was not tested across workers"
    # Deliveries run after the response, in the worker, and each is audited
    # once it is done: when every accepted request has its audit entry, every
    # email that was going to be sent has been, and a 409 queued none.
    eventually(lambda: len(store.audit(event="password_reset_requested")) >= PAIRS, within=60)
    assert sorted(e["target"] for e in store.audit(event="password_reset_requested")) == sorted(
        addresses
    )
    assert sorted(code["email"] for code in outbox.sent()) == sorted(addresses)


def reset_posts(server) -> dict[str, str]:
    """X-Test-Request id -> worker pid, for the reset posts logged so far."""
    return {r["id"]: r["pid"] for r in server.served() if r["path"] == "/admin/resetpassword"}


@pytest.mark.parametrize(
    ("settings", "options"),
    [
        pytest.param({"WEB_CONCURRENCY": "2"}, (), id="WEB_CONCURRENCY"),
        pytest.param({}, ("--workers=2",), id="command-line"),
    ],
)
def test_memory_storage_with_two_workers_is_refused_at_start_up(settings, options):
    # The documented production set-up, except for the shared storage.
    config = production(RATELIMIT_STORAGE_URI="memory://", **EMULATORS, **settings)

    status, output = refused_start(config, LOG_DIR, (*SHIPPED_CONF, *options))

    assert status not in (None, 0), output
    assert "RATELIMIT_STORAGE_URI=memory://" in output
    assert "redis://" in output and "WEB_CONCURRENCY=1" in output
    assert "Booting worker" not in output  # refused by the master, before any worker


def test_memory_storage_with_one_worker_starts_and_refuses_more_workers():
    config = production(RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="1", **EMULATORS)
    with instance(config, LOG_DIR, SHIPPED_CONF) as server:
        assert server.get("/healthz").status_code == 200
        assert len(server.worker_pids()) == 1

        os.kill(server.process.pid, signal.SIGTTIN)  # "one more worker, please"

        eventually(lambda: "not adding workers" in server.output(), within=60)
        assert "not adding workers: RATELIMIT_STORAGE_URI=memory://" in server.output()
        # The master handles its signals one after the other, each fully
        # (TTIN forks any new worker in its handler): once it logs that it
        # handles a TTOU sent afterwards (a no-op with one worker), a worker
        # that TTIN had added would be there.
        os.kill(server.process.pid, signal.SIGTTOU)
        eventually(lambda: "Handling signal: ttou" in server.output(), within=60)
        assert len(server.worker_pids()) == 1


# gunicorn started without the shipped gunicorn.conf.py (issue 20, Low 2):
# its master cannot count the workers, so the app must refuse for itself.
NO_CONF = ("--config=/dev/null",)
WITHOUT_THE_CONF = [
    pytest.param((*NO_CONF, "--workers=2"), {}, ROOT, id="config-dev-null"),
    pytest.param(NO_CONF, {"GUNICORN_CMD_ARGS": "--workers=2"}, ROOT, id="GUNICORN_CMD_ARGS"),
    pytest.param((*NO_CONF, "--workers=2", "--preload"), {}, ROOT, id="preload"),
    # gunicorn reads ./gunicorn.conf.py from where it starts, not from --chdir.
    pytest.param(
        (f"--chdir={ROOT}", "--workers=2"), {}, Path(tempfile.gettempdir()), id="another-directory"
    ),
]
# The refused worker waits this long for a predecessor (10 s by default: a
# replaced worker's), then gunicorn stops.
HANDOVER = {"SERVING_HANDOVER_SECONDS": "2"}
STOP_TIMEOUT = 90


def sign_in_attempt(server) -> int | None:
    """One sign-in with an invalid token; its status, None if nobody answered."""
    try:
        return server.exchange("not-a-valid-id-token").status_code
    except requests.RequestException:
        return None


def serving(server) -> bool:
    try:
        return server.get("/healthz").status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.long
@pytest.mark.parametrize(("options", "settings", "directory"), WITHOUT_THE_CONF)
def test_memory_storage_with_two_processes_is_refused_however_gunicorn_starts(
    options, settings, directory
):
    config = production(RATELIMIT_STORAGE_URI="memory://", **HANDOVER, **EMULATORS, **settings)
    with launched(config, LOG_DIR, options, cwd=directory) as server:
        eventually(lambda: serving(server) or server.process.poll() is not None, within=60)
        # Until it stops, one process at most serves: the limit holds.
        statuses = [sign_in_attempt(server) for _ in range(2 * SIGN_IN_LIMIT)]
        let_through = [status for status in statuses if status not in (None, 429)]
        assert len(let_through) <= SIGN_IN_LIMIT, statuses
        eventually(lambda: server.process.poll() is not None, within=STOP_TIMEOUT)
        output = server.output()
    assert server.process.returncode != 0, output
    assert "RATELIMIT_STORAGE_URI=memory:// counts in each process" in output
    assert "already serves the app and did not exit within SERVING_HANDOVER_SECONDS (2 s)" in output
    assert "redis://" in output and "--workers 1" in output


@pytest.mark.long
def test_one_process_serves_and_a_replacement_takes_over():
    config = production(RATELIMIT_STORAGE_URI="memory://", **EMULATORS)
    with launched(config, LOG_DIR, (*NO_CONF, "--workers=1")) as server:
        eventually(lambda: serving(server), within=60)
        [first] = server.worker_pids()
        statuses = [sign_in_attempt(server) for _ in range(2 * SIGN_IN_LIMIT)]
        assert statuses.count(429) == SIGN_IN_LIMIT, statuses

        # A worker that dies is replaced, and the new one takes the lock.
        os.kill(int(first), signal.SIGKILL)
        eventually(lambda: server.worker_pids() not in ([], [first]) and serving(server), within=60)
        [second] = server.worker_pids()
        # A reload starts the new worker before the old one has left; it
        # waits for the lock instead of being refused.
        os.kill(server.process.pid, signal.SIGHUP)
        eventually(
            lambda: (
                len(server.worker_pids()) == 1
                and server.worker_pids()[0] not in (first, second)
                and serving(server)
            ),
            within=60,
        )
        assert server.process.poll() is None
        assert "cannot serve" not in server.output()
        assert "already serves the app" not in server.output()


@pytest.mark.long
def test_the_flask_command_serves_nothing_and_is_not_refused():
    # This test holds the lock of the processes it starts, as a serving
    # process of this parent would: the flask command still runs, while a
    # process that loads the app to serve it is refused.
    env = {
        **os.environ,
        **production(RATELIMIT_STORAGE_URI="memory://", **HANDOVER, **EMULATORS),
    }
    with open(lock_path(os.getpid()), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        command = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "routes"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        server = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", "import wsgi"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert command.returncode == 0, command.stderr
    assert "/admin/session" in command.stdout
    assert server.returncode != 0
    assert "RATELIMIT_STORAGE_URI=memory:// counts in each process" in server.stderr
    assert "did not exit within SERVING_HANDOVER_SECONDS (2 s)" in server.stderr
