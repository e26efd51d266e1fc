"""An optional in-process cache of the guard's read: (session, admin) by session key.

With ``SESSION_CACHE_SECONDS`` > 0 a guarded request whose session was read
less than that many seconds ago, by this process, costs no Firestore round
trip at all. Changes made through this process forget the affected entries
at once (:meth:`forget`, :meth:`forget_admin`); changes made by other
processes arrive through the invalidation channel
(``session_invalidation.py``) when one is configured, and are otherwise
seen here only when the entry expires.

With a channel, the cache is *trusted* only while the channel is known to be
live (:meth:`trust`, :meth:`distrust`): a cache that cannot be invalidated
is not used. Every change of trust empties it, and a read that started
before any invalidation is not stored (:meth:`stamp`), so that an answer
read just before a change cannot outlive the change's message.

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
        trusted: bool = True,
    ):
        self._ttl = ttl.total_seconds()
        self._trusted = trusted
        # Bumped by every invalidation: a read stamped before it is not stored.
        self._generation = 0
        self._max_entries = max_entries
        self._clock = clock
        # With an invalidation channel: the cache is used only while its
        # subscriber has drained the channel within this many seconds (see
        # :meth:`beat`); None = no channel to wait for.
        self._beat_limit: float | None = None
        self._beat = float("-inf")
        self._lock = threading.Lock()
        # key -> (expires at, owner email, session, admin); oldest first.
        self._entries: OrderedDict[str, tuple[float, str, Session, Admin]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    @property
    def trusted(self) -> bool:
        return self._trusted

    def now(self) -> float:
        """This cache's clock (monotonic seconds)."""
        return self._clock()

    def require_beats(self, limit: float) -> None:
        """Use the cache only while :meth:`beat` was called within ``limit``
        seconds: a subscriber that stopped running (a process whose CPU is
        throttled between requests, as Cloud Run's default is) must not
        leave its last word standing."""
        self._beat_limit = limit

    def beat(self, drained_at: float) -> None:
        """Every invalidation published before ``drained_at`` (this cache's
        clock) has been applied."""
        self._beat = max(self._beat, drained_at)

    def get(self, key: str) -> tuple[Session, Admin] | None:
        # Plain attribute reads: the hot path asks no one whether to trust.
        if not self._trusted or not self.enabled:
            return None
        now = self._clock()
        if self._beat_limit is not None and now - self._beat > self._beat_limit:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[key]
                return None
            return entry[2], entry[3]

    def stamp(self) -> int:
        """Take before reading Firestore; pass to :meth:`put`."""
        return self._generation

    def put(self, key: str, email: str, session: Session, admin: Admin, stamp: int) -> None:
        """Remember a read for the TTL, counted from now, unless the cache is
        not trusted or something was invalidated since ``stamp`` was taken
        (the read may predate that change)."""
        if not self.enabled:
            return
        with self._lock:
            if not self._trusted or stamp != self._generation:
                return
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
        """Drop one session (it was ended)."""
        with self._lock:
            self._generation += 1
            self._entries.pop(key, None)

    def forget_admin(self, email: str) -> None:
        """Drop every session of an admin (role, status or password changed)."""
        with self._lock:
            self._generation += 1
            stale = [key for key, entry in self._entries.items() if entry[1] == email]
            for key in stale:
                del self._entries[key]

    def forget_all(self) -> None:
        """Drop every session (a custom role changed: any admin may hold it)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def trust(self) -> bool:
        """The channel is live again: start afresh (whatever was missed while
        it was not is gone with the old entries). True if this changed it."""
        return self._set_trusted(True)

    def distrust(self) -> bool:
        """The channel is not known to be live: use and keep nothing. True if
        this changed it."""
        return self._set_trusted(False)

    def _set_trusted(self, trusted: bool) -> bool:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            changed = self._trusted != trusted
            self._trusted = trusted
            return changed

    def __len__(self) -> int:
        return len(self._entries)
