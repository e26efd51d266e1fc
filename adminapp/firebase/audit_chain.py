"""Tamper evidence for the audit trail: each entry is chained to the one
before it by a keyed MAC (PIPA safety-measure standard art. 8(3)).

A *chain* is one writer's entries of one retention class. A writer is one
process: a fresh id at its first entry (and again after a fork), so that
instances never wait for each other. Within a writer a lock gives each
entry its place: the next number ``n``, the MAC of the entry before it
(``prev``; :data:`GENESIS` for the first) and that entry's ``expire_at``
(``prev_expire_at``), and ``mac``: HMAC-SHA256 under AUDIT_CHAIN_KEY of the
entry's every field. The key is a setting, never in Firestore: whoever can
write the trail cannot forge a MAC.

What verification (:func:`verify`) catches:

* an edited entry: its MAC no longer matches (``edited``);
* a deleted entry: a gap in ``n`` that no later entry explains (``missing``);
* a moved, copied or reordered entry: an id that is not its ``seq``, a
  ``prev`` that is not the MAC before it, or a number seen twice (``moved``).

Retention is not tampering. One chain holds one retention class, so its
``expire_at`` only grows with ``n``; Firestore's TTL policy therefore removes
a chain's oldest entries first. A gap (or a chain that starts after 1) is
expected when the entry just after it says its predecessor's ``expire_at``
has passed (``prev_expire_at``): every entry before it is older still.
Verification thus starts at each chain's oldest surviving entry.

What it cannot see: the newest entries of a chain, or a whole chain,
deleted. Each entry's log line (Cloud Logging, a store the trail's writers
need not reach) repeats its chain and number, so a chain's last link can be
compared there (docs/pipa.md).

The lock is held only while places are given, never during a commit, so
the commits of one process still race in Firestore as before. A commit that
fails may or may not have landed (a timed-out commit can still apply): its
places are then named by the next entry of each chain (``skipped``, under
that entry's MAC), and a number missing for that reason is not a finding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

GENESIS = "0" * 64
# The fields the chain adds to an entry; "mac" covers all the others.
CHAIN_FIELDS = ("chain", "n", "link", "prev", "prev_expire_at", "mac")


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        # Firestore keeps microseconds; every read gives the same text.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    return value


def entry_mac(key: bytes, entry: dict) -> str:
    """The MAC of an entry: every field but ``mac``, as canonical JSON."""
    body = {name: value for name, value in entry.items() if name != "mac"}
    text = json.dumps(_canonical(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass
class _Head:
    n: int = 0
    mac: str = GENESIS
    expire_at: datetime | None = None


class AuditChain:
    """The chain heads of this process, one per retention class."""

    def __init__(self, key: bytes, clock: Callable[[], datetime]):
        self._key = key
        self._clock = clock
        self._lock = threading.Lock()
        self._writer = ""  # none until the first entry
        self._heads: dict[str, _Head] = {}
        # Places whose commit failed, per class: the next entry names them.
        self._skipped: dict[str, list[int]] = {}
        _CHAINS.add(self)

    def _forked(self) -> None:
        # The child's copy of the lock may be held by a thread that did not
        # survive the fork; and the child must not continue the parent's
        # chains, which the parent goes on writing.
        self._lock = threading.Lock()
        self._writer = ""
        self._heads = {}
        self._skipped = {}

    @property
    def writer(self) -> str:
        return self._writer

    def link(self, entries: Iterable[tuple[str, dict]]) -> Callable[[], None]:
        """Give each ``(retention class, entry)`` its place: the chain fields
        and its MAC, under the lock, which is not held while the commit runs
        (concurrent commits of one process still race in Firestore). Returns
        what to call if the commit fails: those places may then be empty,
        and the next entry of each chain says so (``skipped``)."""
        placed: list[tuple[str, int, list[int]]] = []
        with self._lock:
            if not self._writer:
                now = self._clock()  # a new process, or a forked one: its own writer
                self._writer = f"{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"
            for retention_class, entry in entries:
                head = self._heads.get(retention_class, _Head())
                expire_at = entry.get("expire_at")
                if head.expire_at is not None and expire_at is not None:
                    # Never earlier than the entry before: a clock stepping
                    # back must not make a chain's expiry go down.
                    expire_at = entry["expire_at"] = max(expire_at, head.expire_at)
                chain, n = f"{self._writer}.{retention_class}", head.n + 1
                skipped = sorted(self._skipped.pop(retention_class, []))
                entry.update(
                    chain=chain,
                    n=n,
                    link=f"{chain}:{n:012d}",
                    prev=head.mac,
                    prev_expire_at=head.expire_at,
                )
                if skipped:
                    entry["skipped"] = skipped
                entry["mac"] = entry_mac(self._key, entry)
                self._heads[retention_class] = _Head(n, entry["mac"], expire_at)
                placed.append((retention_class, n, skipped))

        def failed() -> None:
            # A failed commit may still have landed (a timeout), or not: its
            # places, and the skipped places it carried, go to the next entry.
            with self._lock:
                for retention_class, n, skipped in placed:
                    self._skipped.setdefault(retention_class, []).extend([*skipped, n])

        return failed


_CHAINS: weakref.WeakSet[AuditChain] = weakref.WeakSet()


def _after_fork() -> None:
    for chain in list(_CHAINS):
        chain._forked()


os.register_at_fork(after_in_child=_after_fork)


# -- verification ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A broken or missing link: which chain, where, and what is wrong."""

    chain: str
    n: int
    kind: str  # "edited", "missing" or "moved"
    entry_id: str | None  # the entry found there (None for a missing one)
    detail: str


@dataclass
class ChainState:
    chain: str
    first: int  # the oldest surviving entry's number
    last: int = 0
    entries: int = 0
    # The first problem in this chain (by number), once the chain is read.
    finding: Finding | None = None
    # Entries before ``first`` are gone because they expired.
    expired_before: bool = False
    _mac: str = field(default=GENESIS, repr=False)
    _found: list[Finding] = field(default_factory=list, repr=False)
    # Numbers absent, and numbers a later entry said its writer failed to commit.
    _absent: set[int] = field(default_factory=set, repr=False)
    _skipped: set[int] = field(default_factory=set, repr=False)

    def close(self) -> None:
        unexplained = sorted(self._absent - self._skipped)
        if unexplained:
            self._found.append(
                Finding(self.chain, unexplained[0], "missing", None,
                        f"entries {_ranges(unexplained)} are missing")
            )  # fmt: skip
        if self._found:
            self.finding = min(self._found, key=lambda finding: finding.n)


@dataclass(frozen=True)
class Verification:
    chains: list[ChainState]
    checked: int
    # Entries written before the chain existed: nothing to check them by.
    unchained: int

    @property
    def findings(self) -> list[Finding]:
        return [chain.finding for chain in self.chains if chain.finding is not None]

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(
    key: bytes, entries: Iterable[tuple[str, dict]], *, now: datetime, unchained: int = 0
) -> Verification:
    """Check ``(document id, entry)`` pairs given in ``link`` order (each
    chain's entries together, by number), naming each chain's first broken
    or missing link. A missing number is not a finding when a later entry
    of its chain says its commit failed (``skipped``), or when the entry
    after it says the one before it had expired (``prev_expire_at``)."""
    chains: list[ChainState] = []
    state: ChainState | None = None
    checked = 0
    for entry_id, entry in entries:
        checked += 1
        chain, n = entry.get("chain"), entry.get("n")
        if not isinstance(chain, str) or not isinstance(n, int):
            continue  # "link" without its parts: its MAC cannot have matched
        if state is None or state.chain != chain:
            if state is not None:
                state.close()
            state = ChainState(chain=chain, first=n)
            chains.append(state)
        if n == state.last:
            state._found.append(
                Finding(chain, n, "moved", entry_id, "a second entry with this number")
            )
        elif n > state.last + 1:
            if _expired(entry.get("prev_expire_at"), now):
                state.expired_before = state.expired_before or state.entries == 0
            else:
                state._absent.update(range(state.last + 1, n))
        elif entry.get("prev") != state._mac:
            state._found.append(
                Finding(chain, n, "moved", entry_id, "its link to the entry before does not match")
            )
        if not hmac.compare_digest(str(entry.get("mac", "")), entry_mac(key, entry)):
            state._found.append(
                Finding(chain, n, "edited", entry_id, "its MAC does not match its content")
            )
        else:
            # Only an entry whose MAC holds may excuse a gap.
            state._skipped.update(n for n in entry.get("skipped") or () if isinstance(n, int))
            if entry.get("seq") != entry_id:
                state._found.append(
                    Finding(chain, n, "moved", entry_id,
                            f"it is stored as {entry_id}, not {entry.get('seq')}")
                )  # fmt: skip
        state.last, state._mac = n, str(entry.get("mac", ""))
        state.entries += 1
    if state is not None:
        state.close()
    return Verification(chains=chains, checked=checked, unchained=unchained)


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 7 -> "1 to 3, 7 to 7"."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{low} to {high}" for low, high in spans)


def _expired(when: object, now: datetime) -> bool:
    return isinstance(when, datetime) and when <= now
