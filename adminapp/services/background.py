"""Work done after the response, on a small pool of threads.

The password reset request hands its whole decision (is this an admin? send
the email?) to this pool, so the page answers in the same time whether or
not an email goes out: the response time reveals nothing about the address.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

log = logging.getLogger(__name__)


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
