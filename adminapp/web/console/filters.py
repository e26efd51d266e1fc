"""Template filters for the admin pages."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import gettext as _
from ua_parser import parse

from ...client import MAX_USER_AGENT
from . import bp


@bp.app_template_filter("device")
def device(user_agent: str | None) -> str:
    """'Chrome 156 on Linux' from a User-Agent string."""
    if not user_agent:
        return _("Unknown device")
    # Cut before parsing and before the cache: entries stored before the
    # storage limit may hold kilobytes, and parsing grows with the length.
    # The cache is keyed by the cut string, so long variants that share a
    # beginning cost one parse, and each entry it keeps is small.
    name, system = _describe(user_agent[:MAX_USER_AGENT])
    browser = name or _("Unknown browser")
    return _("%(browser)s on %(system)s", browser=browser, system=system) if system else browser


@lru_cache(maxsize=512)
def _describe(user_agent: str) -> tuple[str, str | None]:
    """(browser and version, operating system): names, not words, so the
    cache holds no language."""
    parsed = parse(user_agent)
    browser = parsed.user_agent
    name = ""
    if browser is not None:
        name = " ".join(part for part in (browser.family, browser.major) if part)
    system = parsed.os.family if parsed.os is not None else None
    return name, system if system and system != "Other" else None
