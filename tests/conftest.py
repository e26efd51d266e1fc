"""Fixtures shared by every test: real emulators, started once per run."""

from __future__ import annotations

import os

# Quiet gRPC's connection chatter; must be set before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import pytest

from adminapp import create_app
from adminapp.web.extensions import limiter
from devtools import emulators as emulator_control
from tests.support.cookies import COOKIE_MODES
from tests.support.firebase import OWNER, AuthEmulator, Store, firestore_client
from tests.support.settings import LOG_DIR, PROJECT_ID, base_config


@pytest.fixture(scope="session")
def emulators():
    running = emulator_control.start(PROJECT_ID, log_dir=LOG_DIR)
    saved = {name: os.environ.get(name) for name in running.env}
    os.environ.update(running.env)
    yield running
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    running.stop()


@pytest.fixture
def clean(emulators):
    """Empty emulators and fresh rate limits for each test that uses them."""
    emulators.clear()
    yield emulators


@pytest.fixture
def auth_emulator(clean) -> AuthEmulator:
    return AuthEmulator(clean.auth_host, PROJECT_ID)


@pytest.fixture
def store(clean) -> Store:
    return Store(firestore_client(PROJECT_ID))


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
def config() -> dict[str, str]:
    return base_config()


@pytest.fixture
def app(clean, config, cookie_mode):
    application = create_app({"COOKIE_MODE": cookie_mode, **config})
    application.config["TESTING"] = True
    limiter.reset()
    yield application
    application.extensions["adminapp"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def site(app):
    """The app served over real HTTP on a loopback port, named localhost
    (the passkeys' RP ID in development); its base URL."""
    from tests.support.live import serve_on_localhost

    with serve_on_localhost(app) as url:
        yield url


@pytest.fixture
def signed_in_as(app, auth_emulator, store):
    """Make an admin with a role and return a test client signed in as them."""
    from tests.support.web import sign_in

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
