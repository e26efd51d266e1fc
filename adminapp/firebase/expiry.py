"""What Firestore's TTL policy will delete, and when: counted the same way
for session records and audit entries (each carries ``expire_at``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ExpiryCounts:
    # period (a day, a month) of expire_at -> documents, for those to come.
    by_period: dict[date, int]
    # Past their expire_at: Firestore deletes them within about a day.
    overdue: int
    # Written before expire_at existed: kept until deleted or backfilled.
    without_expiry: int


def count_expiry(
    values: Iterable[object], now: datetime, period: Callable[[datetime], date]
) -> ExpiryCounts:
    """Count ``expire_at`` values by ``period``; anything not a time is a
    document without one."""
    by_period: Counter[date] = Counter()
    overdue = without = 0
    for when in values:
        if not isinstance(when, datetime):
            without += 1
        elif when <= now:
            overdue += 1
        else:
            by_period[period(when)] += 1
    return ExpiryCounts(dict(sorted(by_period.items())), overdue, without)
