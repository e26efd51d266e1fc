"""Firestore or Firebase Auth down or hanging: a quick 503, never access,
never a traceback, and service resumes without restarting the app.

Emulators are stopped for real (adminapp/testing/emulator_control.py) and always restarted
in a ``finally``, so later tests see them running, where the point is that
the same app recovers. Where it is only that an app which cannot reach a
service refuses, a second app with the same settings is pointed at a port
that refuses connections, as a stopped emulator's does (restarting the Auth
emulator costs 20 to 30 s of CPU). A "hanging" dependency is a socket that
accepts connections and never answers (tests/support/outages.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import grpc._channel
import pytest
from google.cloud import firestore

from adminapp.errors import BackendUnavailable, Contended
from adminapp.firebase import backend as backend_module
from adminapp.testing import EMULATOR_HOSTS
from adminapp.testing.firebase import OWNER, after_the_admin_read
from tests.support.outages import app_reaching, black_hole, refusing
from tests.support.settings import base_config
from tests.support.web import SESSION_COOKIE, exchange, sign_in

BUDGET = 1.0  # BACKEND_TIMEOUT_SECONDS for these apps
BOUND = 2 * BUDGET  # no request may wait longer than this for a dead dependency
JSON = {"Accept": "application/json"}
AUTH_HOST, FIRESTORE_HOST = EMULATOR_HOSTS
# gRPC reconnects with a backoff (1 s, growing) after an outage.
RECOVERY = 15


def fault_config() -> dict[str, str]:
    return base_config(BACKEND_TIMEOUT_SECONDS=str(BUDGET))


@pytest.fixture
def config():
    return fault_config()


@contextmanager
def stopped(emulators, which: str) -> Iterator[None]:
    getattr(emulators, f"stop_{which}")()
    try:
        yield
    finally:
        getattr(emulators, f"start_{which}")()


def eventually(call, *, within: float = RECOVERY):
    """The first non-503 answer of ``call`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while (result := call()) == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


def timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def assert_clean_503(response, elapsed, service):
    assert response.status_code == 503
    assert elapsed < BOUND, f"waited {elapsed:.1f}s for a dead dependency"
    # The real advice, not a rate-limit window stamped over it.
    assert response.headers["Retry-After"] == "30"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    if response.is_json:
        assert response.get_json()["error"] == "service_unavailable"
        assert service in response.get_json()["message"]
    else:
        assert f"{service} is not answering" in body


@pytest.fixture
def signed_in(client, auth_emulator, owner):
    sign_in(client, auth_emulator, OWNER)
    return client


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/admin/", {}, id="html-page"),
        pytest.param("/admin/", JSON, id="json-page"),
        pytest.param("/admin/api/me", {}, id="api"),
    ],
)
def test_firestore_down_gives_a_quick_503_then_service_resumes(signed_in, emulators, path, headers):
    with stopped(emulators, "firestore"):
        response, elapsed = timed(lambda: signed_in.get(path, headers=headers))
        assert_clean_503(response, elapsed, "Firestore")
    # The emulator restarted empty: the same app, unrestarted, answers again
    # (and, rightly, no longer knows the session) once gRPC has reconnected.
    assert eventually(lambda: signed_in.get(path, headers=JSON).status_code) == 401


def test_firestore_down_at_the_exchange_opens_no_session(client, auth_emulator, owner, emulators):
    token = auth_emulator.sign_in(OWNER)
    with stopped(emulators, "firestore"):
        response, elapsed = timed(lambda: exchange(client, token))
        assert_clean_503(response, elapsed, "Firestore")
    assert client.get_cookie("__Host-admin_session") is None


def test_firestore_lost_before_the_sign_in_write_logs_an_error_not_a_success(
    app, client, auth_emulator, owner, emulators, caplog, monkeypatch
):
    """The admin document was read, then Firestore went away before the
    session could be written: 503, no cookie, and the security log records
    the attempt as an error, never as a sign-in that happened."""
    caplog.set_level(logging.INFO, logger="adminapp.security")
    token = auth_emulator.sign_in(OWNER)
    after_the_admin_read(app, monkeypatch, lambda _email: emulators.stop_firestore())
    try:
        response, elapsed = timed(lambda: exchange(client, token))
    finally:
        emulators.start_firestore()
    assert_clean_503(response, elapsed, "Firestore")
    assert client.get_cookie(SESSION_COOKIE) is None
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "adminapp.security"]
    assert [(line["event"], line["outcome"]) for line in lines] == [("sign_in", "error")]


@pytest.mark.long
def test_auth_down_at_the_exchange_gives_503_then_sign_in_works_again(
    client, auth_emulator, owner, emulators, store
):
    token = auth_emulator.sign_in(OWNER)
    first_config = emulators.auth_config
    with stopped(emulators, "auth"):
        response, elapsed = timed(lambda: exchange(client, token))
        assert_clean_503(response, elapsed, "Firebase Authentication")
        assert store.sessions() == []
        # A stopped emulator's folder goes with it.
        assert emulators.auth_config is None and not first_config.exists()
    assert emulators.auth_config.is_dir() and emulators.auth_config != first_config
    # The Auth emulator restarted empty; the same app serves a new sign-in.
    auth_emulator.create_user(OWNER)
    store.update_admin(OWNER, uid=None)
    assert eventually(lambda: exchange(client, auth_emulator.sign_in(OWNER)).status_code) == 200
    sign_in(client, auth_emulator, OWNER)  # the exchange again, and the second factor
    assert client.get("/admin/", headers=JSON).status_code == 200


def test_auth_down_at_the_recheck_gives_503_not_access(signed_in, store, monkeypatch):
    cookie = signed_in.get_cookie(SESSION_COOKIE).value
    [session] = store.sessions(email=OWNER)
    store.update_session(session["id"], auth_checked_at=datetime.now(UTC) - timedelta(minutes=10))
    with (
        refusing() as host,
        app_reaching(monkeypatch, AUTH_HOST, host, fault_config(), cookie) as client,
    ):
        response, elapsed = timed(lambda: client.get("/admin/", headers=JSON))
    assert_clean_503(response, elapsed, "Firebase Authentication")


def test_hanging_auth_service_gives_503_within_the_bound(auth_emulator, owner, monkeypatch):
    token = auth_emulator.sign_in(OWNER)
    with black_hole() as host, app_reaching(monkeypatch, AUTH_HOST, host, fault_config()) as client:
        response, elapsed = timed(lambda: exchange(client, token))
    assert_clean_503(response, elapsed, "Firebase Authentication")


def test_hanging_firestore_gives_503_within_the_bound(signed_in, monkeypatch):
    cookie = signed_in.get_cookie(SESSION_COOKIE).value
    with (
        black_hole() as host,
        app_reaching(monkeypatch, FIRESTORE_HOST, host, fault_config(), cookie) as client,
    ):
        response, elapsed = timed(lambda: client.get("/admin/", headers=JSON))
    assert_clean_503(response, elapsed, "Firestore")


def _anyone(_admin) -> None:
    """A change the service's rules allow (no actor here: only the call's bound counts)."""


# Every kind of Firestore call the services make, transactions included:
# the SDK's own defaults would retry some of them for 60 seconds.
FIRESTORE_OPERATIONS = {
    "get-admin": lambda s: s.directory.get(OWNER),
    "list-admins": lambda s: s.directory.list(),
    "create-admin": lambda s: s.directory.add("new@example.com", "viewer"),
    "update-admin-transaction": lambda s: s.directory.update(
        OWNER, role="admin", may_change=_anyone
    ),
    "remove-admin-transaction": lambda s: s.directory.remove(OWNER, may_change=_anyone),
    "list-sessions": lambda s: s.sessions.open_for(None),
    "audit-record": lambda s: s.audit.record("sign_out", actor=OWNER, client=None),
    "audit-page": lambda s: s.audit.page(),
}


@pytest.mark.long
def test_every_firestore_operation_fails_closed_within_the_bound(app, owner, emulators):
    services = app.extensions["adminapp"]
    services.directory.get(OWNER)  # the client is built and connected first
    outcomes = {}
    with stopped(emulators, "firestore"):
        for name, operation in FIRESTORE_OPERATIONS.items():
            start = time.monotonic()
            try:
                operation(services)
                outcome = "answered"
            except BackendUnavailable:
                outcome = "503"
            except Exception as error:  # the report names what went wrong
                outcome = type(error).__name__
            elapsed = time.monotonic() - start
            outcomes[name] = outcome if elapsed < BOUND else f"{outcome} after {elapsed:.1f}s"
    assert outcomes == dict.fromkeys(FIRESTORE_OPERATIONS, "503")


def test_firestore_streams_are_read_on_the_thread_that_waits_for_them(app, owner):
    """The guard's read (BatchGetDocuments) and every query (RunQuery) wait on
    their own call's completion queue, which their deadline ends, not on a
    hand-over from gRPC's shared spin thread, which once left a read waiting
    past its deadline (adminapp/firebase/backend.py). This holds on the pinned
    SDK only while the app builds the Firestore channel itself."""
    services = app.extensions["adminapp"]
    assert services.directory.get(OWNER) is not None  # reads through that channel
    assert [admin.email for admin in services.directory.list()] == [OWNER]
    transport = services.backend.firestore._firestore_api._transport
    for stream in (transport.batch_get_documents, transport.run_query):
        assert isinstance(stream, grpc._channel._SingleThreadedUnaryStreamMultiCallable)


def test_no_thread_sees_the_firestore_client_before_it_is_set_up(app, monkeypatch):
    """Request threads and the background jobs read the backend's client
    without its lock. One that saw the client before its channel and bounds
    were in place would call Firestore without the bound, or make the SDK
    build a channel over the app's and cut the calls under way on it (seen
    as "Channel deallocated" in a background job)."""
    backend = app.extensions["adminapp"].backend
    seen_while_setting_up = []
    original = backend_module._bound_firestore_defaults

    def setting_up(client, budget):
        seen_while_setting_up.append(backend._firestore)  # what another thread sees
        original(client, budget)

    monkeypatch.setattr(backend_module, "_bound_firestore_defaults", setting_up)
    backend.close()  # the next use builds the client again
    assert backend.firestore is not None
    assert seen_while_setting_up == [None]


def test_a_transaction_that_loses_every_attempt_is_a_503_and_writes_nothing(app, store):
    """Firestore aborts a transaction when another writer changed what it
    read; the SDK retries, then gives up with a ValueError. That is a busy
    Firestore, answered with a 503 and Retry-After like an outage, never an
    unhandled error (a 500)."""
    backend = app.extensions["adminapp"].backend
    ref = backend.firestore.collection("contention").document("count")
    ref.set({"n": 0})
    theirs = store.client.collection("contention").document("count")  # another writer

    def overtaken_every_time(transaction):
        n = ref.get(transaction=transaction).get("n")
        theirs.update({"n": firestore.Increment(100)})  # commits before this one
        transaction.update(ref, {"n": n + 1})

    with pytest.raises(Contended) as refused, backend.firestore_call("a contended change"):
        firestore.transactional(overtaken_every_time)(backend.firestore.transaction(max_attempts=3))
    assert isinstance(refused.value, BackendUnavailable) and refused.value.status == 503
    assert ref.get().get("n") == 300  # the other writer's three changes, none of this one's
