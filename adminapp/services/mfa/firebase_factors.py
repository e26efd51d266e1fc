"""One rule for trusting Firebase's own second factor, for the exchange and
the bearer API alike.

A project that runs Identity Platform MFA (for its customers, say) lets
anyone who knows an admin's password enrol *their own* phone on the admin's
Firebase account; the ID token of such a sign-in carries
``firebase.sign_in_second_factor`` all the same. So Firebase's factor
counts as the admin's second factor only

- when ACCEPT_FIREBASE_SECOND_FACTOR is on, and
- for an enrolment this admin area trusts for that admin (the token names it
  in ``firebase.second_factor_identifier``): one the admin approved from a
  full session with a fresh proof (the security page), or an owner approved
  (the API, the CLI).

With the setting off, Firebase's factor is simply not counted. With it on,
a factor from an enrolment nobody approved is refused outright, audited
(``firebase_factor_refused``), and the admin is emailed: someone may know
their password.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ...client import Client
from ...config import Settings
from ...domain.admins import ActingAbove, Admin, AdminNotFound
from ...domain.end_users import SecondFactor
from ...errors import NotFound
from ...firebase.admins import AdminDirectory
from ...firebase.audit import AuditTrail
from ...firebase.identity import FirebaseIdentity, Identity
from ...i18n_marks import N_
from ...mail.security_notices import SecurityNotices
from ..background import Background
from ..throttle import Throttle
from .refusals import UntrustedFirebaseFactor

if TYPE_CHECKING:  # services/roles.py imports what imports this module
    from ..roles import RoleAdministration

log = logging.getLogger(__name__)

# One email per admin and enrolment in this window, however often it is tried.
NOTICE_LIMIT = "1 per hour"
# Firebase's enrolment ids, as they appear in URLs and tokens.
_ENROLMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class FirebaseEnrolment:
    """An enrolment on the admin's Firebase account, and whether it counts."""

    factor: SecondFactor
    trusted: bool


@dataclass(frozen=True, kw_only=True)
class FirebaseFactors:
    identity: Identity
    directory: AdminDirectory
    audit: AuditTrail
    notices: SecurityNotices
    background: Background
    throttle: Throttle
    settings: Settings
    clock: Callable[[], datetime]
    # Who may approve an admin's enrolments: nobody below that admin.
    roles: RoleAdministration

    def counted(self, identity: FirebaseIdentity, admin: Admin, client: Client) -> str | None:
        """The factor this sign-in proved, as a session records it
        (``firebase_phone``), when it counts as the admin's second factor;
        None when it does not count. Raises :class:`UntrustedFirebaseFactor`
        (audited, the admin emailed) for an enrolment nobody approved."""
        if not self.settings.accept_firebase_second_factor or identity.second_factor is None:
            return None
        enrolment = identity.second_factor_id
        if enrolment and enrolment in admin.trusted_firebase_factors:
            return f"firebase_{identity.second_factor}"
        self.audit.record(
            "firebase_factor_refused",
            actor=admin.email,
            target=admin.email,
            outcome="refused",
            reason=f"{identity.second_factor} {enrolment or '(no enrolment id)'}",
            client=client,
        )
        self._tell(admin, identity, client)
        raise UntrustedFirebaseFactor()

    # -- approving enrolments ------------------------------------------------------

    def enrolments(self, admin: Admin) -> list[FirebaseEnrolment]:
        """The Firebase MFA enrolments of the admin's account, trusted or not."""
        uid = admin.uid or self.identity.uid_for(admin.email)
        factors = self.identity.second_factors(uid) if uid else ()
        return [
            FirebaseEnrolment(factor=f, trusted=f.enrolment_id in admin.trusted_firebase_factors)
            for f in factors
        ]

    def trust(
        self,
        email: str,
        enrolment_id: str,
        *,
        actor: str,
        client: Client | None,
        holds: frozenset[str],
    ) -> None:
        """Approve an enrolment that is on the admin's Firebase account now.
        Who may is the caller's permission (the admin, with a fresh proof; an
        owner; the CLI), and nobody approves one for an admin above them (a
        factor planted on that account would become theirs to use); this
        checks both and that the enrolment exists, and records it."""
        admin = self._admin_to_change(
            "firebase_factor_trusted", email, actor=actor, client=client, holds=holds
        )
        if not _ENROLMENT_ID.fullmatch(enrolment_id) or enrolment_id not in {
            e.factor.enrolment_id for e in self.enrolments(admin)
        }:
            raise NotFound(
                N_("That second factor is not on this admin's Firebase account."),
                code="firebase_factor_not_found",
            )
        self.directory.set_firebase_factor_trust(email, enrolment_id, trusted_by=actor)
        self.audit.record(
            "firebase_factor_trusted", actor=actor, target=email, reason=enrolment_id, client=client
        )

    def distrust(
        self,
        email: str,
        enrolment_id: str,
        *,
        actor: str,
        client: Client | None,
        holds: frozenset[str],
    ):
        """Stop counting an enrolment (it may be gone from Firebase already);
        not for an admin above the actor, like :meth:`trust`."""
        admin = self._admin_to_change(
            "firebase_factor_distrusted", email, actor=actor, client=client, holds=holds
        )
        if enrolment_id not in admin.trusted_firebase_factors:
            raise NotFound(
                N_("That second factor is not trusted for this admin."),
                code="firebase_factor_not_found",
            )
        self.directory.set_firebase_factor_trust(email, enrolment_id, trusted_by=None)
        self.audit.record(
            "firebase_factor_distrusted",
            actor=actor,
            target=email,
            reason=enrolment_id,
            client=client,
        )

    def _admin_to_change(
        self, event: str, email: str, *, actor: str, client: Client | None, holds: frozenset[str]
    ) -> Admin:
        """The admin whose factors ``actor`` (holding ``holds``) would change:
        :class:`AdminNotFound`, or :class:`ActingAbove` when they hold more
        (audited as a refused ``event``, as the other changes to an admin
        are). One's own: the fresh proof the caller asked for decides."""
        admin = self.directory.get(email)
        if admin is None:
            raise AdminNotFound(email)
        if email != actor:
            with self.audit.refusals(
                event, (ActingAbove,), actor=actor, target=email, client=client
            ):
                self.roles.require_not_above(admin, holds)
        return admin

    def _tell(self, admin: Admin, identity: FirebaseIdentity, client: Client) -> None:
        key = f"{admin.email}|{identity.second_factor_id}"
        if not self.notices.enabled:
            log.warning("untrusted Firebase factor for %s; no SMTP, no email sent", admin.email)
            return
        if not self.throttle.allow(NOTICE_LIMIT, "untrusted-firebase-factor-notice", key):
            return
        when = self.clock()

        def send() -> None:
            self.notices.untrusted_firebase_factor(
                admin.email,
                when=when,
                kind=identity.second_factor or "",
                client=client,
                locale=admin.locale,
                timezone=admin.timezone,
            )

        self.background.submit(send, "untrusted Firebase factor notice")
