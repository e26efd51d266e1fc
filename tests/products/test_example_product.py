"""The example product as a user installs it (docs/extending.md): adminapp
and examples/notes installed with pip into a fresh venv (their dependencies
from the package registry, pinned by constraints.txt), then the product's
own tests, run from its folder on adminapp.testing's fixtures, with the
installed copies, not this checkout's.

It runs inside the suite rather than after it: its installs wait mostly on
the disk and the registry, and the other workers' tests fill that time
(docs/testing.md). It builds from a copy of the sources, because setuptools
builds in the source folder, and a ``build/`` or ``*.egg-info`` appearing
in the checkout would be read by the tests that scan the checkout's files
while they run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What `pip install ".[testing]" ./examples/notes` reads from the checkout.
SOURCES = ("pyproject.toml", "README.md", "constraints.txt", "adminapp", "templates", "examples")
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", ".pytest_cache")
# A fresh machine downloads every dependency; the product's tests start
# their own emulators.
INSTALL_TIMEOUT = 900
TESTS_TIMEOUT = 600
# What this worker's own emulators put in the environment: the product's
# tests start theirs, and adminapp.testing refuses emulators named there.
WORKER_ONLY = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "PYTEST_")


def run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.long
def test_the_example_product_installed_with_pip_passes_its_own_tests(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, sources / name, ignore=LEFT_OUT)
        else:
            shutil.copy2(ROOT / name, sources / name)
    env = {name: value for name, value in os.environ.items() if not name.startswith(WORKER_ONLY)}
    env["ADMINAPP_NODE_MODULES"] = str(ROOT / "node_modules")

    # A venv without a pip of its own: this checkout's pip (the Makefile's
    # pinned version) installs into it, which spares a pip install and its
    # upgrade on every run.
    product_venv = tmp_path / "venv"
    venv.create(product_venv, with_pip=False)
    python = str(product_venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    run(
        [*pip, "install", "--quiet", "-c", "constraints.txt", ".[testing]", "./examples/notes"],
        cwd=sources,
        env=env,
        timeout=INSTALL_TIMEOUT,
    )

    # The pytest script, not python -m, so that the installed copies are
    # imported, not the folder's.
    output = run(
        [str(product_venv / "bin" / "pytest"), "-q"],
        cwd=sources / "examples" / "notes",
        env=env,
        timeout=TESTS_TIMEOUT,
    )
    assert re.search(r"\b\d+ passed\b", output) and " failed" not in output, output
    # The copies under test are the installed ones.
    site = run(
        [
            python,
            "-c",
            "import adminapp, adminapp_notes; print(adminapp.__file__, adminapp_notes.__file__)",
        ],
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert all(str(product_venv) in path for path in site.split()), site
