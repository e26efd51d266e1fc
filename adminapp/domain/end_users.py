"""The product's end users (the accounts of Firebase Authentication) as the
users console sees them, and the refusal for an unknown one: what
``adminapp/firebase/users.py`` reads, the services act on and the views
show, apart from how Firebase stores them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import NotFound
from ..i18n_marks import N_

# list_users answers at most this many per page (the Admin SDK's own cap).
MAX_PAGE_SIZE = 1000
MAX_PAGE_TOKEN_LENGTH = 2048


class UserNotFound(NotFound):
    code = "user_not_found"

    def __init__(self, key: str):
        super().__init__(N_("There is no Firebase user %(key)s."), params={"key": key})


@dataclass(frozen=True)
class SecondFactor:
    """One enrolment of Firebase's own multi-factor authentication."""

    factor_id: str  # "phone" or "totp"
    display_name: str | None
    phone: str | None  # masked by Firebase for phone factors
    enrolled_at: str | None
    # Firebase's id of this enrolment: an ID token of a sign-in that used
    # it names it in firebase.second_factor_identifier.
    enrolment_id: str = ""


@dataclass(frozen=True)
class EndUser:
    """What the console shows about one Firebase Auth account."""

    uid: str
    email: str | None
    email_verified: bool
    display_name: str | None
    phone: str | None
    providers: tuple[str, ...]
    created_at: datetime | None
    last_sign_in_at: datetime | None
    tokens_valid_after: datetime | None
    disabled: bool
    custom_claims: dict
    second_factors: tuple[SecondFactor, ...]

    @property
    def label(self) -> str:
        """How the audit trail names the user: the email, or the uid without one."""
        return self.email or self.uid


@dataclass(frozen=True)
class UsersPage:
    users: list[EndUser]
    next_token: str | None  # pass as ``token`` for the following page
