"""Time zones and how a time is shown to a person.

Times are stored in UTC. Each admin may choose an IANA zone (the ``timezone``
field of their admin document, ``DEFAULT_TIMEZONE`` otherwise); every time a
person reads, on a page or in an email, is shown in that zone with its
abbreviation, its date and clock written the way their language writes them
(Babel's CLDR patterns). No Flask here: emails are rendered on background
threads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_time, get_datetime_format

MAX_ZONE_NAME = 64
NO_TIME = "—"


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The IANA zones a person may choose, sorted (for the chooser)."""
    # "Etc/GMT+9" means UTC-9 (POSIX sign): offered nowhere, it only confuses.
    return tuple(sorted(name for name in available_timezones() if not name.startswith("Etc/")))


def valid_zone(name: object) -> str | None:
    """``name`` if it is an IANA zone this system knows, else None."""
    if not isinstance(name, str) or not name or len(name) > MAX_ZONE_NAME:
        return None
    return name if _zone(name) is not None else None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def format_when(value: datetime | None, locale: str, zone: str) -> str:
    """``value`` as a person reads it: in ``zone``, with the zone's
    abbreviation, e.g. "Nov 30, 2026, 9:05 AM KST" or "2026. 11. 30. 오전 9:05 KST"."""
    if value is None:
        return NO_TIME
    if value.tzinfo is None:  # stored times are UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_zone(zone) or UTC)
    text = (
        get_datetime_format("medium", locale=locale)
        .replace("{1}", format_date(local, "medium", locale=locale))
        .replace("{0}", format_time(local, "short", locale=locale))
    )
    return f"{text} {local.tzname()}"
