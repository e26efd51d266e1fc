"""``make bench``: what the gate costs, measured against its floor and its alternative.

One run starts the emulators, two copies of the app under gunicorn (same
settings except the session cache: off on one, on on the other) with
``SERVER_TIMING`` and the bench pages on, and drives them with ``wrk`` on
loopback. Scenarios are interleaved in rounds (A B C … A B C …) so that
drift on a shared machine spreads over all of them, and each figure is the
sum over its rounds. Round trips come from the app's own ``Server-Timing``
header on every response, not from estimates.

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # quiet gRPC connection chatter

import requests

from adminapp.client import Client
from adminapp.config import load_settings
from adminapp.firebase.admins import AdminDirectory
from adminapp.firebase.backend import FirebaseBackend
from adminapp.firebase.factors import TOTP
from adminapp.firebase.roles import RoleStore
from adminapp.firebase.sessions import SessionStore
from adminapp.testing import emulator_control, supervisor
from adminapp.testing.sign_in import (
    INSECURE_SESSION_COOKIE,
    LiveBrowser,
    exchange_headers,
    session_cookie_header,
    sign_in,
)
from devtools import bench_invalidation, bench_users
from devtools.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".bench-logs"
LUA = Path(__file__).with_name("bench.lua")
PROJECT = "demo-adminapp-bench"
PASSWORD = "bench-password-not-secret"  # noqa: S105  (emulator users only)
SMALL_ADMINS = 10
LARGE = 10_000
BATCH = 500  # Firestore's limit of writes per batch
SEED_TIMEOUT = 300  # seconds for one seeding batch
HTTP_TIMEOUT = 10
# The client of the sessions the bench opens through the store.
BENCH_CLIENT = Client(ip="127.0.0.1", user_agent="bench")
STOP_GRACE = 15  # seconds for gunicorn to stop before SIGKILL

# Scenario name -> (server, method, path, expected status).
OPEN, GUARDED, FIREBASE = "/admin/bench/open", "/admin/bench/guarded", "/admin/bench/firebase"
SCENARIOS = {
    "unguarded": ("off", "GET", OPEN, 200),
    "guarded_cache_off": ("off", "GET", GUARDED, 200),
    # The floor again, on the cache-on server: each guarded figure is
    # compared with the unguarded page of the same processes.
    "unguarded_cache_on_server": ("on", "GET", OPEN, 200),
    "guarded_cache_on": ("on", "GET", GUARDED, 200),
    # The cache on with its Redis invalidation channel (bench_invalidation.py
    # measures how fast revocations reach the other instance).
    "unguarded_channel_server": ("channel", "GET", OPEN, 200),
    "guarded_cache_on_channel": ("channel", "GET", GUARDED, 200),
    # Same settings as guarded_cache_off, on a Firestore holding 10,010
    # admins and 10,000 more live sessions (its own emulator, measured in
    # the same rounds as everything else).
    "guarded_cache_off_large_data": ("large", "GET", GUARDED, 200),
    "forged_cookie": ("off", "GET", GUARDED, 302),  # a browser is sent to log in
    "firebase_session_cookie": ("off", "GET", FIREBASE, 200),
    "sign_in": ("off", "POST", "/admin/session", 200),
}


@dataclass
class Figures:
    """One scenario's totals over its rounds."""

    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    timed: int = 0
    cpu_seconds: float = 0.0  # the server's workers, user + system
    # The Firestore emulator that server reads, user + system (None: not ours).
    emulator_cpu_seconds: float | None = 0.0
    firestore: int = 0
    auth: int = 0
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)

    def add(self, run: dict, cpu_seconds: float, emulator_cpu_seconds: float | None = None) -> None:
        self.requests += run["requests"]
        self.cpu_seconds += cpu_seconds
        if self.emulator_cpu_seconds is not None and emulator_cpu_seconds is not None:
            self.emulator_cpu_seconds += emulator_cpu_seconds
        else:
            self.emulator_cpu_seconds = None
        self.seconds += run["duration_us"] / 1e6
        self.errors += run["socket_errors"] + run["unexpected_status"]
        self.timed += run["timed"]
        self.firestore += run["firestore"]
        self.auth += run["auth"]
        self.p50_ms.append(run["p50_us"] / 1000)
        self.p99_ms.append(run["p99_us"] / 1000)

    def summary(self) -> dict:
        return {
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            # The median of the rounds' percentiles: robust to one noisy round.
            "p50_ms": round(statistics.median(self.p50_ms), 2) if self.p50_ms else None,
            "p99_ms": round(statistics.median(self.p99_ms), 2) if self.p99_ms else None,
            "requests": self.requests,
            "errors": self.errors,
            # What one request costs the app's processes, whatever else the
            # machine was doing: steadier than req/s on a shared machine.
            "app_cpu_ms_per_request": (
                round(self.cpu_seconds * 1000 / self.requests, 3) if self.requests else None
            ),
            # The same for the Firestore emulator the server reads: what the
            # request cost the stand-in for Firestore, not the app.
            "firestore_emulator_cpu_ms_per_request": (
                round(self.emulator_cpu_seconds * 1000 / self.requests, 3)
                if self.requests and self.emulator_cpu_seconds is not None
                else None
            ),
            "firestore_per_request": round(self.firestore / self.timed, 4) if self.timed else None,
            "auth_per_request": round(self.auth / self.timed, 4) if self.timed else None,
        }


# -- the app under gunicorn ----------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    started_in: float  # seconds from spawn to the first 200

    def worker_pids(self) -> list[str]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return children.read_text().split()

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the master and its workers."""
        return cpu_seconds([str(self.process.pid), *self.worker_pids()])

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
        return sizes


def cpu_seconds(pids: list[str]) -> float:
    """User + system CPU time used so far by the processes ``pids`` (/proc)."""
    ticks = 0
    for pid in pids:
        # Fields after the command name, which may contain spaces.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def firestore_emulator_cpu_seconds(store: emulator_control.Emulators) -> float | None:
    """CPU time used so far by the Firestore emulator of ``store`` (a single
    Node process), or None when the bench did not start it."""
    process = store.processes.get("firestore")
    return cpu_seconds([str(process.pid)]) if process is not None else None


def app_env(emulators: emulator_control.Emulators, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **emulators.env,
        "ADMINAPP_ENV": "development",
        "FIREBASE_PROJECT_ID": PROJECT,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECRET_KEY_FALLBACKS": "",
        "MFA_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "PUBLIC_URL": "",
        # Plain-HTTP loopback: the benchmark's client is not a browser.
        "SESSION_COOKIE_SECURE": "false",
        "SERVER_TIMING": "true",
        "SESSION_CACHE_SECONDS": "0",
        "RATELIMIT_STORAGE_URI": "memory://",
        # The sign-in run makes thousands of exchanges from one address.
        "SIGN_IN_RATE_LIMIT": "1000000 per minute",
        # One audit line per sign-in would measure the terminal, not the app.
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_server(name: str, env: dict[str, str], workers: int, threads: int) -> Server:
    port = emulator_control.free_port()
    url = f"http://127.0.0.1:{port}"
    LOG_DIR.mkdir(exist_ok=True)
    log = open(LOG_DIR / f"gunicorn-{name}.log", "ab")  # noqa: SIM115  (lives with the process)
    started = time.perf_counter()
    # Its own process group: stopping the master stops its workers too.
    process = supervisor.spawn(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            # One listening socket per worker, so the kernel spreads wrk's
            # connections over them. With the shared socket one worker often
            # accepted all of them (3 runs in 8, measured with `ss`), which
            # halved that run's throughput whatever the page.
            "--reuse-port",
            "--bind",
            f"127.0.0.1:{port}",
            "devtools.bench_app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ({name}) exited; see {LOG_DIR}/gunicorn-{name}.log")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(name, url, process, time.perf_counter() - started)
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn ({name}) did not answer within 60s")


def stop_server(server: Server) -> None:
    # gunicorn's graceful stop waits for its workers' requests (30 s at most).
    supervisor.terminate(server.process, grace=STOP_GRACE)


def import_seconds(env: dict[str, str]) -> float:
    """Time to import wsgi (which runs create_app), in a fresh interpreter."""
    code = "import time; t = time.perf_counter(); import wsgi; print(time.perf_counter() - t)"
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


# -- data ----------------------------------------------------------------------


class Data:
    """Users in the Auth emulator and documents in the Firestore emulator,
    written through the app's own stores so that they match its schema."""

    def __init__(self, emulators: emulator_control.Emulators, env: dict[str, str]):
        """``env``: the environment of the servers that will read this data
        (their signing keys sign the cookies of :meth:`seeded_session`)."""
        self.auth_host = emulators.auth_host
        self.settings = settings = load_settings(env)
        self.uids: dict[str, str] = {}  # email -> Firebase uid
        self.backend = FirebaseBackend(settings)
        # The client reads the emulator's address from the environment when
        # it is built, which is now.
        saved = os.environ.get("FIRESTORE_EMULATOR_HOST")
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulators.firestore_host
        try:
            _ = self.backend.firestore
        finally:
            if saved is not None:
                os.environ["FIRESTORE_EMULATOR_HOST"] = saved
        roles = RoleStore(self.backend, _now)
        self.directory = AdminDirectory(self.backend, roles, _now)
        self.sessions = SessionStore(self.backend, self.directory, roles, settings, _now)

    def close(self) -> None:
        self.backend.close()

    def add_admins_with_users(self, count: int) -> list[str]:
        emails = [f"bench-admin-{n}@example.com" for n in range(count)]
        for email in emails:
            response = requests.post(
                f"http://{self.auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp",
                params={"key": "bench"},
                json={"email": email, "password": PASSWORD},
                timeout=HTTP_TIMEOUT,
            )
            response.raise_for_status()
            self.uids[email] = response.json()["localId"]
            self._verify_email(self.uids[email])
        self.add_admin_documents(emails)
        return emails

    def add_admin_documents(self, emails: list[str]) -> None:
        for email in emails:
            # A document holding only a role is a valid admin (admins.py).
            self.directory.ref(email).set({"role": "viewer"})

    def _verify_email(self, uid: str) -> None:
        response = requests.post(
            f"http://{self.auth_host}/identitytoolkit.googleapis.com/v1/projects/{PROJECT}"
            "/accounts:update",
            headers={"Authorization": "Bearer owner"},
            json={"localId": uid, "emailVerified": True},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()

    def seeded_session(self, email: str, uid: str) -> str:
        """The Cookie header of a new full session of ``email`` (Firebase
        ``uid``, signed in with a password, second factor proved now),
        opened through the app's own SessionStore as a sign-in opens it: for
        the scenarios that measure the guard, not the sign-in, with no TOTP
        code to spend or wait for."""
        now = _now()
        batch = self.backend.firestore.batch()
        claims, _ = self.sessions.stage_open(
            batch,
            uid=uid,
            email=email,
            auth_time=now,
            client=BENCH_CLIENT,
            now=now,
            sign_in_provider="password",
            factor=TOTP,
        )
        batch.commit(retry=None, timeout=SEED_TIMEOUT)  # see add_bulk
        return session_cookie_header(self.settings, claims)

    def id_token(self, email: str) -> str:
        return emulator_control.password_sign_in(self.auth_host, email, PASSWORD, api_key="bench")

    def add_bulk(self, count: int) -> None:
        """``count`` more admins and ``count`` live sessions, in batches."""
        now = _now()
        for start in range(0, count, BATCH // 2):
            batch = self.backend.firestore.batch()
            for n in range(start, min(start + BATCH // 2, count)):
                email = f"bulk-admin-{n}@example.com"
                batch.set(self.directory.ref(email), {"role": "viewer"})
                # Full sessions, as a signed-in admin's are: the second
                # factor proved (MFA_REQUIRED_ROLES covers every role).
                self.sessions.stage_open(
                    batch,
                    uid=f"bulk-uid-{n}",
                    email=email,
                    auth_time=now,
                    client=BENCH_CLIENT,
                    now=now,
                    factor=TOTP,
                )
            # Not backend.commit: the app's clients cap every call at a
            # request's budget (BACKEND_TIMEOUT_SECONDS), and a batch of 500
            # writes may take longer on a loaded machine. One attempt, since
            # creates cannot be retried blindly.
            batch.commit(retry=None, timeout=SEED_TIMEOUT)


def _now() -> datetime:
    return datetime.now(UTC)


# -- signing in the way the page's script does ------------------------------


def session_cookie(server: Server, id_token: str) -> str:
    """Our session cookie for ``id_token``, as a Cookie header value."""
    value = sign_in(LiveBrowser(server.url), id_token, cookie_name=INSECURE_SESSION_COOKIE)
    return f"{INSECURE_SESSION_COOKIE}={value}"


def sign_in_headers(server: Server) -> dict[str, str]:
    """What a browser sends with every POST /admin/session but the ID token
    (wrk's script adds that): the CSRF cookie and token, the Origin."""
    browser = LiveBrowser(server.url)
    headers = exchange_headers(browser)
    return {**headers, "Cookie": browser.cookie_header()}


def firebase_sign_in(server: Server, id_token: str) -> str:
    response = requests.post(
        f"{server.url}/admin/bench/firebase-session",
        headers={"Authorization": f"Bearer {id_token}"},
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()
    return f"bench_firebase_session={response.cookies['bench_firebase_session']}"


def forged(cookie: str) -> str:
    """A genuine cookie with the first character of its signature changed
    (the last one may differ only in padding bits, which decode the same)."""
    value, signature = cookie.rsplit(".", 1)
    return f"{value}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


# -- the load generator --------------------------------------------------------


def wrk(
    url: str,
    method: str,
    expected: int,
    headers: dict[str, str],
    *,
    seconds: float,
    connections: int,
    body: str = "",
    tokens_file: Path | None = None,
) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += ["-s", str(LUA), url, "--", str(expected), method, body]
    if tokens_file is not None:
        command.append(str(tokens_file))
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return json.loads(line.removeprefix("BENCH "))


# -- the run -------------------------------------------------------------------


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def run(args: argparse.Namespace) -> dict:
    missing = [tool for tool in ("wrk", "redis-server") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"{', '.join(missing)} not found: run `make bench-tools redis` (Debian packages).")
    began = time.monotonic()

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - began:4.0f}s] {message}", flush=True)

    log(f"Starting the emulators (logs in {LOG_DIR})…")
    emulators = emulator_control.start(PROJECT, log_dir=LOG_DIR)
    # A second Firestore (same Auth) for the large data set, so that both
    # sizes are measured in the same interleaved rounds.
    large_store = emulator_control.Emulators(
        PROJECT,
        auth_host=emulators.auth_host,
        firestore_host=f"127.0.0.1:{emulator_control.free_port()}",
        log_dir=LOG_DIR,
    )
    servers: dict[str, Server] = {}
    channel_redis = data = large_data = tokens_file = None
    try:
        large_store.start_firestore()
        os.environ.update(emulators.env)
        base = app_env(emulators)
        large_env = {**base, "FIRESTORE_EMULATOR_HOST": large_store.firestore_host}
        data = Data(emulators, base)
        admins = data.add_admins_with_users(SMALL_ADMINS)
        large_data = Data(large_store, large_env)
        large_data.add_admin_documents(admins)
        log(f"Seeding {args.large:,} more admins and {args.large:,} live sessions…")
        seeding = time.perf_counter()
        large_data.add_bulk(args.large)
        seeding = time.perf_counter() - seeding

        startup_import = import_seconds(base)
        log(f"Starting gunicorn ×4 ({args.workers} workers × {args.threads} threads each)…")
        servers["off"] = start_server("cache-off", base, args.workers, args.threads)
        servers["on"] = start_server(
            "cache-on",
            {**base, "SESSION_CACHE_SECONDS": str(args.cache_seconds)},
            args.workers,
            args.threads,
        )
        channel_redis = RedisServer(port=emulator_control.free_port())
        channel_redis.start()
        servers["channel"] = start_server(
            "cache-on-channel",
            {
                **base,
                "SESSION_CACHE_SECONDS": str(args.cache_seconds),
                "SESSION_INVALIDATION_URL": channel_redis.uri,
            },
            args.workers,
            args.threads,
        )
        servers["large"] = start_server("large-data", large_env, args.workers, args.threads)

        # Sign every admin in once on each Firestore, as a real first sign-in
        # does: it binds their uid and enrols their second factor (a TOTP
        # enrolment each, so no code is ever waited for). The sign-in
        # scenario then meets admins with a factor, as in production.
        log("Signing each admin in once on each Firestore…")
        for email in admins:
            for name in ("large", "off"):
                session_cookie(servers[name], data.id_token(email))
        # The guarded scenarios measure the guard, not the sign-in: their
        # sessions are opened through the app's store, as a sign-in would.
        uid = data.uids[admins[0]]
        cookies = {
            "off": data.seeded_session(admins[0], uid),
            "on": data.seeded_session(admins[0], uid),
            "channel": data.seeded_session(admins[0], uid),
            "large": large_data.seeded_session(admins[0], uid),
            "firebase": firebase_sign_in(servers["off"], data.id_token(admins[0])),
        }
        sign_in_scenario_headers = sign_in_headers(servers["off"])
        descriptor, name = tempfile.mkstemp(prefix="bench-tokens-")
        os.close(descriptor)
        tokens_file = Path(name)

        def headers_for(scenario: str) -> dict[str, str]:
            if scenario.startswith("unguarded"):
                return {}
            if scenario == "forged_cookie":
                return {"Cookie": forged(cookies["off"])}
            if scenario == "firebase_session_cookie":
                return {"Cookie": cookies["firebase"]}
            if scenario == "sign_in":
                return sign_in_scenario_headers
            return {"Cookie": cookies[SCENARIOS[scenario][0]]}

        def measure(names, rounds: int, label: str) -> dict[str, Figures]:
            figures = {name: Figures() for name in names}
            for number in range(1, rounds + 1):
                log(f"  {label} round {number}/{rounds}")
                for name in names:
                    server_name, method, path, expected = SCENARIOS[name]
                    if name == "sign_in":
                        # Fresh tokens: a sign-in must be recent (RECENT_SIGN_IN_MINUTES).
                        tokens_file.write_text("\n".join(data.id_token(e) for e in admins))
                    server = servers[server_name]
                    store = large_store if server_name == "large" else emulators
                    cpu_before = server.cpu_seconds()
                    emulator_before = firestore_emulator_cpu_seconds(store)
                    load = wrk(
                        server.url + path,
                        method,
                        expected,
                        headers_for(name),
                        seconds=args.seconds,
                        connections=args.connections,
                        body="{}" if method == "POST" else "",
                        tokens_file=tokens_file if name == "sign_in" else None,
                    )
                    emulator_after = firestore_emulator_cpu_seconds(store)
                    figures[name].add(
                        load,
                        server.cpu_seconds() - cpu_before,
                        None if emulator_before is None else emulator_after - emulator_before,
                    )
            return figures

        log("Measuring…")
        figures = measure(list(SCENARIOS), args.rounds, "measuring")

        rss = [size for server in servers.values() for size in server.worker_rss_mb()]
        log("Users console, access records on and off…")
        users_console = bench_users.measure(
            args,
            base,
            emulators.auth_host,
            data.seeded_session(admins[2], data.uids[admins[2]]),
            start_server,
            stop_server,
            Figures,
            users_console_load(args),
            log,
        )
        invalidation = bench_invalidation.measure(
            args,
            base,
            lambda: data.seeded_session(admins[1], data.uids[admins[1]]),
            start_server,
            stop_server,
            lambda server, cookie: guarded_load(server, cookie, args),
            log,
        )
        result = report(
            args, figures, servers, startup_import, rss, seeding, invalidation, users_console
        )
        # From the start to the figures (stopping what it started follows).
        result["duration_s"] = round(time.monotonic() - began, 1)
        return result
    finally:
        if tokens_file is not None:
            tokens_file.unlink(missing_ok=True)
        for store in (data, large_data):
            if store is not None:
                store.close()
        for server in servers.values():
            stop_server(server)
        if channel_redis is not None:
            channel_redis.stop()
        large_store.stop()
        emulators.stop()


def guarded_load(server: Server, cookie: str, args: argparse.Namespace) -> dict:
    """The guarded page under wrk for one round's length (bench_invalidation's
    Redis-down figure)."""
    figures = Figures()
    cpu_before = server.cpu_seconds()
    load = wrk(
        server.url + GUARDED,
        "GET",
        200,
        {"Cookie": cookie},
        seconds=args.seconds,
        connections=args.connections,
    )
    figures.add(load, server.cpu_seconds() - cpu_before)
    return figures.summary()


def users_console_load(args: argparse.Namespace) -> Callable[..., None]:
    """One wrk run of a users console page, added to its ``Figures``
    (devtools/bench_users.py)."""

    def load(server: Server, path: str, expected: int, cookie: str, figures: Figures) -> None:
        cpu_before = server.cpu_seconds()
        run = wrk(
            server.url + path,
            "GET",
            expected,
            {"Cookie": cookie},
            seconds=args.seconds,
            connections=args.users_connections,
        )
        figures.add(run, server.cpu_seconds() - cpu_before)

    return load


def report(
    args, measured, servers, startup_import, rss, seeding, invalidation, users_console
) -> dict:
    figures = {name: f.summary() for name, f in measured.items()}
    rps = {name: f["rps"] for name, f in figures.items()}
    ratios = {
        "guarded_cache_on_vs_unguarded": ratio(
            rps["guarded_cache_on"], rps["unguarded_cache_on_server"]
        ),
        "guarded_cache_off_vs_unguarded": ratio(rps["guarded_cache_off"], rps["unguarded"]),
        "guarded_cache_off_vs_firebase_session_cookie": ratio(
            rps["guarded_cache_off"], rps["firebase_session_cookie"]
        ),
        "guarded_cache_on_vs_firebase_session_cookie": ratio(
            rps["guarded_cache_on"], rps["firebase_session_cookie"]
        ),
        "large_vs_small_data_guarded_cache_off": ratio(
            rps["guarded_cache_off_large_data"], rps["guarded_cache_off"]
        ),
        "guarded_cache_on_channel_vs_unguarded": ratio(
            rps["guarded_cache_on_channel"], rps["unguarded_channel_server"]
        ),
        # The same page on two identical servers: how far apart equal things
        # measure in this run, i.e. the noise.
        "unguarded_server_a_vs_b": ratio(rps["unguarded"], rps["unguarded_cache_on_server"]),
    }
    noise = max(0.1, abs(1 - ratios["unguarded_server_a_vs_b"]))
    cpu = {name: f["app_cpu_ms_per_request"] for name, f in figures.items()}
    app_cpu = {
        # What the gate adds to a request, in the app's own CPU time.
        "gate_ms_cache_on": round(cpu["guarded_cache_on"] - cpu["unguarded_cache_on_server"], 3),
        "gate_ms_cache_off": round(cpu["guarded_cache_off"] - cpu["unguarded"], 3),
        "large_vs_small_data_guarded_cache_off": ratio(
            cpu["guarded_cache_off_large_data"], cpu["guarded_cache_off"]
        ),
    }
    emulator = {name: f["firestore_emulator_cpu_ms_per_request"] for name, f in figures.items()}
    firestore_emulator_cpu = {
        # Who pays for the larger data set: the Firestore emulator's own CPU
        # per guarded request, on the large and the small data set.
        "guarded_cache_off_ms": emulator["guarded_cache_off"],
        "guarded_cache_off_large_data_ms": emulator["guarded_cache_off_large_data"],
        "large_vs_small_data_guarded_cache_off": (
            ratio(emulator["guarded_cache_off_large_data"], emulator["guarded_cache_off"])
            if None not in emulator.values()
            else None
        ),
    }
    sign_in = figures["sign_in"]
    targets = {
        "guarded request ≤ 1 Firestore round trip (cache off)": figures["guarded_cache_off"][
            "firestore_per_request"
        ]
        <= 1,
        "forged cookie: 0 round trips": figures["forged_cookie"]["firestore_per_request"] == 0
        and figures["forged_cookie"]["auth_per_request"] == 0,
        "sign-in ≤ 1 Auth + ≤ 2 Firestore round trips": sign_in["auth_per_request"] <= 1
        and sign_in["firestore_per_request"] <= 2,
        "cache on ≥ 0.8 × unguarded": ratios["guarded_cache_on_vs_unguarded"] >= 0.8,
        "cache off ≥ Firebase session cookie page": ratios[
            "guarded_cache_off_vs_firebase_session_cookie"
        ]
        >= 1.0,
        # The app's own share only: req/s on the large data set also pays
        # for the Firestore emulator's extra CPU on the same two cores (see
        # firestore_emulator_cpu), which real Firestore does not charge.
        f"data size: app CPU per guarded request, {args.large + SMALL_ADMINS:,} admins "
        f"within 10% of {SMALL_ADMINS}": abs(1 - app_cpu["large_vs_small_data_guarded_cache_off"])
        <= 0.1,
        "no errors": all(f["errors"] == 0 for f in figures.values()),
        **bench_invalidation.targets(ratios, noise, invalidation),
        **bench_users.targets(users_console),
    }
    result = {
        "machine": machine(),
        "settings": {
            "workers": args.workers,
            "threads": args.threads,
            "connections": args.connections,
            "seconds_per_run": args.seconds,
            "rounds": args.rounds,
            "session_cache_seconds": args.cache_seconds,
        },
        "data": {
            "small": {"admins": SMALL_ADMINS},
            "large": {"admins": args.large + SMALL_ADMINS, "live_sessions_seeded": args.large},
            "seeding_s": round(seeding, 1),
        },
        "figures": figures,
        "ratios": ratios,
        "noise": round(noise, 3),
        "app_cpu": app_cpu,
        "firestore_emulator_cpu": firestore_emulator_cpu,
        "startup": {
            "import_wsgi_create_app_s": round(startup_import, 3),
            "gunicorn_to_first_200_s": {n: round(s.started_in, 3) for n, s in servers.items()},
        },
        "rss_per_worker_mb": rss,
        "invalidation": invalidation,
        "users_console": users_console,
        "targets": targets,
        "targets_met": all(targets.values()),
    }
    print_table(result)
    return result


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs, {model or 'unknown CPU'}"


def print_table(result: dict) -> None:
    print()
    print(f"Machine: {result['machine']}")
    s = result["settings"]
    print(
        f"gunicorn gthread {s['workers']} workers × {s['threads']} threads; wrk 1 thread, "
        f"{s['connections']} connections; {s['rounds']} rounds × {s['seconds_per_run']}s each"
    )
    header = f"{'scenario':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    header += f"{'FS/req':>8}{'Auth/req':>9}{'CPU ms/req':>11}{'emu CPU':>9}"
    data = result["data"]
    print(
        f"Data: {data['small']['admins']} admins; large-data server: "
        f"{data['large']['admins']:,} admins + {data['large']['live_sessions_seeded']:,} "
        "live sessions"
    )
    print(f"\n{header}")
    for name, f in result["figures"].items():
        print(
            f"{name:<34}{f['rps']:>9.1f}{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}"
            f"{f['errors']:>8}{f['firestore_per_request']:>8.3f}{f['auth_per_request']:>9.3f}"
            f"{f['app_cpu_ms_per_request']:>11.3f}"
            f"{_number(f['firestore_emulator_cpu_ms_per_request']):>9}"
        )
    print("\nRatios (requests per second, same run)")
    for name, value in result["ratios"].items():
        print(f"  {name:<48}{value}")
    print("\nApp CPU (ms per request, same run)")
    for name, value in result["app_cpu"].items():
        print(f"  {name:<48}{value}")
    print("\nFirestore emulator CPU (ms per request, same run)")
    for name, value in result["firestore_emulator_cpu"].items():
        print(f"  {name:<48}{value}")
    startup = result["startup"]
    print(
        f"\nStart-up: import wsgi + create_app {startup['import_wsgi_create_app_s']}s; "
        f"gunicorn to first 200 {startup['gunicorn_to_first_200_s']}"
    )
    print(f"RSS per worker (MB): {result['rss_per_worker_mb']}")
    bench_invalidation.print_figures(result["invalidation"])
    bench_users.print_figures(result["users_console"])
    print("\nTargets")
    for name, met in result["targets"].items():
        print(f"  {'PASS' if met else 'FAIL'}  {name}")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--cache-seconds", type=float, default=60)
    parser.add_argument(
        "--large",
        type=int,
        default=LARGE,
        help="admins and live sessions added to the large data set (fewer: a quicker trial run)",
    )
    parser.add_argument("--quiet", action="store_true", help="only the table and the JSON line")
    bench_invalidation.add_arguments(parser)
    bench_users.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    # Stopped by a signal or an error, the bench stops everything it started.
    supervisor.stop_all_on_exit()
    result = run(parse_args(argv))
    print(json.dumps(result, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    main()
