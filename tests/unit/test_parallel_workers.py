"""``make test`` runs the suite on several pytest-xdist workers, each with
emulators of its own: running emulators named in the environment, which
they would all share and clear under each other, are refused up front."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adminapp.testing import EMULATOR_HOSTS

ROOT = Path(__file__).resolve().parents[2]
# A quick test file: only the start-up refusal is under test.
ANY_TEST = "tests/unit/test_json_depth.py"


def _pytest(*args: str, tests: str = ANY_TEST, cwd: Path = ROOT, **env: str):
    environment = {name: value for name, value in os.environ.items() if name not in EMULATOR_HOSTS}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, tests],
        cwd=cwd,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", EMULATOR_HOSTS)
def test_workers_refuse_emulators_named_in_the_environment(name):
    run = _pytest("-n", "2", **{name: "127.0.0.1:9"})

    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"{name} name running emulators" in run.stderr
    assert "passed" not in run.stdout


def test_one_process_may_use_them():
    run = _pytest("-n", "0", FIRESTORE_EMULATOR_HOST="127.0.0.1:9")

    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr


# Two tests, one per worker, each making a production app with memory:// rate
# limits, as tests/security/test_headers.py does. Such an app holds the lock
# that keeps a server to one serving process (adminapp/serving_process.py)
# until its process ends.
PRODUCTION_APP_TESTS = """
import os
import secrets
import tempfile

import pytest
from adminapp import create_app
from adminapp.testing import base_config

pytest_plugins = ["adminapp.testing"]

@pytest.mark.parametrize("attempt", [1, 2])
def test_a_production_app(attempt, monkeypatch):
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    create_app(base_config(
        ADMINAPP_ENV="production",
        RATELIMIT_STORAGE_URI="memory://",
        FIREBASE_PROJECT_ID="real-project",
        PUBLIC_URL="https://admin.example.com",
        FIREBASE_WEB_API_KEY="web-api-key",
        FIREBASE_AUTH_DOMAIN="real-project.firebaseapp.com",
        AUDIT_CHAIN_KEY=secrets.token_urlsafe(32),
    ))
    with open(os.environ["SEEN"], "a") as seen:
        print(tempfile.gettempdir(), file=seen)
"""


@pytest.mark.long
def test_each_worker_may_serve_a_production_app_of_its_own(tmp_path):
    """The workers share a parent process (pytest's), and the serving lock
    is keyed by the parent: each worker keeps its lock in a temporary
    directory of its own, or the second app waits 10 s and is refused. The
    directories go at the end; the one they were made in stays."""
    run, outer, used = _run_production_apps(
        tmp_path, "test_production_apps.py", "-n", "2", "--dist", "each"
    )

    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr
    assert "4 passed" in run.stdout
    assert len(set(used)) == 2 and all(path.parent == outer for path in used)
    assert (outer / "kept").exists()
    assert not [path for path in used if path.exists()]  # removed at the end


# A worker slow to end (a loaded machine): pytest-xdist's main process kills
# a worker that has not exited 10 s after it reported its session finished,
# which can come before the worker's own unconfigure hooks.
SLOW_TO_END = """
import time

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        time.sleep(30)
"""


@pytest.mark.long
def test_a_worker_killed_as_it_ends_has_removed_its_directory(tmp_path):
    (tmp_path / "conftest.py").write_text(SLOW_TO_END)

    run, outer, used = _run_production_apps(
        tmp_path, "test_production_apps.py", "-n", "2", "--dist", "each"
    )

    assert "4 passed" in run.stdout, run.stdout + run.stderr
    assert len(set(used)) == 2 and (outer / "kept").exists()
    assert not [path for path in used if path.exists()]


@pytest.mark.long
def test_a_pytest_that_a_worker_starts_keeps_the_temporary_directory_it_is_given(tmp_path):
    """A test's own pytest run inherits the worker's environment, worker name
    included, but it is no worker: it neither makes nor removes a directory
    (removing an inherited one would take the worker's files with it)."""
    run, outer, used = _run_production_apps(
        tmp_path,
        "test_production_apps.py::test_a_production_app[1]",
        "-n",
        "0",
        PYTEST_XDIST_WORKER="gw0",
    )

    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr
    assert used == [outer]
    assert (outer / "kept").exists()


def _run_production_apps(tmp_path: Path, tests: str, *args: str, **env: str):
    """Run PRODUCTION_APP_TESTS with ``tmp_path / "tmp"`` (holding a file of
    the caller's) as TMPDIR; the run, that directory, and the temporary
    directory each test saw."""
    (tmp_path / "test_production_apps.py").write_text(PRODUCTION_APP_TESTS)
    outer = tmp_path / "tmp"
    outer.mkdir()
    (outer / "kept").write_text("a file of the caller's\n")
    seen = tmp_path / "seen"
    run = _pytest(
        *args,
        "--rootdir",
        str(tmp_path),
        tests=tests,
        cwd=tmp_path,
        PYTHONPATH=str(ROOT),
        TMPDIR=str(outer),
        SEEN=str(seen),
        **env,
    )
    used = [Path(line) for line in seen.read_text().split()] if seen.exists() else []
    return run, outer, used
