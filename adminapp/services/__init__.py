"""The service objects of one app, built once in ``create_app``.

Views reach them through :func:`adminapp.web.context.services`; nothing in
this package imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..config import Settings
from ..firebase.admins import AdminDirectory
from ..firebase.audit import AuditTrail
from ..firebase.backend import FirebaseBackend
from ..firebase.factors import FactorStore
from ..firebase.identity import Identity
from ..firebase.identity_toolkit import IdentityToolkit
from ..firebase.sessions import SessionStore
from ..firebase.users import FirebaseUsers
from ..mail.invitations import SignInInvitations
from ..mail.messages import EmailTemplates
from ..mail.notices import ChangeNotices
from ..mail.password_links import LinkDelivery
from ..mail.smtp import SmtpMailer
from .access import Access
from .background import Background
from .management import AdminManagement
from .passkeys import Passkeys
from .password_reset import PasswordReset
from .second_factor import SecondFactor
from .users import UsersConsole


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    backend: FirebaseBackend
    identity: Identity
    directory: AdminDirectory
    sessions: SessionStore
    audit: AuditTrail
    access: Access
    management: AdminManagement
    resets: PasswordReset
    background: Background
    users: UsersConsole
    factors: FactorStore
    second_factor: SecondFactor
    passkeys: Passkeys

    def close(self) -> None:
        """Finish queued emails, stop the cache's subscriber, then release
        the Firebase clients."""
        self.background.close()
        self.sessions.close()
        self.backend.close()


def build_services(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Services:
    backend = FirebaseBackend(settings)
    identity = Identity(backend, settings, clock)
    directory = AdminDirectory(backend, clock)
    sessions = SessionStore(backend, directory, settings, clock)
    audit = AuditTrail(backend, clock)
    access = Access(
        backend=backend,
        identity=identity,
        directory=directory,
        sessions=sessions,
        audit=audit,
        settings=settings,
        clock=clock,
    )
    background = Background("adminapp-mail")
    templates = EmailTemplates()
    mailer = SmtpMailer(settings.smtp)
    toolkit = IdentityToolkit(backend, settings)
    resets = PasswordReset(
        directory=directory,
        identity=identity,
        toolkit=toolkit,
        delivery=LinkDelivery(backend, toolkit, settings, templates, mailer),
        notices=ChangeNotices(settings, templates, mailer),
        access=access,
        audit=audit,
        background=background,
        clock=clock,
    )
    factors = FactorStore(backend, directory)
    second_factor_parts = {
        "backend": backend,
        "directory": directory,
        "sessions": sessions,
        "factors": factors,
        "audit": audit,
        "settings": settings,
        "clock": clock,
    }
    second_factor = SecondFactor(**second_factor_parts)
    passkeys = Passkeys(**second_factor_parts)
    management = AdminManagement(
        directory=directory,
        identity=identity,
        access=access,
        audit=audit,
        resets=resets,
        second_factor=second_factor,
        settings=settings,
        invitations=SignInInvitations(settings, templates, mailer),
    )
    users = UsersConsole(
        users=FirebaseUsers(backend),
        directory=directory,
        audit=audit,
        resets=resets,
        page_size=settings.users_page_size,
    )
    return Services(
        settings=settings,
        backend=backend,
        identity=identity,
        directory=directory,
        sessions=sessions,
        audit=audit,
        access=access,
        management=management,
        resets=resets,
        background=background,
        users=users,
        factors=factors,
        second_factor=second_factor,
        passkeys=passkeys,
    )
