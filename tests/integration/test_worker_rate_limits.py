"""Rate limits under the documented deploy command: gunicorn with the shipped
gunicorn.conf.py, two worker processes, each with its own listening socket
(reuse_port), so that connections spread over both.

Counted in each worker's memory, every limit would hold once per worker; so
the shipped configuration takes shared storage (a real redis-server here),
and refuses memory:// with more than one worker.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from devtools.sign_in import csrf_token
from tests.support.instances import (
    SHIPPED_CONF,
    TRACED,
    instance,
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
    exchanges = [r for r in two_workers.served() if r["path"] == "/admin/session"]
    assert len(exchanges) == 20
    assert len({r["pid"] for r in exchanges}) == 2  # both workers answered


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
    pids = {r["id"]: r["pid"] for r in two_workers.served() if r["path"] == "/admin/resetpassword"}
    split = [n for n in range(PAIRS) if pids[f"{n}-a"] != pids[f"{n}-b"]]
    assert split, "every pair landed on one worker; the guard was not tested across workers"
    # One email per address (deliveries run after the response, in the worker).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(outbox.sent()) < PAIRS:
        time.sleep(0.2)
    time.sleep(1)  # time for a second email, were one on its way
    assert sorted(code["email"] for code in outbox.sent()) == sorted(addresses)


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

        deadline = time.monotonic() + 10
        while "not adding workers" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "not adding workers: RATELIMIT_STORAGE_URI=memory://" in server.output()
        time.sleep(1)
        assert len(server.worker_pids()) == 1
