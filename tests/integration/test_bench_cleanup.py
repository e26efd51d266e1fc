"""``make bench`` leaves no process behind, however it ends.

A small tool started here uses the bench's process supervisor
(``adminapp/testing/supervisor.py``) as the bench does: it starts a real Firestore
emulator and a real redis-server the bench's way, plus a process group whose
leader and child ignore SIGTERM (so that only the SIGKILL after the grace
period stops them), then ends by a signal (SIGTERM, Ctrl-C's SIGINT, SIGHUP),
a normal exit or an uncaught error. Every
process it started, found by pid under it in ``/proc`` before it ended, must
be gone afterwards (or a zombie awaiting its reaper: it runs no more).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.instances import eventually

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 300  # seconds: the emulator's start on a loaded machine
GONE_WITHIN = 60  # seconds: the grace periods and then some
STARTED = {"node", "redis-server", "sh", "sleep"}

TOOL = """
import sys

from adminapp.testing import emulator_control, supervisor
from devtools.redis_server import RedisServer

supervisor.stop_all_on_exit()
supervisor.TERM_GRACE = 1  # the escalation to SIGKILL is tested, not its timing
store = emulator_control.Emulators(
    "demo-cleanup", auth_host="unused:0", firestore_host=f"127.0.0.1:{emulator_control.free_port()}"
)
store.start_firestore()
RedisServer(port=emulator_control.free_port()).start()
supervisor.spawn(["sh", "-c", "trap '' TERM; sleep 600 & wait"])
print("ready", flush=True)
sys.stdin.readline()  # the test looks at what runs, then signals or says "end"
if sys.argv[1] == "error":
    raise RuntimeError("the bench failed")
sys.exit(0)
"""


def _descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process under ``pid``, from /proc."""
    found: set[tuple[int, str]] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                for child in (task / "children").read_text().split():
                    started = _start_time(int(child))
                    if started is not None:
                        found.add((int(child), started))
                        pending.append(int(child))
    return found


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The fields after the command name, which may contain spaces.
    return text.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19] if fields else None


def _running(pid: int, started: str) -> bool:
    """Whether that very process (not a later one given its pid) still runs."""
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] != "Z"


def _program(pid: int) -> str:
    """The name of the program ``pid`` runs (its command line's first word)."""
    with contextlib.suppress(OSError):
        words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
        return words[0].decode().rsplit("/", 1)[-1] if words else ""
    return ""


def _wait_for_ready(tool: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        readable, _, _ = select.select([tool.stdout], [], [], 1)
        if readable:
            line = tool.stdout.readline()
            if line.strip() == b"ready":
                return
            if not line:
                pytest.fail(f"the tool exited before it was ready ({tool.wait()})")
    pytest.fail(f"the tool was not ready within {READY_WITHIN}s")


@pytest.mark.long
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGHUP", "exit", "error"])
def test_every_process_the_bench_started_stops_with_it(how):
    tool = subprocess.Popen(
        [sys.executable, "-c", TOOL, how],
        cwd=ROOT,
        env={**os.environ, "GRPC_VERBOSITY": "ERROR"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    started: set[tuple[int, str]] = set()
    try:
        _wait_for_ready(tool)

        def everything_started() -> bool:
            # The emulator, redis-server, and the shell with its sleep (which
            # the shell forks a moment after it starts).
            nonlocal started
            started = _descendants(tool.pid)
            return {_program(pid) for pid, _ in started} >= STARTED

        eventually(everything_started, READY_WITHIN)
        if how.startswith("SIG"):
            tool.send_signal(getattr(signal, how))
        else:
            tool.stdin.write(b"end\n")
            tool.stdin.flush()
        tool.wait(timeout=GONE_WITHIN)
        eventually(lambda: not any(_running(*process) for process in started), GONE_WITHIN)
    finally:
        with contextlib.suppress(ProcessLookupError):
            tool.kill()
        tool.wait()
        for pid, start in started:  # only what this test saw started, by pid
            if _running(pid, start):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
