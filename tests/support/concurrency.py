"""Running N attempts at once, for the single-use tests.

No sleeps and no timing: threads are released together by a barrier
(:func:`at_once`), and where a test needs the worst interleaving, every
reader reading before any writer writes, a second barrier holds the writes
(:func:`reads_before_writes` for the app). The barriers' timeout is only a
deadline, so that a broken test fails instead of hanging.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import pytest

# Generous: a loaded 2-core machine may take seconds to get N threads there.
DEADLINE_SECONDS = 120

Prepared = TypeVar("Prepared")
Outcome = TypeVar("Outcome")


def at_once(
    attempts: list[Prepared], act: Callable[[Prepared], Outcome]
) -> list[Outcome | Exception]:
    """Run ``act`` on every prepared attempt, each in its own thread, all
    released together by one barrier. The outcomes in the same order: what
    ``act`` returned, or the exception it raised."""
    start = threading.Barrier(len(attempts), timeout=DEADLINE_SECONDS)

    def run(attempt: Prepared) -> Outcome | Exception:
        start.wait()
        try:
            return act(attempt)
        except Exception as error:  # the outcome under test
            return error

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(run, attempts, timeout=DEADLINE_SECONDS * 2))


@contextmanager
def reads_before_writes(app, requests: int) -> Iterator[None]:
    """While open, hold the first Firestore commit of each of the next
    ``requests`` requests until all of them have reached theirs.

    Every request has then done its reads (the factor, the session record)
    before any write lands: the interleaving in which a read-then-write
    race is lost, reached whatever the machine's speed. It holds the commit
    RPC itself, so it does not depend on which service or store writes. A
    request runs on one thread (Flask's test client, and the server of
    tests/support/live.py, which has a thread per connection).
    """
    from adminapp.web.context import services

    with app.app_context():
        api = services().backend.firestore._firestore_api  # the SDK's RPC client
    commit = api.commit
    everyone = threading.Barrier(requests, timeout=DEADLINE_SECONDS)
    arrivals = itertools.count()
    held = threading.local()

    def held_commit(*args, **kwargs):
        if not getattr(held, "done", False):
            held.done = True
            if next(arrivals) < requests:
                everyone.wait()
        return commit(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "commit", held_commit)
        yield
