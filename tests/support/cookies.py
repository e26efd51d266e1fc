"""The app's cookies as a test sees them, in either cookie mode.

``COOKIE_MODE=standard`` keeps each item (the session, Flask's state, the
language) in a cookie of its own; ``hosting`` keeps them all in ``__session``
(``adminapp/web/cookie_jar.py``). Tests ask for items, and these helpers
find them in whichever cookie the app under test uses, through the app's
own jar, so one test checks both modes.

Modules (or tests) marked ``@pytest.mark.both_cookie_modes`` run once per
mode: the ``cookie_mode`` fixture is parametrised (tests/conftest.py) and
the ``app`` fixture sets ``COOKIE_MODE`` from it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from adminapp.testing.sign_in import cookie_jar_for as jar_for
from adminapp.web.cookie_jar import (
    HOSTING_COOKIE,
    LANGUAGE,
    SESSION,
    STATE,
    CookieJar,
    Item,
    cookie_jar_of,
)

COOKIE_MODES = ("standard", "hosting")
__all__ = ["HOSTING_COOKIE", "LANGUAGE", "SESSION", "STATE", "jar_for"]


def _jar(client) -> CookieJar:
    return cookie_jar_of(client.application)


def _cookies(client) -> dict[str, str]:
    found = {}
    for name in _jar(client).cookie_names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            found[name] = cookie.value
    return found


def held(client, item: Item) -> Any:
    """The item as the client's browser holds it (None when it holds none)."""
    return _jar(client).items_in(_cookies(client)).get(item)


def carrier(client, item: Item):
    """The cookie that carries ``item`` in the client's browser (werkzeug's
    ``Cookie``: its attributes), with ``value`` replaced by the item's own
    value; None when the browser holds no such item."""
    value = held(client, item)
    if value is None:
        return None
    jar = _jar(client)
    name = HOSTING_COOKIE if jar.mode == "hosting" else jar.name(item)
    return dataclasses.replace(client.get_cookie(name), value=value)


def present(client, item: Item, value: Any) -> None:
    """Make the client's browser hold ``value`` as ``item`` (the rest as it
    was), as a browser that was handed it would: for a session id minted
    elsewhere, an edited cookie, a replayed one."""
    jar = _jar(client)
    items = jar.items_in(_cookies(client))
    items[item] = value
    for name, encoded in jar.cookies_for(items).items():
        client.set_cookie(name, encoded)


def set_cookie_names(response) -> list[str]:
    """The names of the cookies a response sets (or deletes)."""
    return [header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")]


def items_set_by(client, response) -> dict[Item, Any]:
    """The items a response sets, as its Set-Cookie headers carry them
    (deleted ones left out)."""
    values = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if value:
            values[name] = value
    return _jar(client).items_in(values)
