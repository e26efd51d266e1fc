"""An admin as the rules see it, and the refusals about admins: what the
directory (``adminapp/firebase/admins.py``) reads and writes, the services
decide on and the views show, apart from how it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n_marks import N_
from .permissions import Permission, role_holds
from .roles import OWNER, ROLES, RoleBook


class AdminExists(Conflict):
    code = "admin_exists"


class AdminNotFound(NotFound):
    def __init__(self, email: str):
        super().__init__(N_("%(email)s is not an admin."), params={"email": email})


class ActingAbove(Forbidden):
    """The actor would change an admin whose role holds permissions the
    actor does not: nobody changes the role of, disables, enables, removes,
    unlocks or resets or approves the second factors of someone above them.
    With custom roles "above" is a set, not a rank: a role that may change
    roles must not reach an owner."""

    code = "acting_above"

    def __init__(self, email: str, missing: frozenset[str]):
        super().__init__(
            N_(
                "%(email)s holds permissions you do not (%(permissions)s): only an admin "
                "who holds all of them may change this account."
            ),
            params={"email": email, "permissions": ", ".join(sorted(missing))},
        )


class LastOwner(Conflict):
    """The change would leave the admin area without an enabled owner."""

    code = "last_owner"


@dataclass(frozen=True)
class Admin:
    email: str
    role: str
    disabled: bool = False
    uid: str | None = None
    display_name: str | None = None
    created_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    # How many second factors (passkeys, TOTP) the admin has enrolled; kept
    # with the factors by adminapp/firebase/factors.py.
    second_factors: int = 0
    # A script's account: its bearer calls need no Firebase second-factor
    # claim (services/access.py). Set only from the CLI, audited.
    service_account: bool = False
    # The admin's own language and IANA time zone for pages and emails; None
    # follows the browser / DEFAULT_LOCALE and DEFAULT_TIMEZONE. Read with
    # the document the guard already loads: choosing them costs no read.
    locale: str | None = None
    timezone: str | None = None
    # The enrolments of Firebase's own MFA that count as this admin's second
    # factor when ACCEPT_FIREBASE_SECOND_FACTOR is on (their ids; approved by
    # the admin from a full session, or by an owner: services/mfa/firebase_factors.py).
    trusted_firebase_factors: frozenset[str] = frozenset()
    # What the invitation said about the first sign-in, which binds ``uid``
    # (services/access.py, first_sign_in_refusal): the sign-in method it
    # must use ("password", "google.com", …; None: any allowed one), and,
    # when the invitation found a Firebase account already there, the cut-off
    # it must come after (the account's tokens_valid_after once the
    # invitation took it back). Unreadable values refuse the first sign-in.
    invited_provider: str | None = None
    first_sign_in_after: datetime | None = None
    # Made by a ROLE_RULES rule at a first sign-in: the rules keep its role
    # (and remove it when none matches). False for every admin added by hand,
    # and once an owner changes its role by hand (services/access.py).
    managed_by_rule: bool = False
    # The document's update time when read; binding the uid is conditional
    # on it, so two racing first sign-ins cannot both bind.
    version: datetime | None = None
    # A custom role's permission names, read in the same batch as this
    # document (admin_roles/custom); None for a built-in role.
    granted: frozenset[str] | None = None

    def holds(self, permission: Permission) -> bool:
        """Whether this admin's role holds ``permission``; nothing once disabled."""
        if self.disabled:
            return False
        if self.granted is not None:
            return permission.name in self.granted
        return role_holds(self.role, permission)

    @property
    def active_owner(self) -> bool:
        return self.role == OWNER and not self.disabled


@dataclass(frozen=True)
class AdminChange:
    """An admin document before and after a change (``after`` is None when removed)."""

    before: Admin
    after: Admin | None


class UnknownRole(InvalidInput):
    """A role that is neither built in nor one of the custom roles."""

    code = "unknown_role"

    def __init__(self, role: str, book: RoleBook):
        super().__init__(
            N_("%(role)s is not a role; choose one of %(roles)s."),
            params={"role": repr(role), "roles": ", ".join(role_names(book))},
        )


def role_names(book: RoleBook) -> list[str]:
    """Every role an admin may be given: the built-in ones, then the custom ones."""
    return [*ROLES, *book.names()]
