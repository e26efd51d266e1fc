"""Where to send an admin after signing in: our own pages only.

``next`` comes from the URL, so anyone can craft it. We accept only a plain
path inside the admin area and fall back to the dashboard for anything else,
rather than trying to repair it: "//evil.example", "/\\evil.example",
"https://evil.example", "javascript:..." and their encoded forms all fail the
pattern because they do not start with "/admin" followed by "/", "?" or the
end, or because they contain a backslash, a doubled slash, a control
character, a dot segment, or an encoded dot, slash or backslash.
"""

from __future__ import annotations

import re

DASHBOARD = "/admin/"
MAX_NEXT_LENGTH = 512
_ADMIN_PATH = re.compile(r"^/admin(?:[/?][!#-\[\]-~]*)?$")  # printable ASCII, no backslash
_SNEAKY = re.compile(r"//|/\.|%(?:2e|2f|5c|00|0[9ad])|[\x00-\x20\x7f\\]", re.IGNORECASE)


def safe_next(candidate: object) -> str:
    """``candidate`` if it is a path inside the admin area, else the dashboard."""
    if not isinstance(candidate, str) or len(candidate) > MAX_NEXT_LENGTH:
        return DASHBOARD
    if not _ADMIN_PATH.match(candidate) or _SNEAKY.search(candidate):
        return DASHBOARD
    return candidate
