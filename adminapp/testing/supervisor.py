"""Child processes that stop when the tool that started them stops.

The emulators, the Redis servers and ``make bench``'s gunicorn instances are
started here, each in its own session (so its own process group: stopping it
also stops what it started, such as gunicorn's workers or the shell of a
firebase-tools wrapper), and tracked until they are stopped.

A tool that must leave nothing behind when it ends, however it ends, calls
:func:`stop_all_on_exit` once: then a normal exit, an uncaught exception,
SIGTERM, SIGINT (Ctrl-C) and SIGHUP each stop every tracked process group,
SIGTERM first and SIGKILL after a bounded wait. The test suite does not call
it: pytest's own fixtures stop what they start.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

# Seconds a process group has to exit after SIGTERM before SIGKILL, and after
# SIGKILL before we give up waiting (a process in uninterruptible sleep).
TERM_GRACE = 10.0
KILL_GRACE = 5.0
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

# pid -> the process, for every process started here and not yet stopped.
_running: dict[int, subprocess.Popen] = {}
_lock = threading.RLock()
_installed = False


def spawn(command: Sequence[str], **popen: Any) -> subprocess.Popen:
    """Start ``command`` in a session of its own and track it until
    :func:`terminate`. Keyword arguments go to :class:`subprocess.Popen`."""
    with _lock:
        process = subprocess.Popen(list(command), start_new_session=True, **popen)
        _running[process.pid] = process
    return process


def terminate(process: subprocess.Popen, grace: float | None = None) -> None:
    """Stop ``process`` and its process group: SIGTERM, up to ``grace``
    seconds (TERM_GRACE by default) for the leader to exit, then SIGKILL to
    whatever of the group is left (the leader if it ignored SIGTERM, or
    children that outlived it), and up to KILL_GRACE seconds more."""
    try:
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=TERM_GRACE if grace is None else grace)
        _signal_group(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=KILL_GRACE)
    finally:
        with _lock:
            _running.pop(process.pid, None)


def terminate_all() -> None:
    """Stop every tracked process, the last started first."""
    with _lock:
        processes = list(reversed(_running.values()))
    for process in processes:
        with contextlib.suppress(Exception):
            terminate(process)


def running() -> list[subprocess.Popen]:
    """The processes started here and not yet stopped."""
    with _lock:
        return list(_running.values())


def stop_all_on_exit() -> None:
    """Stop every tracked process when this one exits, by any of
    EXIT_SIGNALS too. On a signal the processes are stopped first, then the
    signal ends this process as it would have (SystemExit or
    KeyboardInterrupt unwind the caller's ``finally`` blocks, which find
    their processes stopped already)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(terminate_all)
    for sig in EXIT_SIGNALS:
        signal.signal(sig, _on_exit_signal)


def _on_exit_signal(signum: int, frame) -> None:
    # Further signals while stopping would only interrupt the stopping.
    for sig in EXIT_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    terminate_all()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid``, if any is left."""
    # PermissionError: the group is gone and its id taken by another user's.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
