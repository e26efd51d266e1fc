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


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name not in EMULATOR_HOSTS}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, ANY_TEST],
        cwd=ROOT,
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
