"""Template filters for the admin pages."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from ua_parser import parse

from ...client import MAX_USER_AGENT
from . import bp


@bp.app_template_filter("when")
def when(value: datetime | None) -> str:
    """A timestamp as admins read it: UTC, to the minute."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("device")
def device(user_agent: str | None) -> str:
    """'Chrome 156 on Linux' from a User-Agent string."""
    if not user_agent:
        return "Unknown device"
    # Cut before parsing and before the cache: entries stored before the
    # storage limit may hold kilobytes, and parsing grows with the length.
    # The cache is keyed by the cut string, so long variants that share a
    # beginning cost one parse, and each entry it keeps is small.
    return _describe(user_agent[:MAX_USER_AGENT])


@lru_cache(maxsize=512)
def _describe(user_agent: str) -> str:
    parsed = parse(user_agent)
    browser = parsed.user_agent
    name = "Unknown browser"
    if browser is not None:
        name = " ".join(part for part in (browser.family, browser.major) if part)
    system = parsed.os.family if parsed.os is not None else None
    return f"{name} on {system}" if system and system != "Other" else name
