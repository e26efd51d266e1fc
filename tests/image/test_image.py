"""The container image, as built by `make image`, run here as Cloud Run runs
it: its own command, its own user, PORT from the environment; against the
local emulators (with buildah's chroot isolation the container shares the
host's network, so the emulators' loopback addresses work as they are).

`make image-test` builds the image and runs these with ADMINAPP_IMAGE naming
it; without it they are skipped (`make test` does not build images).
"""

from __future__ import annotations

import contextlib
import email.parser
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from adminapp.testing.emulator_control import free_port
from adminapp.testing.firebase import DEFAULT_PASSWORD, OWNER
from tests.support.instances import Instance
from tests.support.settings import LOG_DIR, base_config

IMAGE = os.environ.get("ADMINAPP_IMAGE", "")
pytestmark = pytest.mark.skipif(
    not IMAGE, reason="the image's tests run with `make image-test`, which builds it first"
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
# The image's user (Dockerfile: USER 10001:10001).
APP_UID = APP_GID = 10001
# Seconds the server may take to answer after `buildah run`: a cold start in
# a fresh chroot on a loaded machine. Polled, so a quick start is quick.
START_DEADLINE = 180
# What the image's /app holds: what serving needs, nothing else.
APP_FILES = {"wsgi.py", "gunicorn.conf.py", "templates", "adminapp", "__pycache__"}
# Named by requirements-dev.txt and needed by nothing the app runs.
DEV_PACKAGES = {"pytest", "ruff", "playwright", "hypothesis", "requests-mock", "aiosmtpd"}
# The local base (scripts/local-base-image.sh) is about 130 MB, the image
# about 275 MB: a budget that an accidental copy of .venv or node_modules
# (hundreds of MB each) would break.
SIZE_BUDGET_MB = 400


@dataclass
class Served(Instance):
    """The image serving: its working container and the PORT it was given."""

    container: str
    port: int


def buildah(*args: str, timeout: float = 120) -> str:
    return subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=timeout, check=True
    ).stdout.strip()


@contextlib.contextmanager
def working_container(purpose: str) -> Iterator[str]:
    name = f"adminapp-image-test-{purpose}-{secrets.token_hex(4)}"
    buildah("from", "--pull=never", "--name", name, IMAGE)
    try:
        yield name
    finally:
        buildah("rm", name)


@pytest.fixture(scope="module")
def image_config() -> dict:
    return json.loads(buildah("inspect", "--type", "image", IMAGE))["OCIv1"]["config"]


@pytest.fixture(scope="module")
def rootfs() -> Iterator[Path]:
    """The image's file system, read from the host (a container never run)."""
    with working_container("files") as container:
        path = Path(buildah("mount", container))
        try:
            yield path
        finally:
            buildah("umount", container)


@pytest.fixture(scope="module")
def settings_file() -> Iterator[Path]:
    """The secrets, in a .env the app reads at start-up (wsgi.py), mounted
    into the container: not on `buildah run`'s command line, where `ps`
    would show them. Readable by the image's user only."""
    folder = Path(tempfile.mkdtemp(prefix="adminapp-image-test-"))
    path = folder / ".env"
    config = base_config()
    path.write_text(
        f"SECRET_KEY={config['SECRET_KEY']}\nMFA_ENCRYPTION_KEY={config['MFA_ENCRYPTION_KEY']}\n"
    )
    os.chown(path, APP_UID, APP_GID)
    path.chmod(0o400)
    yield path
    path.unlink()
    folder.rmdir()


def run_options(emulators, settings_file: Path, **extra: str) -> list[str]:
    public = {
        key: value
        for key, value in base_config().items()
        if key not in ("SECRET_KEY", "MFA_ENCRYPTION_KEY")
    }
    settings = {**public, **emulators.env, "GRPC_VERBOSITY": "ERROR", **extra}
    return [
        "--isolation=chroot",
        f"--volume={settings_file}:/app/.env:ro",
        *(f"--env={name}={value}" for name, value in settings.items()),
    ]


@pytest.fixture(scope="module")
def served(emulators, image_config, settings_file) -> Iterator[Served]:
    """The image's own command (Entrypoint + Cmd), on a free PORT."""
    port = free_port()
    command = [*(image_config.get("Entrypoint") or []), *image_config["Cmd"]]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"image-{port}.log"
    with working_container("serve") as container, open(log, "wb") as output:
        process = subprocess.Popen(
            [
                "buildah",
                "run",
                *run_options(emulators, settings_file, PORT=str(port)),
                container,
                "--",
                *command,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for_health(url, process, log)
            yield Served(url=url, process=process, log=log, container=container, port=port)
        finally:
            _stop(process, port)


def _wait_for_health(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the image exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.25)
    pytest.fail(f"the image did not answer within {START_DEADLINE}s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen, port: int) -> None:
    """gunicorn's graceful stop (SIGTERM to its master, as Cloud Run sends
    it), then whatever is left of the process group we started."""
    for pid in {_parent(pid) for pid in listening_pids(port)}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def listening_pids(port: int) -> set[int]:
    """The processes holding a listening TCP socket on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    pids = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pids.add(int(fd_dir.parent.name))
    return pids


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _ids(pid: int) -> tuple[set[int], set[int]]:
    """(uids, gids) of a process: real, effective, saved and file system."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return set(map(int, status["Uid"].split())), set(map(int, status["Gid"].split()))


# -- it serves -------------------------------------------------------------------


def test_it_serves_health_and_the_login_page_on_port(served):
    health = requests.get(f"{served.url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}

    login = requests.get(f"{served.url}/admin/login", timeout=10)
    assert login.status_code == 200
    assert 'name="csrf-token"' in login.text
    assert login.headers["Cache-Control"] == "no-store"
    # The compiled Korean catalog is in use.
    korean = requests.get(
        f"{served.url}/admin/login", headers={"Accept-Language": "ko"}, timeout=10
    )
    assert "로그인" in korean.text


def test_an_owner_made_with_the_image_s_cli_signs_in_on_the_emulators(
    served, emulators, settings_file, auth_emulator
):
    # `flask admins add` inside the image: the Admin SDK and the Firestore
    # client (gRPC) of the image reach the emulators.
    subprocess.run(
        [
            "buildah",
            "run",
            *run_options(emulators, settings_file),
            served.container,
            "--",
            "flask",
            "--app",
            "wsgi",
            "admins",
            "add",
            OWNER,
            "--role",
            "owner",
            "--password",
            DEFAULT_PASSWORD,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    cookie = served.sign_in(auth_emulator.sign_in(OWNER))  # the second factor included
    me = served.get("/admin/api/me", cookie, headers={"Accept": "application/json"})
    assert me.status_code == 200
    assert me.json()["admin"]["email"] == OWNER
    assert served.get("/admin/api/me", headers={"Accept": "application/json"}).status_code == 401


def test_the_catalogs_were_compiled_at_build_time(served):
    assert "compiled translation catalogs" not in served.output()


# -- as whom ---------------------------------------------------------------------


def test_the_serving_processes_run_as_the_image_s_user_not_root(served, image_config):
    assert image_config["User"] == f"{APP_UID}:{APP_GID}"
    workers = listening_pids(served.port)
    assert len(workers) == 2  # one listening socket per worker (reuse_port)
    master = {_parent(pid) for pid in workers}
    assert len(master) == 1
    for pid in workers | master:
        assert _ids(pid) == ({APP_UID}, {APP_GID}), pid


def test_the_app_s_files_are_read_only_for_its_user(rootfs):
    for folder in (rootfs / "app", rootfs / "opt" / "venv"):
        for path in [folder, *folder.rglob("*")]:
            info = path.lstat()
            assert info.st_uid == 0, path
            if not path.is_symlink():  # a link's own mode means nothing
                assert not info.st_mode & 0o022, path  # no group or other write


def test_the_image_runs_its_command_on_port(image_config):
    assert image_config["Cmd"] == [
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--no-control-socket",
        "wsgi:app",
    ]
    assert image_config["WorkingDir"] == "/app"
    assert "PORT=8080" in image_config["Env"]
    assert "8080/tcp" in image_config["ExposedPorts"]


# -- what it holds ----------------------------------------------------------------


def test_app_holds_only_what_serving_needs(rootfs):
    app = rootfs / "app"
    assert {path.name for path in app.iterdir()} == APP_FILES
    names = {part for path in app.rglob("*") for part in path.relative_to(app).parts}
    assert not {"tests", "devtools", "node_modules", ".env", ".git", "scripts"} & names
    for locale in ("en", "ko"):
        folder = app / "adminapp" / "translations" / locale / "LC_MESSAGES"
        mo, po = folder / "messages.mo", folder / "messages.po"
        assert mo.stat().st_mtime >= po.stat().st_mtime


def test_only_the_runtime_packages_are_installed(rootfs):
    site = next((rootfs / "opt" / "venv" / "lib").glob("python3.*/site-packages"))
    installed = {}
    for info in site.glob("*.dist-info"):
        metadata = email.parser.Parser().parsestr((info / "METADATA").read_text())
        installed[canonicalize_name(metadata["Name"])] = metadata
    needed = _runtime_closure(installed, _python_version(rootfs))
    # Exactly what requirements.txt needs: no pip, no setuptools, no dev package.
    assert set(installed) == needed
    dev_only = _requirement_names(ROOT / "requirements-dev.txt") - needed
    assert dev_only >= DEV_PACKAGES
    assert not dev_only & set(installed)


def test_there_is_no_node(rootfs):
    for folder in ("usr/bin", "usr/local/bin", "bin", "opt/venv/bin"):
        for name in ("node", "nodejs", "npm", "npx"):
            assert not (rootfs / folder / name).exists(), f"/{folder}/{name}"
    assert not [path for path in rootfs.rglob("node_modules") if path.is_dir()]


def test_its_size_is_reported_and_within_budget(record_property, capsys):
    size = buildah("images", "--format", "{{.Size}}", IMAGE)
    record_property("image_size", size)
    with capsys.disabled():
        print(f"\n{IMAGE}: {size}", file=sys.stderr)
    megabytes = _megabytes(size)
    assert megabytes < SIZE_BUDGET_MB
    # docs/deploy.md records the size: it must still be about right.
    recorded = re.search(r"image size \| \*\*([\d.]+ MB)\*\*", DEPLOY_DOC.read_text())
    assert recorded, "docs/deploy.md records no image size"
    assert abs(_megabytes(recorded.group(1)) - megabytes) <= 0.1 * megabytes, (
        f"docs/deploy.md says {recorded.group(1)}, the image is {size}: update it"
    )


def _megabytes(size: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+) (kB|MB|GB)", size).groups()
    return float(number) * {"kB": 1e-3, "MB": 1, "GB": 1e3}[unit]


# -- helpers for the package check ---------------------------------------------------


def _python_version(rootfs: Path) -> str:
    config = (rootfs / "opt" / "venv" / "pyvenv.cfg").read_text()
    return re.search(r"^version(?:_info)? = (\S+)", config, re.M).group(1)


def _requirement_names(path: Path) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in _requirements(path)}


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _runtime_closure(installed: dict, python_version: str) -> set[str]:
    """requirements.txt's packages and, through each installed package's
    Requires-Dist (markers evaluated for the image's Python), all they need."""
    environment = {
        **default_environment(),
        "python_full_version": python_version,
        "python_version": ".".join(python_version.split(".")[:2]),
        "implementation_version": python_version,
    }
    needed: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = _requirements(ROOT / "requirements.txt")
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        assert name in installed, f"{name} is required but not installed"
        needed.add(name)
        for line in installed[name].get_all("Requires-Dist") or []:
            dependency = Requirement(line)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(
                dependency.marker.evaluate({**environment, "extra": extra}) for extra in extras
            ):
                todo.append(dependency)
    return needed
