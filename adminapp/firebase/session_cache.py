"""An optional in-process cache of the guard's read: (session, admin) by session key.

With ``SESSION_CACHE_SECONDS`` > 0 a guarded request whose session was read
less than that many seconds ago, by this process, costs no Firestore round
trip at all. The price is staleness between processes: a change made by
another instance (a sign-out, a removed admin) is seen here only when the
entry expires. Changes made through this process forget the affected
entries at once (:meth:`forget`, :meth:`forget_admin`), so they take effect
immediately here.

A dict with a lock rather than a dependency: the cache is a few lines, its
size is bounded (oldest entry evicted first) and each entry lives at most
the TTL, measured on a monotonic clock.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar

Session = TypeVar("Session")
Admin = TypeVar("Admin")

# Far more live sessions than one admin team has; bounds memory if someone
# floods us with genuine cookies of many sessions.
DEFAULT_MAX_ENTRIES = 10_000


class SessionCache(Generic[Session, Admin]):
    def __init__(
        self,
        ttl: timedelta,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._ttl = ttl.total_seconds()
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (expires at, owner email, session, admin); oldest first.
        self._entries: OrderedDict[str, tuple[float, str, Session, Admin]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self, key: str) -> tuple[Session, Admin] | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[2], entry[3]

    def put(self, key: str, email: str, session: Session, admin: Admin) -> None:
        """Remember a read for the TTL, counted from now."""
        if not self.enabled:
            return
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._clock() + self._ttl, email, session, admin)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def update(self, key: str, session: Session) -> None:
        """Replace the cached session (after recording activity) without
        extending the entry's life: it still expires when first planned."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = (entry[0], entry[1], session, entry[3])

    def forget(self, key: str) -> None:
        """Drop one session (it was ended here)."""
        with self._lock:
            self._entries.pop(key, None)

    def forget_admin(self, email: str) -> None:
        """Drop every session of an admin (role, status or password changed)."""
        with self._lock:
            stale = [key for key, entry in self._entries.items() if entry[1] == email]
            for key in stale:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
