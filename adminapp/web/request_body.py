"""Reading a JSON request body, whole, before anything is verified or written.

``request.get_json(silent=True)`` hides every failure as None, and a deeply
nested body (under the size cap) raises ``RecursionError`` from inside the
parser. Views call :func:`json_object` first, so that any malformed body is a
400 and no token is verified, nothing written, for a request that will fail.
"""

from __future__ import annotations

import json

from flask import request

from ..errors import InvalidInput, Refused
from ..i18n_marks import N_
from ..json_depth import text_too_deep

SEND_JSON = N_("Send a JSON object with Content-Type: application/json.")


def json_object(
    *, allowed: set[str] | None = None, required: bool = True, too_deep: type[Refused] | None = None
) -> dict:
    """The request's JSON object, or :class:`InvalidInput`. With ``allowed``,
    other keys are refused; without ``required`` an empty body is ``{}``.

    A body nested deeper than :data:`~adminapp.json_depth.MAX_DEPTH` is
    refused before it is parsed: with the refusal class ``too_deep`` when the
    route's one nested field has its own rule (the custom claims), else with
    a general 400.
    """
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    if not request.is_json:
        raise InvalidInput(SEND_JSON)
    try:
        # As json.loads(bytes) decodes: UTF-8, -16 or -32, told by the first bytes.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError:
        raise InvalidInput(SEND_JSON) from None
    if text_too_deep(text):
        raise too_deep() if too_deep else InvalidInput(N_("The JSON body is nested too deeply."))
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(SEND_JSON) from None
    if not isinstance(body, dict):
        raise InvalidInput(SEND_JSON)
    if allowed is not None and set(body) - allowed:
        raise InvalidInput(
            N_("Send only: %(fields)s."), params={"fields": ", ".join(sorted(allowed))}
        )
    return body
