"""Steps of the password reset flow, as a browser's requests would make them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from adminapp import create_app
from adminapp.web.extensions import limiter
from tests.support.web import csrf_token

_LINK = re.compile(r"https?://\S+/admin/resetpassword/confirm\?oobCode=[\w-]+")
_HIDDEN_CODE = re.compile(r'name="oob_code" type="hidden" value="([^"]+)"')


def request_reset(client, email: str, *, csrf: bool = True, **kwargs):
    data = {"email": email}
    if csrf:
        data["csrf_token"] = csrf_token(client)
    return client.post("/admin/resetpassword", data=data, **kwargs)


def settle(app) -> None:
    """Wait until the background deliveries queued so far are done."""
    app.extensions["adminapp"].background.drain()


def link_in(message: EmailMessage) -> str:
    """The confirmation link in the plain-text part of one of our emails."""
    text = message.get_body(("plain",)).get_content()
    match = _LINK.search(text)
    assert match, text
    return match.group(0)


def carries_a_link(message: EmailMessage) -> bool:
    """Whether one of our emails carries a confirmation link (an invitation
    or a reset; not a notice or an alert)."""
    return _LINK.search(message.get_body(("plain",)).get_content()) is not None


def code_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["oobCode"][0]


def set_password(client, code: str, password: str, repeat: str | None = None, **extra):
    """Open the confirmation page for ``code`` and submit a new password."""
    return client.post(
        "/admin/resetpassword/confirm",
        data={
            "csrf_token": csrf_token(client),
            "oob_code": code,
            "password": password,
            "repeat": password if repeat is None else repeat,
            **extra,
        },
    )


class FirebaseOutbox:
    """Password reset emails the Auth emulator records (firebase mode).

    The emulator keeps its oobCodes list even when accounts are deleted, and
    has no call to empty it: only codes made after this snapshot count.
    """

    def __init__(self, auth_emulator):
        self._emulator = auth_emulator
        self._before = {code["oobCode"] for code in auth_emulator.oob_codes()}

    def sent(self, email: str | None = None) -> list[dict]:
        return [
            code
            for code in self._emulator.oob_codes()
            if code["oobCode"] not in self._before
            and code.get("requestType") == "PASSWORD_RESET"
            and (email is None or code["email"] == email)
        ]


@contextmanager
def fresh_app(config: dict[str, str]) -> Iterator:
    """An app of its own (for settings a test chooses late), with fresh rate
    limits, closed afterwards."""
    app = create_app(config)
    limiter.reset()
    try:
        yield app
    finally:
        app.extensions["adminapp"].close()
