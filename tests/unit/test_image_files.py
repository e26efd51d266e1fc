"""The Dockerfile and what goes into a build (docs/deploy.md, "The image").

The built image itself is checked by tests/image (make image-test); these
check the files, quickly: the base is a build argument defaulting to the
official slim image, only the runtime requirements are installed, the user
is not root, and .gcloudignore uploads nothing but the Dockerfile's inputs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# What the Dockerfile copies from the build context.
BUILD_INPUTS = {"requirements.txt", "constraints.txt", "wsgi.py", "gunicorn.conf.py"}
BUILD_FOLDERS = ("adminapp/", "templates/")
# Made inside the image or not needed there.
NEVER_COPIED = (".mo", ".pyc", ".pot")


def _instructions(name: str) -> list[str]:
    return re.findall(rf"^{name} (.+)$", DOCKERFILE, re.M)


def test_the_base_is_a_build_argument_defaulting_to_the_official_slim_image():
    # The first instruction, so that both stages' FROM can use it.
    assert _instructions("ARG")[0] == "BASE_IMAGE=python:3.11-slim"
    first_arg, first_from = (
        re.search(rf"^{name} ", DOCKERFILE, re.M).start() for name in ("ARG", "FROM")
    )
    assert first_arg < first_from
    assert [line.split()[0] for line in _instructions("FROM")] == ["${BASE_IMAGE}"] * 2


def test_pip_is_the_makefile_s():
    makefile = (ROOT / "Makefile").read_text()
    (pinned,) = re.findall(r"^PIP_VERSION := (\S+)$", makefile, re.M)
    assert f"PIP_VERSION={pinned}" in _instructions("ARG")


def test_only_the_runtime_requirements_are_installed():
    runs = " ".join(_instructions("RUN"))
    assert "-r requirements.txt -c constraints.txt" in runs
    assert "requirements-dev" not in DOCKERFILE
    assert "npm" not in runs and "node" not in runs


def test_it_runs_as_a_numeric_non_root_user_on_port():
    (user,) = _instructions("USER")
    uid, gid = user.split(":")
    assert int(uid) >= 1000 and int(gid) >= 1000
    assert _instructions("CMD") == [
        '["gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"]'
    ]
    assert "bind = [f\"0.0.0.0:{os.environ.get('PORT')" in (ROOT / "gunicorn.conf.py").read_text()


def test_the_cloud_build_upload_is_only_the_dockerfile_s_inputs(tmp_path):
    # git's matcher, on a copy of the tree: .gcloudignore uses .gitignore's
    # syntax (gcloud topic gcloudignore).
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    local_only = [
        ".env",
        ".venv/bin/python",
        "node_modules/firebase/package.json",
        "adminapp/translations/ko/LC_MESSAGES/messages.mo",
        "adminapp/__pycache__/config.cpython-311.pyc",
        ".test-logs/auth-emulator.log",
    ]
    paths = sorted(set(tracked + local_only) - {".gitignore"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    for path in paths:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    (tmp_path / ".gitignore").write_text((ROOT / ".gcloudignore").read_text())
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=tmp_path,
        input="\n".join(paths),
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    uploaded = set(paths) - set(ignored)
    assert uploaded == {
        path
        for path in paths
        if path in BUILD_INPUTS | {"Dockerfile", ".dockerignore"}
        or (
            path.startswith(BUILD_FOLDERS)
            and not path.endswith(NEVER_COPIED)
            and "__pycache__" not in path
        )
    }
    assert ".env" not in uploaded
