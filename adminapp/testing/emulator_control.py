"""Start, clear and stop the local Firebase emulators.

Used by ``make run``, the test suite, a product's tests (``adminapp.testing``)
and ``make bench``:

* Auth: firebase-tools' emulator (``firebase emulators:start --only auth``).
* Firestore: ``adminapp/testing/emulator/firestore-emulator.mjs`` (the official emulator needs
  Java 21, which this project does not require), which enforces Firestore's
  preconditions, atomic commits and transactions
  (``adminapp/testing/emulator/firestore-semantics.mjs``).

When ``FIREBASE_AUTH_EMULATOR_HOST`` / ``FIRESTORE_EMULATOR_HOST`` already
point at running emulators, those are used and left running. Both run on
Node from the npm packages of ``adminapp.node_modules()`` (the
checkout's, or ``ADMINAPP_NODE_MODULES`` for an installed adminapp).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests

from adminapp import layout
from adminapp.testing import supervisor

DEFAULT_PROJECT = "demo-adminapp"
SCRIPTS = Path(__file__).resolve().parent / "emulator"
# Seconds an emulator may take to answer before the start counts as failed.
# firebase-tools loads a large bundle: seconds on a quiet machine, over 90 s
# on two cores shared with other jobs (seen). Polled, so a quick start costs
# no more; only a dead emulator waits this long.
START_TIMEOUT = 300
HTTP_TIMEOUT = 5


def password_sign_in(
    auth_host: str, email: str, password: str, api_key: str, tenant_id: str | None = None
) -> str:
    """A fresh ID token from the Auth emulator, as the JS SDK gets one by
    signing in with email and password (to a tenant's users, with
    ``tenant_id``, as the SDK does when ``auth.tenantId`` is set)."""
    body = {"email": email, "password": password, "returnSecureToken": True}
    if tenant_id:
        body["tenantId"] = tenant_id
    response = requests.post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword",
        params={"key": api_key},
        json=body,
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()
    return response.json()["idToken"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class Emulators:
    project_id: str
    auth_host: str
    firestore_host: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    log_dir: Path | None = None
    # True serves Firestore without the layer that enforces its preconditions
    # and transactions: only for the test that shows what the layer prevents.
    upstream_semantics: bool = False
    # The folder of the running Auth emulator's firebase.json: one per start,
    # removed when it stops, so that runs leave no folders behind.
    auth_config: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "FIREBASE_AUTH_EMULATOR_HOST": self.auth_host,
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
        }

    def clear(self) -> None:
        """Delete every Auth user and every Firestore document."""
        project = quote(self.project_id)
        requests.delete(
            f"http://{self.auth_host}/emulator/v1/projects/{project}/accounts",
            timeout=HTTP_TIMEOUT,
        ).raise_for_status()
        requests.delete(
            f"http://{self.firestore_host}/emulator/v1/projects/{project}"
            "/databases/(default)/documents",
            timeout=HTTP_TIMEOUT,
        ).raise_for_status()

    # -- fault injection for tests ------------------------------------------

    def stop_firestore(self) -> None:
        supervisor.terminate(self.processes.pop("firestore"))

    def start_firestore(self) -> None:
        port = int(self.firestore_host.rsplit(":", 1)[1])
        self.processes["firestore"] = _start_firestore(
            port, self.log_dir, upstream_semantics=self.upstream_semantics
        )

    def stop_auth(self) -> None:
        supervisor.terminate(self.processes.pop("auth"))
        self._remove_auth_config()

    def start_auth(self) -> None:
        port = int(self.auth_host.rsplit(":", 1)[1])
        self.auth_config = Path(tempfile.mkdtemp(prefix="adminapp-auth-emulator-"))
        self.processes["auth"] = _start_auth(self.project_id, port, self.log_dir, self.auth_config)

    def stop(self) -> None:
        for name in list(self.processes):
            supervisor.terminate(self.processes.pop(name))
        self._remove_auth_config()

    def _remove_auth_config(self) -> None:
        # After the process has stopped: firebase-tools runs in that folder.
        if self.auth_config is not None:
            shutil.rmtree(self.auth_config, ignore_errors=True)
            self.auth_config = None


def start(
    project_id: str = DEFAULT_PROJECT,
    *,
    auth_port: int | None = None,
    firestore_port: int | None = None,
    log_dir: Path | None = None,
) -> Emulators:
    """Use running emulators named in the environment, or start our own."""
    auth_host = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    firestore_host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    emulators = Emulators(
        project_id=project_id,
        auth_host=auth_host or f"127.0.0.1:{auth_port or free_port()}",
        firestore_host=firestore_host or f"127.0.0.1:{firestore_port or free_port()}",
        log_dir=log_dir,
    )
    try:
        if not firestore_host:
            emulators.start_firestore()
        if not auth_host:
            emulators.start_auth()
    except BaseException:
        emulators.stop()
        raise
    return emulators


def _start_firestore(
    port: int, log_dir: Path | None, *, upstream_semantics: bool = False
) -> subprocess.Popen:
    command = ["node", str(_emulator_script()), "--port", str(port)]
    log_name = "firestore-emulator.log"
    if upstream_semantics:
        command.append("--upstream-semantics")
        log_name = "firestore-emulator-upstream.log"
    process = _spawn(command, log_dir, log_name)
    _wait_until(f"http://127.0.0.1:{port}/", process, "Firestore emulator")
    return process


def _start_auth(
    project_id: str, port: int, log_dir: Path | None, config_dir: Path
) -> subprocess.Popen:
    # firebase-tools reads ports from a firebase.json; write one with free
    # ports for the hub and logging so that several runs can coexist.
    (config_dir / "firebase.json").write_text(
        json.dumps(
            {
                "emulators": {
                    "auth": {"host": "127.0.0.1", "port": port},
                    "hub": {"host": "127.0.0.1", "port": free_port()},
                    "logging": {"host": "127.0.0.1", "port": free_port()},
                    "ui": {"enabled": False},
                    "singleProjectMode": True,
                }
            }
        )
    )
    firebase = node_modules() / ".bin" / "firebase"
    process = _spawn(
        [
            str(firebase),
            "emulators:start",
            "--only",
            "auth",
            "--project",
            project_id,
            "--config",
            str(config_dir / "firebase.json"),
        ],
        log_dir,
        "auth-emulator.log",
        cwd=config_dir,
        # CI=true stops firebase-tools from fetching news from the internet.
        extra_env={"CI": "true", "NODE_OPTIONS": _with_lazy_validators()},
    )
    _wait_until(f"http://127.0.0.1:{port}/", process, "Auth emulator")
    return process


# Preloaded into the Auth emulator: its validators compiled on first use,
# not all at start-up (the script says why; about 7 s of CPU a start).
LAZY_VALIDATORS = SCRIPTS / "auth-validators-on-first-use.cjs"


def _with_lazy_validators() -> str:
    """NODE_OPTIONS for the Auth emulator: the caller's, and the preload."""
    inherited = os.environ.get("NODE_OPTIONS", "")
    return f'{inherited} --require "{LAZY_VALIDATORS}"'.strip()


def _spawn(
    command: list[str],
    log_dir: Path | None,
    log_name: str,
    *,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    output = subprocess.DEVNULL
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        output = open(log_dir / log_name, "ab")  # noqa: SIM115  (lives as long as the process)
    env = {**os.environ, **(extra_env or {})}
    # Its own process group (supervisor.spawn), so stopping it also stops
    # what it started.
    return supervisor.spawn(
        command,
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def node_modules() -> Path:
    """The npm packages the emulators run from (firebase-tools and
    @firestore-emulator/server, as adminapp's package.json pins them):
    ``ADMINAPP_NODE_MODULES`` when set, else the checkout's, else the
    current directory's (a product's repository with its own package.json)."""
    named = os.environ.get("ADMINAPP_NODE_MODULES")
    if named:
        return Path(named).resolve()
    checkout = layout.CHECKOUT / "node_modules"
    return checkout if checkout.is_dir() else Path.cwd() / "node_modules"


def _emulator_script() -> Path:
    """emulator/firestore-emulator.mjs, where Node resolves its imports from
    the emulators' node_modules. Node looks for packages beside and above
    the script, not on a search path, so an installed copy (in
    site-packages) is run from a private directory that holds the scripts
    and a link to those node_modules."""
    scripts = SCRIPTS
    modules = node_modules().resolve()
    if not (modules / "@firestore-emulator" / "server").is_dir():
        raise RuntimeError(
            f"The Firestore emulator's npm packages are not in {modules}: run npm ci "
            f"where adminapp's package.json is, or name that node_modules in "
            f"ADMINAPP_NODE_MODULES."
        )
    if any((folder / "node_modules").resolve() == modules for folder in scripts.parents):
        return scripts / "firestore-emulator.mjs"
    private = Path(tempfile.mkdtemp(prefix="adminapp-firestore-emulator-"))
    for script in scripts.glob("*.mjs"):
        shutil.copy2(script, private / script.name)
    (private / "node_modules").symlink_to(modules, target_is_directory=True)
    return private / "firestore-emulator.mjs"


def _wait_until(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode} while starting")
        if _answers(url):
            return
        time.sleep(0.2)
    supervisor.terminate(process)
    raise RuntimeError(f"{name} did not answer at {url} within {START_TIMEOUT}s")
