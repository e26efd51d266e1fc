"""One serving process when rate limits are counted in memory, however the
server is started (issue 20, Low 2).

``memory://`` rate limits count in each process's own memory: two processes
serving the same app allow twice the sign-in attempts. ``gunicorn.conf.py``
refuses more than one worker at the master, but only when gunicorn reads it
(not with ``-c /dev/null``, ``GUNICORN_CMD_ARGS`` that name another config,
or a working directory without it). So the app checks for itself: in
production with ``memory://``, every serving process takes an exclusive lock
keyed by its parent process (a pre-fork server's master, gunicorn's or
uWSGI's), and a second process of the same parent is refused.

* A worker that loads the app itself (gunicorn without ``--preload``) takes
  the lock in :func:`create_app <adminapp.create_app>`; refused, it raises
  :class:`ConfigError` and gunicorn stops ("Worker failed to boot").
* A master that loads the app before forking (``--preload``) is a master,
  not a serving process: it lets go of its own lock when it first forks, and
  each child takes the lock keyed by it; a refused child prints why and
  exits with status 3, which gunicorn also reads as a worker that failed to
  boot.
* A replacement worker (a restart, a ``kill -HUP`` reload, which starts the
  new worker before the old one has finished its requests) waits up to
  ``SERVING_HANDOVER_SECONDS`` (10 by default) for its predecessor to go.
* The ``flask`` command serves no requests and takes no lock.

The lock is ``fcntl.flock`` on a file in the temporary directory, so the
kernel releases it when the process dies, however it dies. The file is left
behind (removing a lock file races with the next process to open it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from .config import ConfigError, Settings

# gunicorn stops the whole server when a worker exits with this status
# before it has booted, as it does when create_app raises in a worker.
WORKER_BOOT_ERROR = 3

# The lock this process holds: (its pid, the parent it is keyed by, the fd).
_held: tuple[int, int, int] | None = None
_storage_uri: str = ""
# SERVING_HANDOVER_SECONDS, for the claim a forked child makes (it has no settings).
_handover_seconds: float = 0.0
_fork_hooks_registered = False


def claim_serving_process(settings: Settings) -> None:
    """In production with ``memory://`` rate limits, make sure this process
    is the only one of its server that serves the app; :class:`ConfigError`
    (after ``SERVING_HANDOVER_SECONDS``) when another already does."""
    global _storage_uri, _handover_seconds, _fork_hooks_registered
    if not settings.production or urlsplit(settings.ratelimit_storage_uri).scheme != "memory":
        return
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        return  # the flask command (Flask sets this for every command)
    _storage_uri = settings.ratelimit_storage_uri
    _handover_seconds = settings.serving_handover.total_seconds()
    if not _fork_hooks_registered:
        os.register_at_fork(before=_before_fork, after_in_child=_claim_in_child)
        _fork_hooks_registered = True
    _claim(os.getppid())


def lock_path(parent: int) -> Path:
    """The lock of the serving processes whose parent is ``parent``."""
    return Path(tempfile.gettempdir()) / f"adminapp-ratelimit-{os.getuid()}-{parent}.lock"


def _claim(parent: int) -> None:
    global _held
    if _held is not None and _held[:2] == (os.getpid(), parent):
        return  # an app made again in the same process (tests, reloads)
    path = lock_path(parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI={_storage_uri}: cannot open the lock file {path} that "
            f"keeps this app to one serving process ({error})."
        ) from None
    deadline = time.monotonic() + _handover_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise ConfigError(_refusal(holder)) from None
            time.sleep(0.1)
    # Who holds it, for the refusal another process may have to write.
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held = (os.getpid(), parent, fd)


def _refusal(holder: str) -> str:
    return (
        f"RATELIMIT_STORAGE_URI={_storage_uri} counts in each process, and another process "
        f"of this server (pid {holder}) already serves the app and did not exit within "
        f"SERVING_HANDOVER_SECONDS ({_handover_seconds:g} s): every rate limit (and the "
        "password reset's double-submit guard) would allow as much again for each process. "
        "In production set RATELIMIT_STORAGE_URI=redis://host:6379/0 (shared by every "
        "worker and instance), or run one worker process (WEB_CONCURRENCY=1, gunicorn "
        "--workers 1)."
    )


def _before_fork() -> None:
    # A process that forks children to serve (a --preload master) does not
    # serve itself: its children take the lock, keyed by it.
    global _held
    if _held is not None and _held[0] == os.getpid():
        os.close(_held[2])
        _held = None


def _claim_in_child() -> None:
    global _held
    if _held is not None:  # the parent's descriptor, inherited: not ours
        with contextlib.suppress(OSError):
            os.close(_held[2])
        _held = None
    try:
        _claim(os.getppid())
    except ConfigError as error:
        # An exception cannot leave an at-fork hook: say why, and stop.
        print(f"adminapp cannot serve: {error}", file=sys.stderr, flush=True)
        os._exit(WORKER_BOOT_ERROR)
