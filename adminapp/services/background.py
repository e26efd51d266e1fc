"""Work done beside the response, on a small pool of threads.

The password reset request hands its whole decision (is this an admin? send
the email?) to this pool, so the page answers in the same time whether or
not an email goes out: the response time reveals nothing about the address.

Where the process has CPU only while it answers a request (Cloud Run's
default, ``CLOUD_RUN_CPU=request``), work left running after the response
may stall until the next request, or be lost when the instance stops. There
the web layer collects the jobs a request submits (:meth:`Background.collect`)
and :func:`settle` waits for them before the response goes out; a page whose
timing must not tell anything (the reset request) answers at a fixed floor
instead: as soon as the jobs are done *and* the floor has passed, never
earlier, and never later than the floor because a job is slow (that job
then finishes after the response).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait

log = logging.getLogger(__name__)

# How long a request waits for its jobs when no floor bounds it: longer
# than any job's own timeouts (SMTP's, Firebase's) add up to.
MAX_SETTLE_SECONDS = 30.0
# The jobs submitted by the current request, when the web layer collects them.
_collected: contextvars.ContextVar[list[Future] | None] = contextvars.ContextVar(
    "adminapp_background_jobs", default=None
)


def settle(
    jobs: Iterable[Future],
    deadline: float | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait for ``jobs``. With a ``deadline`` (``clock`` time): return at
    the deadline exactly, whether the jobs finished long before it or are
    still running (then they finish after it)."""
    jobs = list(jobs)
    if deadline is None:
        wait(jobs, timeout=MAX_SETTLE_SECONDS)
        return
    wait(jobs, timeout=max(0.0, deadline - clock()))
    left = deadline - clock()
    if left > 0:
        sleep(left)
    if any(not job.done() for job in jobs):
        log.warning("background work outlived its response's floor; it goes on after the response")


class Background:
    """A bounded thread pool that logs (never raises) what its jobs raise."""

    def __init__(self, name: str, workers: int = 2):
        self._name = name
        self._workers = workers
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: set[Future] = set()

    def submit(self, job: Callable[[], None], what: str) -> None:
        with self._lock:
            if self._executor is None:
                # Built on first use, so no thread crosses gunicorn's fork.
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix=self._name)
            future = self._executor.submit(self._run, job, what)
            self._pending.add(future)
        future.add_done_callback(self._forget)
        collected = _collected.get()
        if collected is not None:
            collected.append(future)

    @staticmethod
    def collect() -> contextvars.Token:
        """From now on (in this context: one request), keep the jobs
        submitted; :meth:`collected` hands them over."""
        return _collected.set([])

    @staticmethod
    def collected(token: contextvars.Token) -> list[Future]:
        """The jobs submitted since :meth:`collect`, which stops collecting."""
        jobs = _collected.get() or []
        _collected.reset(token)
        return jobs

    @staticmethod
    def _run(job: Callable[[], None], what: str) -> None:
        try:
            job()
        except Exception:
            log.exception("background job failed: %s", what)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 30) -> None:
        """Wait for the jobs submitted so far (tests, and shutdown)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
