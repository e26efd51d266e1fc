"""Reading ``Authorization: Bearer <Firebase ID token>`` headers."""

from __future__ import annotations

import re

from ..errors import Refused
from ..i18n_marks import N_

# A Firebase ID token is a JWT of about 1 KB; the emulator's are unsigned,
# hence the empty third part is allowed.
MAX_TOKEN_LENGTH = 4096
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class BadAuthorization(Refused):
    """The header is missing (401) or cannot hold an ID token (400)."""

    code = "bad_authorization"

    def __init__(self, status: int, message: str):
        super().__init__(message, status=status)


def has_bearer(header: str | None) -> bool:
    return bool(header) and header.split(" ", 1)[0].lower() == "bearer"


def bearer_token(header: str | None) -> str:
    """The token from the header, or :class:`BadAuthorization` saying what is wrong."""
    if not header:
        raise BadAuthorization(
            401, N_("Send the Firebase ID token as 'Authorization: Bearer <token>'.")
        )
    if len(header) > MAX_TOKEN_LENGTH + len("Bearer "):
        raise BadAuthorization(
            400, N_("The Authorization header is too large to be a Firebase ID token.")
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise BadAuthorization(
            400, N_("The Authorization header must have the form 'Bearer <token>'.")
        )
    if not _JWT.match(token):
        raise BadAuthorization(
            400, N_("The Authorization header does not hold a Firebase ID token.")
        )
    return token
