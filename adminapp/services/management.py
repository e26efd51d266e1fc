"""Managing who is an admin: invitations, roles, disabling and removal.

Every change is audited with who made it. Disabling or removing an admin also
ends their open sessions at once (the guard would refuse them at their next
request anyway; ending them keeps the sessions list truthful).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..catalogs import supported_locale
from ..client import Client
from ..errors import BackendUnavailable, Conflict, InvalidInput
from ..firebase.admins import Admin, AdminChange, AdminDirectory, LastOwner
from ..firebase.audit import AuditTrail
from ..firebase.identity import Identity
from ..i18n_marks import N_
from ..mail.password_links import LinkDeliveryError
from ..timezones import valid_zone
from .access import Access
from .password_reset import PasswordReset
from .second_factor import SecondFactor

log = logging.getLogger(__name__)


# English, marked for translation: the page and the API translate it.
INVITATION_NOT_SENT = N_(
    "The email with a link to set their password could not be sent; "
    "they can use “Forgot your password?” on the sign-in page."
)


@dataclass(frozen=True)
class Invitation:
    admin: Admin
    user_created: bool  # a new Firebase user was made for the address
    email_sent: bool  # the "set your password" email went out
    email_error: str | None = None  # why it did not, when it should have


class AdminManagement:
    def __init__(
        self,
        *,
        directory: AdminDirectory,
        identity: Identity,
        access: Access,
        audit: AuditTrail,
        resets: PasswordReset,
        second_factor: SecondFactor,
    ):
        self._second_factor = second_factor
        self._directory = directory
        self._identity = identity
        self._access = access
        self._audit = audit
        self._resets = resets

    def invite(
        self,
        email: str,
        role: str,
        *,
        actor: str,
        client: Client | None,
        create_user: bool = True,
        password: str | None = None,
        display_name: str | None = None,
    ) -> Invitation:
        """Make ``email`` an admin and, with ``create_user``, make sure it has
        a Firebase user (created with ``password`` when given). A user created
        without a password gets the "set your password" email; when that
        fails the admin document stays and ``email_error`` says so.

        Raises :class:`~adminapp.admins.AdminExists` when it is an admin already.
        """
        admin = self._directory.add(email, role, display_name)
        created = False
        if create_user:
            _, created = self._identity.ensure_user(email, password)
        self._audit.record(
            "admin_invited",
            actor=actor,
            target=email,
            reason=f"role {role}" + ("; new Firebase user" if created else ""),
            client=client,
        )
        sent, problem = False, None
        if created and password is None:
            sent, problem = self._send_invitation(email)
        return Invitation(admin=admin, user_created=created, email_sent=sent, email_error=problem)

    def _send_invitation(self, email: str) -> tuple[bool, str | None]:
        try:
            self._resets.send_link(email, purpose="invite")
        except (LinkDeliveryError, BackendUnavailable) as error:
            log.warning("invitation email not sent to %s: %s", email, error)
            return False, INVITATION_NOT_SENT
        return True, None

    def set_preferences(self, email: str, *, locale: str | None, timezone: str | None) -> None:
        """An admin's own language and time zone (None: follow the defaults).
        Not audited: it changes what the admin reads, not what they may do."""
        if locale and supported_locale(locale) is None:
            raise InvalidInput(N_("Choose a language from the list."), code="bad_language")
        if timezone and valid_zone(timezone) is None:
            raise InvalidInput(N_("Choose a time zone from the list."), code="bad_timezone")
        self._directory.set_preferences(email, locale=locale or None, timezone=timezone or None)
        # The guard's cached copy of the admin must not keep the old choice.
        self._access.forget_admin(email)

    def change_role(
        self, email: str, role: str, *, actor: str, client: Client | None
    ) -> AdminChange:
        return self.update(email, role=role, actor=actor, client=client)

    def set_disabled(
        self, email: str, disabled: bool, *, actor: str, client: Client | None
    ) -> AdminChange:
        return self.update(email, disabled=disabled, actor=actor, client=client)

    def update(
        self,
        email: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        actor: str,
        client: Client | None,
    ) -> AdminChange:
        """Change an admin's role and/or disabled flag: one transaction and
        one audit entry, so a refused part saves nothing. Disabling also ends
        their open sessions."""
        event = _event_for(role, disabled)
        change = self._guarded(
            event,
            email,
            actor,
            client,
            lambda: self._directory.update(email, role=role, disabled=disabled),
        )
        self._access.forget_admin(email)
        details = []
        if role is not None:
            details.append(f"{change.before.role} -> {role}")
        if disabled is not None and event == "admin_changed":
            details.append("disabled" if disabled else "enabled")
        self._audit.record(
            event, actor=actor, target=email, reason="; ".join(details) or None, client=client
        )
        if disabled:
            self._access.end_sessions(email, "admin_disabled", actor=actor, client=client)
        return change

    def remove(self, email: str, *, actor: str, client: Client | None) -> AdminChange:
        change = self._guarded(
            "admin_removed", email, actor, client, lambda: self._directory.remove(email)
        )
        self._access.forget_admin(email)
        self._audit.record("admin_removed", actor=actor, target=email, client=client)
        self._access.end_sessions(email, "admin_removed", actor=actor, client=client)
        return change

    def reset_factors(
        self, email: str, *, actor: str, client: Client | None, by: Admin | None = None
    ) -> int:
        """Remove every second factor of ``email`` and end their sessions:
        they enrol again at their next sign-in. ``by`` is the owner asking
        (their own factors are changed on their security page, not here);
        None is an operator at the command line, the break-glass path for a
        locked-out last owner. Returns how many factor documents went."""
        if by is not None and by.email == email:
            raise Conflict(
                "Change your own second factors on your security page.", code="own_account"
            )
        removed = self._second_factor.reset(email, actor=actor, client=client)
        self._access.end_sessions(email, "second_factors_reset", actor=actor, client=client)
        return removed

    def set_service_account(self, email: str, on: bool, *, actor: str) -> None:
        """Mark ``email`` as a service account (its bearer calls need no
        Firebase second-factor claim) or unmark it; the CLI only."""
        self._directory.set_service_account(email, on)
        self._access.forget_admin(email)
        self._audit.record(
            "service_account_changed", actor=actor, target=email, reason="on" if on else "off"
        )

    def _guarded(self, event: str, email: str, actor: str, client: Client | None, apply):
        """Apply a change; audit a refusal by the last-owner rule."""
        try:
            return apply()
        except LastOwner:
            self._audit.record(
                event,
                actor=actor,
                target=email,
                outcome="refused",
                reason="last_owner",
                client=client,
            )
            raise


def _event_for(role: str | None, disabled: bool | None) -> str:
    """The audit event of a change: its own name for a role or a status
    change alone, ``admin_changed`` for both at once."""
    if role is not None and disabled is not None:
        return "admin_changed"
    if role is not None:
        return "admin_role_changed"
    if disabled is None:
        raise ValueError("nothing to change")
    return "admin_disabled" if disabled else "admin_enabled"
