"""How deeply JSON from a person or a script may nest: one rule, used for
request bodies (``web/request_body.py``) and custom claims typed on a page,
at the command line or sent to the API (``services/users.py``).

Python's ``json`` recurses once per level, when it parses and when it
serialises: a few thousand ``[`` raise ``RecursionError`` from inside the
parser, a 500 on a page and a traceback at the CLI. So depth is measured
first, without recursion, and a document deeper than the limit is refused
before it is parsed.
"""

from __future__ import annotations

# Our JSON (bodies, claims) is flat or nearly so; nothing legitimate nests
# this deep, and nothing this shallow comes near the recursion limit.
MAX_DEPTH = 8

_OPEN = frozenset("[{")
_CLOSE = frozenset("]}")


def text_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests deeper than ``limit`` arrays and objects.

    Brackets inside strings do not count. Malformed text is measured as far
    as it goes; the parser refuses it afterwards.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSE:
            depth -= 1
    return False


def value_too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """The same rule for an already parsed value (lists and dicts)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
