"""Fixtures shared by every test: real emulators, started once per run
(adminapp.testing), and what only adminapp's own tests need."""

from __future__ import annotations

import itertools
import os

# Quiet gRPC's connection chatter; must be set before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import pytest

# Before anything imports it (hence E402 below), so that its helpers'
# asserts explain themselves.
pytest.register_assert_rewrite("adminapp.testing")

from adminapp.testing import running_app  # noqa: E402
from adminapp.testing.firebase import OWNER  # noqa: E402
from tests.support.cookies import COOKIE_MODES  # noqa: E402

# The emulators, their stores, config, client, site and signed_in: the same
# fixtures a product's tests use. This file adds adminapp's own.
pytest_plugins = ["adminapp.testing"]


@pytest.fixture
def owner(auth_emulator, store):
    """A Firebase user with an owner admin document: the usual signed-in person."""
    user = auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner")
    return user


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "both_cookie_modes: run once with COOKIE_MODE=standard and once with hosting "
        "(tests/support/cookies.py)",
    )
    config.addinivalue_line(
        "markers",
        "long: seconds of wall time in one test (a server's start and refusal, a wait for a "
        "lock, a scan of every page); run first (pytest_collection_modifyitems)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``long`` first, one file's after another's in turn,
    then the others in their order. pytest-xdist hands each worker its next
    test as it finishes one (``--maxschedchunk=1``): the long ones start
    early, spread over the workers, while the short tests fill the cores.
    Left where they fall, five of them (a file's worth) ran last on one
    worker while the others had finished, about 50 s of a 300-s run; taken
    a file at a time, a file's waits (gunicorn refusals that each wait 10 s
    for a lock) fell on every worker at once and left the cores idle
    (docs/testing.md)."""
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        if item.get_closest_marker("long"):
            by_file.setdefault(str(item.path), []).append(item)
    long_first = [
        item
        for turn in itertools.zip_longest(*by_file.values())
        for item in turn
        if item is not None
    ]
    chosen = set(long_first)
    items[:] = [*long_first, *(item for item in items if item not in chosen)]


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("both_cookie_modes") and (
        "cookie_mode" in metafunc.fixturenames
    ):
        metafunc.parametrize("cookie_mode", COOKIE_MODES)


@pytest.fixture
def cookie_mode() -> str:
    """COOKIE_MODE of the ``app`` fixture (unless its config names one)."""
    return "standard"


@pytest.fixture
def app(clean, config, cookie_mode):
    """adminapp.testing's app, in each cookie mode where a test asks."""
    with running_app({"COOKIE_MODE": cookie_mode, **config}) as application:
        yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def signed_in_as(app, auth_emulator, store):
    """Make an admin with a role and return a test client signed in as them."""
    from adminapp.testing.flask_client import sign_in

    def make(email: str, role: str, **fields):
        auth_emulator.create_user(email)
        store.add_admin(email, role, **fields)
        client = app.test_client()
        sign_in(client, auth_emulator, email)
        return client

    return make


@pytest.fixture
def smtp():
    """A real SMTP server (plain, no TLS) that records the messages it accepts."""
    from tests.support.mail import start_smtp

    server = start_smtp()
    yield server
    server.stop()


@pytest.fixture
def outbox(auth_emulator):
    """Reset emails the Auth emulator records from now on (firebase mode)."""
    from tests.support.reset import FirebaseOutbox

    return FirebaseOutbox(auth_emulator)
