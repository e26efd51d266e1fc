"""Working hours: the days and the time of day staff are expected to handle
personal data. The monthly access review (services/access_review.py) flags
what happens outside them, in each admin's own time zone.

Parsed from WORKING_HOURS (``09:00-18:00``) and WORKING_DAYS (``mon-fri``)
by adminapp/config/readers.py; public holidays are not known here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class WorkingHours:
    # From ``start`` (included) to ``end`` (excluded), local time; start < end.
    start: time
    end: time
    # Weekday numbers (Monday 0), as datetime.weekday() gives them.
    days: frozenset[int]

    def __post_init__(self):
        if not self.start < self.end:
            raise ValueError("working hours must start before they end")
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("working days are weekday numbers 0 to 6, at least one")

    def within(self, local: datetime) -> bool:
        """Whether a local (zone-aware) time falls in working hours."""
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def __str__(self) -> str:
        days = ",".join(DAYS[day] for day in sorted(self.days))
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


def parse_hours(text: str) -> tuple[time, time]:
    """``09:00-18:00`` -> (09:00, 18:00); ValueError when malformed or
    when the end is not after the start (a night shift is two settings'
    worth of rules this does not model)."""
    parts = text.replace(" ", "").split("-")
    if len(parts) != 2 or not all(_CLOCK.match(part) for part in parts):
        raise ValueError("not HH:MM-HH:MM")
    start, end = (time(int(part[:2]), int(part[3:])) for part in parts)
    if not start < end:
        raise ValueError("the end is not after the start")
    return start, end


def parse_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``mon,wed,fri`` or ``mon-thu,sat`` -> weekday numbers;
    ValueError for an unknown day or a range that runs backwards."""
    days: set[int] = set()
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        first, dash, last = item.partition("-")
        if first not in DAYS or (dash and last not in DAYS):
            raise ValueError(f"{item!r} is not a day or a range of days")
        low, high = DAYS.index(first), DAYS.index(last or first)
        if high < low:
            raise ValueError(f"{item!r} runs backwards")
        days.update(range(low, high + 1))
    if not days:
        raise ValueError("no day given")
    return frozenset(days)
