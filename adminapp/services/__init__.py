"""The service objects of one app, built once in ``create_app``.

Views reach them through :func:`adminapp.web.context.services`; nothing in
this package imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..config import Settings
from ..domain.audit import AuditEvents
from ..domain.permissions import Permissions
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.audit_months import TrailMonths
from ..firebase.backend import FirebaseBackend
from ..firebase.factors import FactorStore
from ..firebase.identity import Identity
from ..firebase.identity_toolkit import IdentityToolkit
from ..firebase.lockouts import LockoutStore
from ..firebase.roles import RoleStore
from ..firebase.sessions import SessionStore
from ..firebase.users import FirebaseUsers
from ..mail.invitations import SignInInvitations
from ..mail.messages import EmailTemplates
from ..mail.notices import ChangeNotices
from ..mail.owner_alerts import OwnerAlertEmails
from ..mail.password_links import LinkDelivery
from ..mail.security_notices import SecurityNotices
from ..mail.smtp import SmtpMailer
from .access import Access
from .access_review import AccessReview
from .alerts import OwnerAlerts
from .background import Background
from .exports import Exports
from .management import AdminManagement
from .mfa.firebase_factors import FirebaseFactors
from .mfa.lockout import AdminLockout
from .mfa.own_factors import OwnFactors
from .mfa.passkeys import Passkeys
from .mfa.recovery_codes import RecoveryCodes
from .mfa.steps import ProofSteps
from .mfa.totp import Totp
from .password_reset import PasswordReset
from .roles import RoleAdministration
from .throttle import Throttle
from .users import UsersConsole


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    # What time it is for every rule (tests may pass another clock).
    clock: Callable[[], datetime]
    backend: FirebaseBackend
    identity: Identity
    directory: AdminDirectory
    sessions: SessionStore
    audit: AuditTrail
    # The events the trail records: the built-in ones, then each product's
    # as it is mounted (adminapp/web/products.py).
    audit_events: AuditEvents
    # The monthly review of access records (PIPA art. 8(2)).
    access_review: AccessReview
    access: Access
    management: AdminManagement
    resets: PasswordReset
    background: Background
    users: UsersConsole
    exports: Exports
    factors: FactorStore
    # The second factor, one service per kind over shared steps (services/mfa/).
    totp: Totp
    recovery_codes: RecoveryCodes
    passkeys: Passkeys
    own_factors: OwnFactors
    lockout: AdminLockout
    firebase_factors: FirebaseFactors
    # Emails to the owners when the trail records what they must know.
    alerts: OwnerAlerts
    # The app's permissions (built-in, then each product's as it is mounted)
    # and the owners' custom roles made of them.
    permissions: Permissions
    roles: RoleAdministration

    def close(self) -> None:
        """Finish queued emails, stop the cache's subscriber, then release
        the Firebase clients."""
        self.background.close()
        self.sessions.close()
        self.backend.close()


def build_services(
    settings: Settings, clock: Callable[[], datetime] = utc_now, *, firestore_client=None
) -> Services:
    """``firestore_client`` replaces the Firestore client the backend would
    build (the fast tests' in-memory Firestore)."""
    backend = FirebaseBackend(settings, firestore_client)
    identity = Identity(backend, settings, clock)
    role_store = RoleStore(backend, clock)
    directory = AdminDirectory(backend, role_store, clock)
    sessions = SessionStore(backend, directory, role_store, settings, clock)
    audit_events = AuditEvents()
    audit = AuditTrail(
        backend,
        clock,
        retention=settings.access_record_retention,
        chain_key=settings.audit_chain_key,
        events=audit_events,
    )
    permissions = Permissions()
    roles = RoleAdministration(
        store=role_store,
        directory=directory,
        sessions=sessions,
        audit=audit,
        permissions=permissions,
        role_rules=settings.role_rules,
    )
    background = Background("adminapp-mail")
    templates = EmailTemplates()
    mailer = SmtpMailer(settings.smtp)
    email_parts = {"settings": settings, "templates": templates, "mailer": mailer}
    notices = SecurityNotices(**email_parts)
    throttle = Throttle(settings.ratelimit_storage_uri)
    alerts = OwnerAlerts(
        directory=directory,
        audit=audit,
        emails=OwnerAlertEmails(**email_parts),
        background=background,
        throttle=throttle,
        settings=settings,
        clock=clock,
    )
    firebase_factors = FirebaseFactors(
        identity=identity,
        directory=directory,
        audit=audit,
        notices=notices,
        background=background,
        throttle=throttle,
        settings=settings,
        clock=clock,
        roles=roles,
    )
    access = Access(
        backend=backend,
        identity=identity,
        directory=directory,
        sessions=sessions,
        audit=audit,
        firebase_factors=firebase_factors,
        roles=roles,
        settings=settings,
        clock=clock,
    )
    toolkit = IdentityToolkit(backend, settings)
    resets = PasswordReset(
        directory=directory,
        identity=identity,
        toolkit=toolkit,
        delivery=LinkDelivery(backend=backend, toolkit=toolkit, **email_parts),
        notices=ChangeNotices(**email_parts),
        access=access,
        audit=audit,
        background=background,
        clock=clock,
    )
    factors = FactorStore(backend, directory)
    lockout = AdminLockout(
        store=LockoutStore(backend, clock),
        directory=directory,
        audit=audit,
        notices=notices,
        background=background,
        settings=settings,
        clock=clock,
    )
    steps = ProofSteps(
        backend=backend,
        directory=directory,
        sessions=sessions,
        factors=factors,
        audit=audit,
        lockout=lockout,
        settings=settings,
        clock=clock,
    )
    recovery_codes = RecoveryCodes(steps=steps)
    own_factors = OwnFactors(steps=steps)
    management = AdminManagement(
        directory=directory,
        identity=identity,
        access=access,
        audit=audit,
        resets=resets,
        own_factors=own_factors,
        lockout=lockout,
        settings=settings,
        invitations=SignInInvitations(**email_parts),
        roles=roles,
    )
    firebase_users = FirebaseUsers(backend)
    users = UsersConsole(
        users=firebase_users,
        directory=directory,
        audit=audit,
        resets=resets,
        page_size=settings.users_page_size,
    )
    exports = Exports(audit=audit, users=firebase_users, clock=clock)
    return Services(
        settings=settings,
        clock=clock,
        backend=backend,
        identity=identity,
        directory=directory,
        sessions=sessions,
        audit=audit,
        audit_events=audit_events,
        access_review=AccessReview(
            months=TrailMonths(backend),
            directory=directory,
            audit=audit,
            settings=settings,
            clock=clock,
        ),
        access=access,
        management=management,
        resets=resets,
        background=background,
        users=users,
        exports=exports,
        factors=factors,
        totp=Totp(steps=steps, recovery_codes=recovery_codes),
        recovery_codes=recovery_codes,
        passkeys=Passkeys(steps=steps, recovery_codes=recovery_codes),
        own_factors=own_factors,
        lockout=lockout,
        firebase_factors=firebase_factors,
        alerts=alerts,
        permissions=permissions,
        roles=roles,
    )
