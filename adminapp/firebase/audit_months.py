"""A stretch of the audit trail read in time order, a page at a time: what
the monthly access review (services/access_review.py) summarises.

Entry ids (``seq``) start with their UTC time (``20261122T235958123456Z-…``,
audit.py), so a span of time is a range of ids: one range filter on one
field, ordered by it, needs no composite index, and paging continues with
``seq > last id seen`` because the local emulator has no query cursors.
Only the fields the review reads are fetched (not the user agent), and a
page is handed on before the next is read: memory holds one page, however
large the month.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from google.cloud.firestore import FieldFilter

from .audit import AUDIT
from .backend import FirebaseBackend

# Entries per query: big enough that a month of a busy trail takes few
# round trips, small enough that one page is a few megabytes at most (an
# access record names up to 1000 subjects).
PAGE = 500
# What the review reads of an entry.
FIELDS = (
    "seq", "time", "event", "actor", "target", "target_uid", "outcome", "reason", "ip",
    "task", "subject_uids", "query", "dataset", "format", "rows", "export_id",
)  # fmt: skip
_ID_TIME = "%Y%m%dT%H%M%S%f"
# Reviews of one month: far more than anyone makes; the newest are kept.
MAX_REVIEWS = 200


def id_at(moment: datetime) -> str:
    """The prefix of the ids of entries written at ``moment``: every entry
    written at or after it has an id >= this, every one before an id < it."""
    return f"{moment.astimezone(UTC):{_ID_TIME}}Z"


def id_just_after(seq: str) -> str:
    """A paging cursor that sorts after ``seq`` and before any entry of a
    later microsecond: ``before=`` it, the trail page starts with that entry."""
    moment = datetime.strptime(seq[: len("20261122T235958123456")], _ID_TIME)
    return f"{moment + timedelta(microseconds=1):{_ID_TIME}}Z-00000000"


class TrailMonths:
    def __init__(self, backend: FirebaseBackend):
        self._backend = backend

    def between(self, start: datetime, end: datetime) -> Iterator[dict]:
        """Every entry written from ``start`` (included) to ``end``
        (excluded), oldest first, as stored (the fields in FIELDS)."""
        collection = self._backend.firestore.collection(AUDIT)
        high = id_at(end)
        low, operator = id_at(start), ">="
        while True:
            query = (
                collection.where(filter=FieldFilter("seq", operator, low))
                .where(filter=FieldFilter("seq", "<", high))
                .order_by("seq")
                .limit(PAGE)
                .select(list(FIELDS))
            )
            with self._backend.firestore_call("read a month of the audit trail"):
                page = [snapshot.to_dict() or {} for snapshot in query.stream(**self._rpc())]
            yield from page
            if len(page) < PAGE:
                return
            low, operator = page[-1]["seq"], ">"

    def entries_about(self, event: str, target: str) -> list[dict]:
        """The entries of ``event`` whose target is ``target`` (the reviews
        of one month), newest first; at most MAX_REVIEWS."""
        query = (
            self._backend.firestore.collection(AUDIT)
            .where(filter=FieldFilter("event", "==", event))
            .where(filter=FieldFilter("target", "==", target))
            .limit(MAX_REVIEWS)
        )
        with self._backend.firestore_call("read an event's entries about one target"):
            found = [snapshot.to_dict() or {} for snapshot in query.stream(**self._rpc())]
        return sorted(found, key=lambda entry: entry.get("seq") or "", reverse=True)

    def _rpc(self) -> dict:
        return self._backend.rpc_options()
