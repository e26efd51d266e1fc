"""How many calls to Firebase one request (or command) made.

The storage layer reports each call it makes (``firebase/backend.py``);
the web layer starts a count for each request and reports it in the
``Server-Timing`` header (``web/server_timing.py``), which ``make bench`` and
``tests/integration/test_round_trips.py`` read. Kept apart from both so that
neither imports the other for it.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass
class RoundTrips:
    """Calls made to Firebase while serving one request."""

    firestore: int = 0
    auth: int = 0


_round_trips: contextvars.ContextVar[RoundTrips] = contextvars.ContextVar("round_trips")


def start_counting() -> RoundTrips:
    """Begin a fresh count for the current request (or command)."""
    counter = RoundTrips()
    _round_trips.set(counter)
    return counter


def current() -> RoundTrips:
    """The count of the current request, begun here if none was."""
    counter = _round_trips.get(None)
    return counter if counter is not None else start_counting()
