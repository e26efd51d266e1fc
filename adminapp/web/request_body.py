"""Reading a JSON request body, whole, before anything is verified or written.

``request.get_json(silent=True)`` hides every failure as None, and a deeply
nested body (under the size cap) raises ``RecursionError`` from inside the
parser. Views call :func:`json_object` first, so that any malformed body is a
400 and no token is verified, nothing written, for a request that will fail.
"""

from __future__ import annotations

import json

from flask import request

from ..errors import InvalidInput
from ..i18n_marks import N_

SEND_JSON = N_("Send a JSON object with Content-Type: application/json.")
# Our bodies are flat objects; anything nested deeper is not one of them.
MAX_DEPTH = 8


def json_object(*, allowed: set[str] | None = None, required: bool = True) -> dict:
    """The request's JSON object, or :class:`InvalidInput`. With ``allowed``,
    other keys are refused; without ``required`` an empty body is ``{}``."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    if not request.is_json:
        raise InvalidInput(SEND_JSON)
    if _too_deep(raw):
        raise InvalidInput(N_("The JSON body is nested too deeply."))
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput(SEND_JSON) from None
    if not isinstance(body, dict):
        raise InvalidInput(SEND_JSON)
    if allowed is not None and set(body) - allowed:
        raise InvalidInput(
            N_("Send only: %(fields)s."), params={"fields": ", ".join(sorted(allowed))}
        )
    return body


def _too_deep(raw: bytes) -> bool:
    # Counted on the raw bytes, before the parser recurses; brackets inside
    # strings count too, which only errs towards refusing a strange body.
    depth = 0
    for byte in raw:
        if byte in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in b"]}":
            depth -= 1
    return False
