"""Password reset: who gets an email, and what a completed reset ends.

A request never says whether the address belongs to an admin. The view only
validates the form and hands the address to :meth:`PasswordReset.request`,
which queues the decision and the delivery on a background thread: the page
is the same and takes the same time either way.

Completing a reset ends every app session of that person and revokes their
Firebase refresh tokens, so whoever knew the old password is out, and emails
them a notice that the password changed (when SMTP is configured).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..addresses import InvalidEmail, identity_key
from ..client import Client
from ..errors import BackendUnavailable, InvalidInput
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.identity import Identity
from ..firebase.identity_toolkit import (
    ExpiredCode,
    IdentityToolkit,
    InvalidCode,
    ToolkitError,
    WeakPassword,
)
from ..i18n_marks import N_
from ..logs import log_event
from ..mail.notices import ChangeNotices
from ..mail.password_links import LinkDelivery, LinkDeliveryError
from ..mail.smtp import MailError
from .access import Access
from .background import Background

log = logging.getLogger(__name__)


class CodeRefused(InvalidInput):
    """The code cannot be used; ``message`` tells the person what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


class PasswordRefused(InvalidInput):
    """Firebase refused the new password (its own password policy)."""

    code = "weak_password"


# Our password policy's floor, for every password we set or let be set (the
# reset form, `flask admins add --password`); Firebase may ask for more.
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True, kw_only=True)
class PasswordReset:
    directory: AdminDirectory
    identity: Identity
    toolkit: IdentityToolkit
    delivery: LinkDelivery
    notices: ChangeNotices
    access: Access
    audit: AuditTrail
    background: Background
    clock: Callable[[], datetime]

    # -- request -------------------------------------------------------------

    def request(self, email: str, client: Client) -> None:
        """Queue a reset email for ``email`` if it belongs to an enabled admin.
        Returns at once, whatever the address: see the module docstring."""
        self.background.submit(lambda: self._handle_request(email, client), "password reset")

    def _handle_request(self, email: str, client: Client) -> None:
        try:
            self._decide_and_send(email, client)
        except BackendUnavailable as error:
            # Nobody is waiting for an answer: log it; the person can ask again.
            log.warning("password reset request for %s dropped: %s", email, error)

    def _decide_and_send(self, email: str, client: Client) -> None:
        admin = self.directory.get(email)
        reason = None
        if admin is None:
            reason = "not_admin"
        elif admin.disabled:
            reason = "admin_disabled"
        elif self.identity.uid_for(email) is None:
            reason = "no_firebase_user"
        if reason:
            # Not written to the trail: anyone can type any address, and
            # noise from the internet must not cost us Firestore writes.
            log_event(
                "password_reset_requested",
                target=email,
                outcome="ignored",
                reason=reason,
                ip=client.ip,
            )
            return
        outcome, cause = "ok", None
        try:
            self.delivery.send(email, "reset", admin.locale)
        except (LinkDeliveryError, BackendUnavailable) as error:
            outcome, cause = "failed", getattr(error, "cause", None) or str(error)
            log.warning("password reset email not sent to %s: %s", email, cause)
        self.audit.record(
            "password_reset_requested",
            # Anyone can type an address: the requester is not known.
            actor=None,
            target=email,
            outcome=outcome,
            reason=f"{self.delivery.mode}: {cause}" if cause else self.delivery.mode,
            client=client,
        )

    def send_link(self, email: str, purpose: str = "invite") -> None:
        """Send a password link now (an owner invited ``email``); raises
        :class:`LinkDeliveryError` or ``BackendUnavailable`` on failure."""
        self.delivery.send(email, purpose)

    # -- confirmation --------------------------------------------------------

    def check(self, code: str) -> str:
        """The email a code belongs to, or :class:`CodeRefused`."""
        try:
            return self.toolkit.check_reset_code(code)
        except ToolkitError as error:
            raise _code_refusal(error) from None

    def complete(self, code: str, new_password: str, client: Client) -> None:
        """Set the new password, then end what the old one opened."""
        try:
            account_email = self.toolkit.reset_password(code, new_password)
        except WeakPassword as weak:
            if weak.detail:
                raise PasswordRefused(
                    N_(
                        "Firebase refused this password: %(detail)s. "
                        "Choose a longer or less common one."
                    ),
                    params={"detail": weak.detail},
                ) from None
            raise PasswordRefused(
                N_("Firebase refused this password. Choose a longer or less common one.")
            ) from None
        except ToolkitError as error:
            raise _code_refusal(error) from None
        # The password has changed: from here on, failures must not hide it.
        try:
            email = identity_key(account_email)
        except InvalidEmail:
            # No admin is keyed by an address that is not plain, so no admin
            # session can be open for it: nothing of ours to end.
            log_event("password_reset_completed", outcome="ignored", reason="not_plain_email")
            return
        changed_at = self.clock()
        self.background.submit(
            lambda: self._notify(email, changed_at, client), "password change notice"
        )
        ended = self.access.end_sessions(email, "password_reset", actor=email, client=client)
        uid = self.identity.uid_for(email)
        if uid is not None:
            self.identity.revoke_refresh_tokens(uid)
        self.audit.record(
            "password_reset_completed",
            actor=email,
            target=email,
            reason=f"{ended} session(s) ended; refresh tokens revoked",
            client=client,
        )

    def _notify(self, email: str, changed_at: datetime, client: Client) -> None:
        if not self.notices.enabled:
            log_event("password_change_notice", target=email, outcome="skipped", reason="no_smtp")
            return
        try:
            admin = self.directory.get(email)  # the reader's language and zone
        except BackendUnavailable:
            admin = None  # the notice still goes out, in the defaults
        try:
            self.notices.password_changed(
                email,
                changed_at,
                client,
                locale=admin.locale if admin else None,
                timezone=admin.timezone if admin else None,
            )
        except MailError as error:
            log_event("password_change_notice", target=email, outcome="failed", reason=str(error))
            return
        log_event("password_change_notice", target=email, outcome="ok")


def _code_refusal(error: ToolkitError) -> CodeRefused:
    log.info("password reset code refused: %s", error.code)
    if isinstance(error, ExpiredCode):
        return CodeRefused("expired", N_("This link has expired. Ask for a new link below."))
    if isinstance(error, InvalidCode):
        return CodeRefused(
            "invalid",
            N_("This link is not valid or has already been used. Ask for a new link below."),
        )
    return CodeRefused(
        error.code.lower(), N_("This link cannot be used. Ask for a new link below.")
    )
