"""Managing who is an admin: invitations, roles, disabling and removal.

Every change is audited with who made it. Disabling or removing an admin also
ends their open sessions at once (the guard would refuse them at their next
request anyway; ending them keeps the sessions list truthful).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from ..addresses import OutsideAllowedDomains, in_domains
from ..catalogs import supported_locale
from ..client import Client
from ..config import Settings
from ..domain.admins import (
    ActingAbove,
    Admin,
    AdminChange,
    AdminExists,
    AdminNotFound,
    LastOwner,
)
from ..errors import BackendUnavailable, Conflict, InvalidInput
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.identity import ExistingAccount, Identity
from ..i18n_marks import N_, Message
from ..mail.invitations import SignInInvitations
from ..mail.password_links import LinkDeliveryError
from ..mail.smtp import MailError
from ..timezones import valid_zone
from .access import Access
from .mfa.lockout import AdminLockout
from .mfa.own_factors import OwnFactors
from .password_reset import PasswordReset
from .roles import RoleAdministration

log = logging.getLogger(__name__)


# English, marked for translation: the page and the API translate it.
INVITATION_NOT_SENT = Message(
    N_(
        "The email with a link to set their password could not be sent; "
        "they can use “Forgot your password?” on the sign-in page."
    )
)
# What the owner is told when an invitation found a Firebase account that it
# did not make (issue 20, Medium 3: an account planted for a future admin).
TOOK_BACK_FOR_PASSWORD = N_(
    "%(email)s already had a Firebase account that this invitation did not make. Its "
    "sign-ins were ended and its password replaced: their first sign-in must use a "
    "password set with the emailed link."
)
TOOK_BACK_FOR_PROVIDER = N_(
    "%(email)s already had a Firebase account that this invitation did not make. Its "
    "sign-ins were ended and any password it had was replaced: their first sign-in "
    "must be with %(provider)s."
)
OTHER_SIGN_IN_METHODS = N_(
    "%(email)s already has a Firebase account, which signs in with %(methods)s. An "
    "invitation to sign in with %(invited)s would leave those to whoever set them up. "
    "Invite them with the sign-in method their account has, or check whose the account "
    "is and delete it in the users console first."
)
# The password an account gets when an invitation takes it back: random and
# never stored or shown, so only a password set through the emailed link
# (or the operator's own --password) signs in afterwards.
_UNKNOWN_PASSWORD_BYTES = 32


class SignsInOtherwise(Conflict):
    """The address has a Firebase account whose sign-in methods are not the
    invited one: adopting it would keep sign-ins the invitee may not own."""

    code = "account_signs_in_otherwise"


@dataclass(frozen=True)
class Invitation:
    admin: Admin
    user_created: bool  # a new Firebase user was made for the address
    email_sent: bool  # the invitation email went out
    email_error: Message | None = None  # why it did not, when it should have
    # The provider they were invited to sign in with; None = a password.
    provider: str | None = None
    # The address already had a Firebase account that this invitation did
    # not make: it was taken back (sign-ins ended, password replaced).
    account_existed: bool = False

    @property
    def warning_code(self) -> str | None:
        """What the owner must hear about, most important first."""
        if self.account_existed:
            return "account_existed"
        return "email_not_sent" if self.email_error else None

    @property
    def account_notice(self) -> Message | None:
        """What the owner is told about an account that was there."""
        if not self.account_existed:
            return None
        if self.provider:
            return Message(
                TOOK_BACK_FOR_PROVIDER, {"email": self.admin.email, "provider": self.provider}
            )
        return Message(TOOK_BACK_FOR_PASSWORD, {"email": self.admin.email})


@dataclass(frozen=True, kw_only=True)
class AdminManagement:
    directory: AdminDirectory
    identity: Identity
    access: Access
    audit: AuditTrail
    resets: PasswordReset
    own_factors: OwnFactors
    lockout: AdminLockout
    settings: Settings
    invitations: SignInInvitations
    roles: RoleAdministration

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
        provider: str | None = None,
        holds: frozenset[str],
    ) -> Invitation:
        """Make ``email`` an admin with ``role``, which must grant nothing
        the actor does not hold (``holds``: their permissions).

        With a ``provider`` (``google.com``, ``oidc.kakao``, …) they are
        told to sign in with it ("Sign in with Google at <link>") and no
        Firebase user is made: the provider's first sign-in makes one.
        Otherwise, with ``create_user``, make sure the address has a
        Firebase user (created with ``password`` when given); a user created
        without a password gets the "set your password" email. When an email
        fails the admin document stays and ``email_error`` says so.

        The admin document records the invited sign-in method, and the
        first sign-in must use it. A Firebase account that is already there
        (made by someone else: perhaps planted for a future admin) is never
        adopted as it is: its sign-in methods must be the invited one (or a
        password), else :class:`SignsInOtherwise`; then its refresh tokens
        are revoked, its password is replaced by a random one nobody knows
        (``password`` from the CLI instead), the admin document records the
        revocation time, and the first sign-in must come after it
        (:func:`~adminapp.services.access.first_sign_in_refusal`). A password
        invitation then emails the set-password link: only the mailbox can
        sign in. Audited as ``invitation_took_back_account``.

        Raises :class:`~adminapp.domain.admins.AdminExists` when it is an admin
        already, :class:`OutsideAllowedDomains` for an address outside
        ALLOWED_EMAIL_DOMAINS, :class:`SignsInOtherwise`; nothing is
        written then.
        """
        label = self._provider_label(provider, create_user)
        self.roles.require_grantable(role, holds)
        if not in_domains(email, self.settings.allowed_email_domains):
            raise OutsideAllowedDomains(self.settings.allowed_email_domains)
        invited = provider if label is not None else "password"
        if self.directory.get(email) is not None:
            # Before the account is touched: inviting an admin again changes nothing.
            raise AdminExists(N_("%(email)s is already an admin."), params={"email": email})
        account = self.identity.existing_account(email)
        taken = None
        if account is not None:
            _refuse_other_sign_in_methods(email, account, invited)
            taken = self.identity.take_back(
                account.uid, new_password=self._replacement_password(account, invited, password)
            )
        cutoff = taken.cutoff if taken else None
        admin = self.directory.add(
            email, role, display_name, invited_provider=invited, first_sign_in_after=cutoff
        )
        created = False
        if create_user and label is None and account is None:
            _, created = self.identity.ensure_user(email, password)
        details = [f"role {role}"]
        if created:
            details.append("new Firebase user")
        if label is not None:
            details.append(f"sign in with {provider}")
        self.audit.record(
            "admin_invited",
            actor=actor,
            target=email,
            reason="; ".join(details),
            client=client,
            role=role,
        )
        if taken is not None:
            self.audit.record(
                "invitation_took_back_account",
                actor=actor,
                target=email,
                target_uid=account.uid,
                reason=(
                    f"methods: {', '.join(sorted(account.providers)) or '-'}; "
                    f"refresh tokens revoked; second factors removed: "
                    f"{taken.second_factors_removed}; first sign-in with {invited} "
                    f"after {taken.cutoff.isoformat()}"
                ),
                client=client,
            )
        sent, problem = False, None
        if label is not None:
            sent, problem = self._send_provider_invitation(email, label)
        elif (created or account is not None) and password is None:
            sent, problem = self._send_invitation(email)
        return Invitation(
            admin=admin,
            user_created=created,
            email_sent=sent,
            email_error=problem,
            provider=provider if label is not None else None,
            account_existed=account is not None,
        )

    @staticmethod
    def _replacement_password(
        account: ExistingAccount, invited: str, password: str | None
    ) -> str | None:
        """The password a taken-back account gets: the operator's own, or one
        nobody knows. A provider invitation replaces a password the account
        has and adds none."""
        if invited != "password" and "password" not in account.providers:
            return None
        return password or secrets.token_urlsafe(_UNKNOWN_PASSWORD_BYTES)

    def _provider_label(self, provider: str | None, create_user: bool) -> str | None:
        """The button label of the provider an invitation names (None for a
        password), or a refusal naming the choices."""
        buttons = {button.id: button.label for button in self.settings.provider_buttons}
        if provider in (None, "password"):
            if create_user and not self.settings.password_sign_in:
                raise InvalidInput(
                    N_(
                        "Password sign-in is not allowed on this site: invite them to sign in "
                        "with one of %(choices)s."
                    ),
                    code="unknown_provider",
                    params={"choices": ", ".join(buttons)},
                )
            return None
        if provider not in buttons:
            choices = (["password"] if self.settings.password_sign_in else []) + list(buttons)
            raise InvalidInput(
                N_("%(provider)s is not a sign-in method of this site; use one of %(choices)s."),
                code="unknown_provider",
                params={"provider": repr(provider), "choices": ", ".join(choices)},
            )
        return buttons[provider]

    def _send_provider_invitation(self, email: str, label: str) -> tuple[bool, Message | None]:
        where = self.invitations.where_to_sign_in(label)
        if not self.invitations.enabled:
            return False, Message(
                N_(
                    "No email was sent (that needs SMTP_HOST and PUBLIC_URL); tell them: %(where)s."
                ),
                {"where": where},
            )
        try:
            self.invitations.send(email, label)
        except MailError as error:
            log.warning("invitation email not sent to %s: %s", email, error)
            return False, Message(
                N_("The invitation email could not be sent; tell them: %(where)s."),
                {"where": where},
            )
        return True, None

    def _send_invitation(self, email: str) -> tuple[bool, Message | None]:
        try:
            self.resets.send_link(email, purpose="invite")
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
        self.directory.set_preferences(email, locale=locale or None, timezone=timezone or None)
        # The guard's cached copy of the admin must not keep the old choice.
        self.access.forget_admin(email)

    def change_role(
        self, email: str, role: str, *, actor: str, client: Client | None, holds: frozenset[str]
    ) -> AdminChange:
        return self.update(email, role=role, actor=actor, client=client, holds=holds)

    def set_disabled(
        self,
        email: str,
        disabled: bool,
        *,
        actor: str,
        client: Client | None,
        holds: frozenset[str],
    ) -> AdminChange:
        return self.update(email, disabled=disabled, actor=actor, client=client, holds=holds)

    def update(
        self,
        email: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        actor: str,
        client: Client | None,
        holds: frozenset[str],
    ) -> AdminChange:
        """Change an admin's role and/or disabled flag: one transaction and
        one audit entry, so a refused part saves nothing. Disabling also ends
        their open sessions. A new role must grant nothing the actor does
        not hold (``holds``: their permissions), and the admin's role as it
        stands must grant nothing they do not hold either (nobody changes
        someone above them)."""
        event = _event_for(role, disabled)
        if role is not None:
            self.roles.require_grantable(role, holds)
        change = self._guarded(
            event,
            email,
            actor,
            client,
            lambda: self.directory.update(
                email, role=role, disabled=disabled, may_change=self._not_above(holds)
            ),
        )
        self.access.forget_admin(email)
        details = []
        if role is not None:
            details.append(f"{change.before.role} -> {role}")
        if disabled is not None and event == "admin_changed":
            details.append("disabled" if disabled else "enabled")
        self.audit.record(
            event,
            actor=actor,
            target=email,
            reason="; ".join(details) or None,
            client=client,
            role=role,
            previous_role=change.before.role if role is not None else None,
        )
        if disabled:
            self.access.end_sessions(email, "admin_disabled", actor=actor, client=client)
        return change

    def remove(
        self, email: str, *, actor: str, client: Client | None, holds: frozenset[str]
    ) -> AdminChange:
        change = self._guarded(
            "admin_removed",
            email,
            actor,
            client,
            lambda: self.directory.remove(email, may_change=self._not_above(holds)),
        )
        self.access.forget_admin(email)
        self.audit.record("admin_removed", actor=actor, target=email, client=client)
        self.access.end_sessions(email, "admin_removed", actor=actor, client=client)
        return change

    def reset_factors(self, email: str, *, by: Admin, client: Client, holds: frozenset[str]) -> int:
        """An owner removes every second factor of ``email`` and ends their
        sessions: they enrol again at their next sign-in. Their own factors
        are changed on their security page, not here. Nobody resets the
        factors of someone above them (with the password alone, that admin's
        account would be theirs to enrol). Returns how many factor
        documents went."""
        if by.email == email:
            raise Conflict(
                N_("Change your own second factors on your security page."), code="own_account"
            )
        self._require_not_above(
            "second_factors_reset", email, actor=by.email, client=client, holds=holds
        )
        return self._reset_factors(email, actor=by.email, client=client)

    def reset_factors_by_operator(self, email: str, *, operator: str) -> int:
        """The same, by an operator at the command line: the break-glass
        path for a locked-out last owner."""
        return self._reset_factors(email, actor=operator, client=None)

    def _reset_factors(self, email: str, *, actor: str, client: Client | None) -> int:
        removed = self.own_factors.reset(email, actor=actor, client=client)
        self.access.end_sessions(email, "second_factors_reset", actor=actor, client=client)
        return removed

    def unlock(
        self, email: str, *, actor: str, client: Client | None, holds: frozenset[str]
    ) -> bool:
        """Lift the per-admin lock on wrong codes (an owner, the CLI);
        whether there was a lock. Not for someone above the actor: lifting
        the lock again and again would let their codes be guessed."""
        self._require_not_above(
            "second_factor_unlocked", email, actor=actor, client=client, holds=holds
        )
        return self.lockout.unlock(email, actor=actor, client=client)

    def set_service_account(self, email: str, on: bool, *, actor: str) -> None:
        """Mark ``email`` as a service account (its bearer calls need no
        Firebase second-factor claim) or unmark it; the CLI only."""
        self.directory.set_service_account(email, on)
        self.access.forget_admin(email)
        self.audit.record(
            "service_account_changed", actor=actor, target=email, reason="on" if on else "off"
        )

    def _not_above(self, holds: frozenset[str]):
        """The directory's check, in its transaction, of the admin it read."""
        return lambda admin: self.roles.require_not_above(admin, holds)

    def _require_not_above(
        self, event: str, email: str, *, actor: str, client: Client | None, holds: frozenset[str]
    ) -> None:
        """For changes outside the directory's transactions (factors, locks):
        read the admin, refuse (audited) when they are above the actor."""
        admin = self.directory.get(email)
        if admin is None:
            raise AdminNotFound(email)
        self._guarded(
            event, email, actor, client, lambda: self.roles.require_not_above(admin, holds)
        )

    def _guarded(self, event: str, email: str, actor: str, client: Client | None, apply):
        """Apply a change; audit a refusal by the last-owner rule or the
        rule that nobody changes someone above them."""
        with self.audit.refusals(
            event, (LastOwner, ActingAbove), actor=actor, target=email, client=client
        ):
            return apply()


def _refuse_other_sign_in_methods(email: str, account: ExistingAccount, invited: str) -> None:
    """An existing account may be taken back for an invitation only when its
    sign-in methods are the invited one, or a password (which the invitation
    replaces); a provider invitation also needs the account to have that
    provider. Any other method (a phone number, another identity provider)
    could be someone else's way in, and unlinking it could lock the real
    person out of the product: the owner decides instead."""
    others = account.providers - {invited, "password"}
    missing = invited != "password" and invited not in account.providers
    if others or missing:
        raise SignsInOtherwise(
            OTHER_SIGN_IN_METHODS,
            params={
                "email": email,
                "methods": ", ".join(sorted(account.providers)) or "-",
                "invited": invited,
            },
        )


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
