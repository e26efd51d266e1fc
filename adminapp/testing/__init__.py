"""Fixtures for testing a product (and adminapp itself) on the real emulators.

A product's ``tests/conftest.py`` loads them::

    pytest_plugins = ["adminapp.testing"]

and its tests then have:

* ``emulators`` (once per run): the Firebase Auth and Firestore emulators,
  started on free ports (or those named by ``FIREBASE_AUTH_EMULATOR_HOST``
  and ``FIRESTORE_EMULATOR_HOST``), stopped at the end. They run on Node
  from ``ADMINAPP_NODE_MODULES`` (adminapp's package.json's packages);
* ``clean``: both emulators emptied before the test; ``auth_emulator`` and
  ``store`` (:class:`~adminapp.testing.firebase.Store`) on them;
* ``config``: the app's settings (override the fixture to add some); the
  app is made with ``create_app(config)``, so installed products (the
  ``adminapp.products`` entry points) are mounted as in production;
* ``app``, ``client``: that app, and an anonymous test client;
* ``site``: the app served over HTTP on a loopback port (its base URL), for
  a browser;
* ``signed_in``: ``signed_in("notes.write", locale="ko")`` is a test client
  signed in, second factor included, as an admin holding those
  permissions (the least built-in role that holds them all).

``post_form(client, path, data)`` submits a form with its CSRF token, and
:func:`assert_catalogs_complete` is the translation check adminapp runs on
its own catalogs.

The fixtures' names are not those of this package's modules
(``emulator_control``, ``flask_client``, …), which they would hide.

Not a ``pytest11`` entry point on purpose: installing adminapp adds no
fixtures to a project that did not ask for them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from adminapp import create_app
from adminapp.domain.roles import ROLES
from adminapp.testing import emulator_control, flask_client
from adminapp.testing.catalogs import assert_catalogs_complete
from adminapp.testing.firebase import AuthEmulator, Store, firestore_client
from adminapp.testing.flask_client import post_form
from adminapp.testing.settings import PROJECT_ID, base_config
from adminapp.testing.url_builders import share_url_builders
from adminapp.web.extensions import limiter
from adminapp.web.permissions import PERMISSIONS_KEY

__all__ = [
    "assert_catalogs_complete",
    "base_config",
    "least_role_holding",
    "post_form",
    "running_app",
]

# Emulators already running, named by the environment (emulator_control.start).
EMULATOR_HOSTS = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")

# Quiet gRPC's connection chatter; must be set before grpc is first used.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


# The temporary directory a pytest-xdist worker made for itself
# (pytest_configure), with the tempfile.tempdir and TMPDIR it replaced.
_WORKER_TMP = pytest.StashKey[tuple[str, str | None, str | None]]()


def pytest_configure(config: pytest.Config) -> None:
    # Every pytest-xdist worker starts and clears its own emulators. Emulators
    # named in the environment would be one pair for all of them, each worker
    # emptying them under the others' tests: refuse, before any test runs.
    workers = config.getoption("numprocesses", default=None)
    named = [name for name in EMULATOR_HOSTS if os.environ.get(name)]
    if workers and named:
        raise pytest.UsageError(
            f"{' and '.join(named)} name running emulators, which parallel workers "
            "would share and clear under each other's tests: run without -n "
            "(or with -n 0), or unset them and let each worker start its own."
        )
    # The workers are separate runs that share one parent, pytest's. The
    # lock that keeps a production app with memory:// rate limits to one
    # serving process per parent (adminapp/serving_process.py) would take
    # them for two processes of one server and refuse the second worker's
    # app after a 10 s wait. The lock lives in the temporary directory: give
    # each worker its own, for itself and the processes it starts. Only a
    # worker (xdist gives it ``workerinput``), not a pytest that a test starts
    # and that inherits the worker's environment.
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        own = tempfile.mkdtemp(prefix=f"adminapp-tests-{workerinput['workerid']}-")
        config.stash[_WORKER_TMP] = (own, tempfile.tempdir, os.environ.get("TMPDIR"))
        tempfile.tempdir = os.environ["TMPDIR"] = own


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Here, not only at unconfigure: pytest-xdist's worker tells the main
    # process it has finished right after this hook, and the main process
    # kills a worker that has not exited 10 s later; on a loaded machine
    # that came before the worker's unconfigure (seen: the directory left).
    _remove_worker_tmp(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    _remove_worker_tmp(config)  # a run that ended before its session did


def _remove_worker_tmp(config: pytest.Config) -> None:
    """Remove the directory this worker made (never a TMPDIR it inherited),
    and point the temporary files back where they went before."""
    made = config.stash.get(_WORKER_TMP, None)
    if made is None:
        return
    own, tempdir, inherited = made
    del config.stash[_WORKER_TMP]
    shutil.rmtree(own, ignore_errors=True)
    tempfile.tempdir = tempdir
    if inherited is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = inherited


@pytest.fixture(scope="session")
def emulators(request) -> Iterator[emulator_control.Emulators]:
    log_dir = request.config.rootpath / ".test-logs"
    # Each pytest-xdist worker starts its own emulators: their logs go to a
    # folder of its own ("gw0", "gw1", ...).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        log_dir = log_dir / worker
    running = emulator_control.start(PROJECT_ID, log_dir=log_dir)
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
    """Empty emulators for each test that uses them."""
    emulators.clear()
    return emulators


@pytest.fixture
def auth_emulator(clean) -> AuthEmulator:
    return AuthEmulator(clean.auth_host, PROJECT_ID)


@pytest.fixture
def store(clean) -> Store:
    return Store(firestore_client(PROJECT_ID))


@pytest.fixture
def config() -> dict[str, str]:
    return base_config()


class _SharedTemplateCode(BytecodeCache):
    """Jinja's bytecode cache, in this process's memory.

    Every test makes an app of its own, and each app's Jinja environment
    would lex, parse and compile again every template the test renders:
    about a tenth of the suite's CPU, measured (docs/testing.md). The apps
    share the compiled code instead. Jinja keys an entry by the template's
    name and file and uses it only while the source's checksum matches, and
    every app sets Jinja up the same way (create_app), so what a test renders
    is what a fresh compile would give.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


@contextmanager
def running_app(config: dict[str, str]) -> Iterator[Flask]:
    """``create_app(config)`` for a test, with fresh rate limits, closed after."""
    share_url_builders()
    application = create_app(config)
    application.config["TESTING"] = True
    application.jinja_env.bytecode_cache = _TEMPLATE_CODE
    limiter.reset()
    try:
        yield application
    finally:
        application.extensions["adminapp"].close()


@pytest.fixture
def app(clean, config) -> Iterator[Flask]:
    with running_app(config) as application:
        yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def site(app) -> Iterator[str]:
    """The app served over real HTTP on a loopback port, named localhost
    (the passkeys' RP ID in development); its base URL."""
    from adminapp.testing.live import serve_on_localhost

    with serve_on_localhost(app) as url:
        yield url


def least_role_holding(app: Flask, permissions: tuple[str, ...]) -> str:
    """The least built-in role holding every one of ``permissions``."""
    registry = app.extensions[PERMISSIONS_KEY]
    for role in ROLES:
        if set(permissions) <= registry.of_role(role):
            return role
    raise ValueError(f"No role holds all of {sorted(permissions)}: is each one declared?")


@pytest.fixture
def signed_in(app, auth_emulator, store):
    """``signed_in(*permissions, email=..., **admin_fields)``: a test client
    signed in as an admin who holds ``permissions`` (``locale="ko"`` and the
    other fields go on their admin document)."""
    count = 0

    def make(*permissions: str, email: str | None = None, **fields):
        nonlocal count
        count += 1
        email = email or f"admin{count}@example.com"
        auth_emulator.create_user(email)
        store.add_admin(email, least_role_holding(app, permissions), **fields)
        signed = app.test_client()
        flask_client.sign_in(signed, auth_emulator, email)
        return signed

    return make
