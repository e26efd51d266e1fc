"""The users console's rules: who may do what to a product's end users.

The route (or the CLI) decides who is asking; this module decides whether
they may, then acts through :mod:`adminapp.firebase.users` and writes an
audit entry naming the target's email and uid, so the trail's target filter
finds it by either. The rules, beyond each route's permission:

* each action needs its permission (:data:`ACTIONS`,
  ``adminapp/domain/permissions.py``), checked here again so that the pages,
  the API and the CLI cannot drift apart; one declared ``step_up`` needs a
  recent second-factor proof;
* acting on an account that is also an admin needs ``users.admin_accounts``
  (owners) and a recent proof too: disabling, revoking or resetting an
  admin's own Firebase account locks them out of the admin area as surely as
  the admins page would;
* nobody disables or deletes their own account from here, and an admin's
  account is not deleted (remove them from the admins first);
* custom claims are validated before anything is sent (:func:`parse_claims`);
* an address with a pending invitation (an admin document not bound to a
  uid yet) is not marked verified here: its owner proves it by signing in.

Every look is an access record too (PIPA, docs/pipa.md): a search with its
query, a list page with the uids it showed, a user's page. A lookup that
finds nobody is recorded as ``failed`` with what was looked for (probing for
accounts is what the monthly check looks for); a request refused before the
lookup (role, bad input) is not, as nothing was looked at. Each record is one
write and no read.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from ..addresses import InvalidEmail, identity_key
from ..client import Client
from ..domain.admins import Admin
from ..domain.audit import DataSubject
from ..domain.end_users import EndUser, UserNotFound, UsersPage
from ..domain.permissions import (
    USERS_ADMIN_ACCOUNTS,
    USERS_CLAIMS,
    USERS_DELETE,
    USERS_DISABLE,
    USERS_RESET,
    USERS_REVOKE,
    USERS_VERIFY,
    MissingPermission,
    Permission,
)
from ..errors import Conflict, Forbidden, InvalidInput, Refused
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.users import FirebaseUsers
from ..i18n_marks import N_
from ..json_depth import MAX_DEPTH, text_too_deep, value_too_deep
from ..mail.password_links import LinkDeliveryError
from .mfa.refusals import StepUpRequired
from .password_reset import PasswordReset

# action -> (the permission it needs, its audit event, its task in the access
# records' vocabulary)
ACTIONS: dict[str, tuple[Permission, str, str]] = {
    "disable": (USERS_DISABLE, "user_disabled", "edit"),
    "enable": (USERS_DISABLE, "user_enabled", "edit"),
    "revoke": (USERS_REVOKE, "user_tokens_revoked", "edit"),
    "reset": (USERS_RESET, "user_password_reset_sent", "edit"),
    "verify": (USERS_VERIFY, "user_email_verified", "edit"),
    "claims": (USERS_CLAIMS, "user_claims_set", "edit"),
    "delete": (USERS_DELETE, "user_deleted", "delete"),
}
# Where a user page's access record is written while the page reads on
# (UsersConsole.show). Threads start on first use, after any fork; the copied
# context carries the request's round-trip count and background jobs.
_side_by_side = ThreadPoolExecutor(max_workers=8, thread_name_prefix="access-record")
# Refusing an action on one's own account, per action (_not_self).
OWN_ACCOUNT = {
    "disable": N_("You cannot disable your own account here."),
    "enable": N_("You cannot enable your own account here."),
    "delete": N_("You cannot delete your own account here."),
}
PENDING_INVITATION = N_(
    "%(user)s has been invited as an admin and has not signed in yet: its email is "
    "verified by their own first sign-in (the invitation's link), not here."
)
# Firebase's limit on the serialised claims, and the names it reserves (the
# OIDC claims and "firebase"); tests/unit/test_user_claims.py checks both
# against the pinned Admin SDK.
MAX_CLAIMS_BYTES = 1000
RESERVED_CLAIMS = frozenset(
    {
        "acr", "amr", "at_hash", "aud", "auth_time", "azp", "cnf", "c_hash",
        "exp", "firebase", "iat", "iss", "jti", "nbf", "nonce", "sub",
    }
)  # fmt: skip


# How deeply claims may nest: the one JSON depth rule (adminapp/json_depth.py),
# one level less than a request body, because the API carries the claims one
# level down ({"claims": ...}). Every path thus accepts the same claims.
MAX_CLAIMS_DEPTH = MAX_DEPTH - 1


class InvalidClaims(InvalidInput):
    code = "invalid_claims"


class ClaimsTooDeep(InvalidClaims):
    def __init__(self):
        super().__init__(
            N_("Custom claims can nest at most %(depth)s levels of objects and lists."),
            params={"depth": MAX_CLAIMS_DEPTH},
        )


class ResetNotSent(Refused):
    """The reset email could not be made or sent (Firebase or SMTP refused)."""

    status = 502
    code = "reset_not_sent"


@dataclass(frozen=True)
class Actor:
    """Who acts: an admin (by email) or an operator at the CLI (``cli:<user>``),
    with the permissions they hold (their role's names, resolved by the
    caller: the guard's, or the CLI's owner rights)."""

    name: str
    # The role's name, for a refusal's message; the rules read ``permissions``.
    role: str
    permissions: frozenset[str]
    client: Client | None = None
    # The actor's last second-factor proof is older than STEP_UP_MINUTES
    # (services/mfa/stages.py step_up_due); never for an operator at the CLI.
    step_up_due: bool = False

    def can(self, permission: Permission) -> bool:
        return permission.name in self.permissions


@dataclass(frozen=True)
class UserDetail:
    user: EndUser
    admin: Admin | None  # the admin document with the same email, if any


def parse_claims(value: object) -> dict:
    """Custom claims as Firebase will take them, from JSON text (the page's
    editor, the CLI) or an already-parsed value (the API). Depth is measured
    before the text is parsed or the value serialised: both recurse."""
    if isinstance(value, str):
        if text_too_deep(value, MAX_CLAIMS_DEPTH):
            raise ClaimsTooDeep()
        try:
            value = json.loads(value)
        except ValueError as error:
            raise InvalidClaims(
                N_("The claims are not valid JSON: %(error)s."), params={"error": error}
            ) from None
    if not isinstance(value, dict):
        raise InvalidClaims(N_('Custom claims must be a JSON object, such as {"plan": "pro"}.'))
    if value_too_deep(value, MAX_CLAIMS_DEPTH):
        raise ClaimsTooDeep()
    # Measured the way the Admin SDK serialises them before sending.
    size = len(json.dumps(value).encode())
    if size > MAX_CLAIMS_BYTES:
        raise InvalidClaims(
            N_("The claims are %(size)s bytes once serialised; Firebase allows %(max)s."),
            params={"size": size, "max": MAX_CLAIMS_BYTES},
        )
    reserved = sorted(RESERVED_CLAIMS.intersection(value))
    if reserved:
        raise InvalidClaims(
            N_("%(names)s is a reserved claim name and cannot be set.")
            if len(reserved) == 1
            else N_("%(names)s are reserved claim names and cannot be set."),
            params={"names": ", ".join(reserved)},
        )
    return value


@dataclass(frozen=True, kw_only=True)
class UsersConsole:
    users: FirebaseUsers
    directory: AdminDirectory
    audit: AuditTrail
    resets: PasswordReset
    page_size: int

    # -- reading -------------------------------------------------------------

    def find(self, query: str, actor: Actor) -> EndUser:
        """A user by email (has an @), phone number (starts with +) or uid:
        the API's and the CLI's search, which answer the user alone."""
        query, user = self._search(query, actor)
        self._looked("search", actor, [user], query=query)
        return user

    def search(self, query: str, actor: Actor) -> UserDetail:
        """:meth:`find` for the console, whose answer is the user's page: one
        request and one ``search`` record, not a search and then a ``view``
        of the same person (docs/performance.md)."""
        query, user = self._search(query, actor)
        return self._detail(user, actor, "search", query=query)

    def show(self, uid: str, actor: Actor) -> UserDetail:
        with self._looking("view", actor, query=uid):
            user = self.users.get_user(uid)
        return self._detail(user, actor, "view")

    def page(self, token: str | None, size: int | None, actor: Actor) -> UsersPage:
        page = self.users.list_users(token, size or self.page_size)
        if page.users:  # an empty page shows nobody's data
            self._looked("print", actor, page.users)
        return page

    def _search(self, query: str, actor: Actor) -> tuple[str, EndUser]:
        query = query.strip()
        if not query:
            raise InvalidInput(N_("Enter an email address, a phone number or a uid."))
        with self._looking("search", actor, query=query):
            if "@" in query:
                return query, self.users.get_user_by_email(query)
            if query.startswith("+"):
                return query, self.users.get_user_by_phone(query)
            return query, self.users.get_user(query)

    def _detail(
        self, user: EndUser, actor: Actor, task: str, *, query: str | None = None
    ) -> UserDetail:
        # The record's write and the admin read need nothing of each other:
        # side by side, the record adds little to the page's wait
        # (docs/performance.md). The page still waits for both: a look that
        # could not be recorded is not shown (503).
        recorded = _side_by_side.submit(
            contextvars.copy_context().run, self._looked, task, actor, [user], query=query
        )
        admin = self._admin_for(user)
        recorded.result()
        return UserDetail(user=user, admin=admin)

    @contextmanager
    def _looking(self, task: str, actor: Actor, *, query: str) -> Iterator[None]:
        """Record a lookup that finds nobody, then let the refusal through."""
        try:
            yield
        except UserNotFound:
            self.audit.record_access(
                task,
                actor=actor.name,
                subjects=(),
                query=query,
                outcome="failed",
                reason="not_found",
                client=actor.client,
            )
            raise

    def _looked(
        self, task: str, actor: Actor, users: list[EndUser], *, query: str | None = None
    ) -> None:
        self.audit.record_access(
            task,
            actor=actor.name,
            subjects=[DataSubject(uid=user.uid, email=user.email) for user in users],
            query=query,
            client=actor.client,
        )

    # -- actions -------------------------------------------------------------

    def set_disabled(self, uid: str, disabled: bool, actor: Actor) -> EndUser:
        user = self._allowed(uid, "disable" if disabled else "enable", actor)
        self._not_self(user, actor, "disable" if disabled else "enable")
        self.users.set_disabled(uid, disabled)
        self._record("disable" if disabled else "enable", user, actor)
        return user

    def revoke_refresh_tokens(self, uid: str, actor: Actor) -> EndUser:
        user = self._allowed(uid, "revoke", actor)
        self.users.revoke_refresh_tokens(uid)
        self._record("revoke", user, actor)
        return user

    def mark_email_verified(self, uid: str, actor: Actor) -> EndUser:
        user = self._allowed(uid, "verify", actor)
        if not user.email:
            raise InvalidInput(N_("This user has no email address to verify."))
        admin = self._admin_for(user)
        if admin is not None and admin.uid is None:
            # An invitation waits for this address's first sign-in: a verified
            # email is what would let an account someone else made take it.
            raise Conflict(
                PENDING_INVITATION, code="pending_invitation", params={"user": user.label}
            )
        self.users.mark_email_verified(uid)
        self._record("verify", user, actor)
        return user

    def send_password_reset(
        self, uid: str, actor: Actor, *, gate: Callable[[str], None] | None = None
    ) -> EndUser:
        """Send a reset link through RESET_DELIVERY. ``gate(email)`` raises
        when the address has had enough emails: the rate limits live with
        the reset form (adminapp/web/auth/reset.py), and the pages and the
        API pass them in."""
        user = self._allowed(uid, "reset", actor)
        if not user.email:
            raise InvalidInput(N_("This user has no email address to send a link to."))
        if user.disabled:
            raise Conflict(N_("This account is disabled: enable it before sending a reset link."))
        if gate is not None:
            gate(user.email)
        try:
            self.resets.send_link(user.email, "reset")
        except LinkDeliveryError as error:
            self._record("reset", user, actor, outcome="failed", reason=error.cause)
            raise ResetNotSent(
                N_("The reset email could not be sent. Try again later; the failure is logged.")
            ) from None
        self._record("reset", user, actor)
        return user

    def set_custom_claims(self, uid: str, claims: object, actor: Actor) -> EndUser:
        claims = parse_claims(claims)  # validated before anything is read or sent
        user = self._allowed(uid, "claims", actor)
        self.users.set_custom_user_claims(uid, claims)
        self._record("claims", user, actor, reason=f"keys: {', '.join(sorted(claims)) or '-'}")
        return user

    def delete(self, uid: str, confirmation: str, actor: Actor) -> EndUser:
        user = self._allowed(uid, "delete", actor)
        self._not_self(user, actor, "delete")
        expected = user.email or user.uid
        if confirmation.strip().lower() != expected.lower():
            raise InvalidInput(
                N_("Type %(expected)s exactly to confirm the deletion."),
                code="confirmation_mismatch",
                params={"expected": expected},
            )
        if self._admin_for(user) is not None:
            raise Conflict(
                N_("%(expected)s is an admin: remove them from the admins first."),
                code="user_is_admin",
                params={"expected": expected},
            )
        self.users.delete_user(uid)
        self._record("delete", user, actor)
        return user

    # -- rules ---------------------------------------------------------------

    def _allowed(self, uid: str, action: str, actor: Actor) -> EndUser:
        """The user, once ``actor`` may do ``action`` to them."""
        permission, _event, _task = ACTIONS[action]
        if not actor.can(permission):
            raise MissingPermission(permission, actor.role)
        user = self.users.get_user(uid)
        target_is_admin = self._admin_for(user) is not None
        if target_is_admin and not actor.can(USERS_ADMIN_ACCOUNTS):
            self._record(action, user, actor, outcome="refused", reason="target_is_admin")
            raise Forbidden(
                N_(
                    "%(user)s is also an admin of this area: only an owner can change "
                    "their account."
                ),
                code="target_is_admin",
                params={"user": user.label},
            )
        needs_proof = permission.step_up or (target_is_admin and USERS_ADMIN_ACCOUNTS.step_up)
        if needs_proof and actor.step_up_due:
            # The caller judged the proof from its session or token
            # (Actor.step_up_due); an operator at the CLI has none to give.
            raise StepUpRequired()
        return user

    def _not_self(self, user: EndUser, actor: Actor, action: str) -> None:
        if _admin_key(user) == actor.name:
            raise Conflict(OWN_ACCOUNT[action], code="own_account")

    def _admin_for(self, user: EndUser) -> Admin | None:
        key = _admin_key(user)
        return self.directory.get(key) if key else None

    def _record(
        self,
        action: str,
        user: EndUser,
        actor: Actor,
        *,
        outcome: str = "ok",
        reason: str | None = None,
    ) -> None:
        _permission, event, task = ACTIONS[action]
        self.audit.record(
            event,
            actor=actor.name,
            target=user.email.lower() if user.email else user.uid,
            target_uid=user.uid,
            task=task,
            outcome=outcome,
            reason=reason,
            client=actor.client,
        )


def _admin_key(user: EndUser) -> str | None:
    """The admin key of a user's address; None when it has none or when it
    is not a plain address, which no admin can have (adminapp/addresses.py)."""
    try:
        return identity_key(user.email) if user.email else None
    except InvalidEmail:
        return None
