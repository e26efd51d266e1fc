"""The per-admin bound on wrong second-factor codes.

A pending session ends after MAX_FAILURES wrong proofs, and the challenge's
POSTs share the per-IP sign-in limit; neither bounds someone who knows the
password and opens pending session after pending session from many
addresses. So wrong *codes* (TOTP and recovery codes: the guessable kinds)
are also counted per admin, across every session and address:
MFA_ADMIN_MAX_FAILURES of them within MFA_ADMIN_FAILURE_WINDOW_MINUTES lock
codes for MFA_ADMIN_LOCK_MINUTES. While locked, every code is refused, the
right one included, so guessing gains nothing.

The trade-off (SECURITY.md, "Repeated failures"): whoever knows the password
can lock the admin's codes on purpose. The lock is bounded in time, the
admin is emailed (a lock means the password is known: change it), an owner
or the CLI lifts it at once, and passkeys, which cannot be guessed, are not
locked, so an admin with a passkey is never locked out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ...client import Client
from ...config import Settings
from ...errors import Contended
from ...firebase.admins import AdminDirectory
from ...firebase.audit import AuditTrail
from ...firebase.factors import RECOVERY_CODES, TOTP
from ...firebase.lockouts import Lockout, LockoutStore
from ...logs import log_event
from ...mail.security_notices import SecurityNotices
from ..background import Background
from .refusals import SecondFactorLocked

log = logging.getLogger(__name__)

# The kinds someone can guess; a passkey answer cannot be.
GUESSABLE = frozenset({TOTP, RECOVERY_CODES})


@dataclass(frozen=True, kw_only=True)
class AdminLockout:
    store: LockoutStore
    directory: AdminDirectory
    audit: AuditTrail
    notices: SecurityNotices
    background: Background
    settings: Settings
    clock: Callable[[], datetime]

    def status(self, email: str) -> Lockout:
        return self.store.get(email)

    def locked_admins(self) -> dict[str, Lockout]:
        """Who is locked out of codes now (the admins page shows it)."""
        return self.store.locked()

    def refuse_if_locked(self, email: str, kind: str) -> None:
        """Refuse a code of a guessable kind while the admin is locked."""
        if kind not in GUESSABLE:
            return
        if self.store.get(email).locked(self.clock()):
            raise SecondFactorLocked(self._lock_minutes)

    def count_failure(self, email: str, kind: str, client: Client) -> None:
        """Count one wrong code of a guessable kind; the one that trips the
        lock is audited, and the admin is told by email."""
        if kind not in GUESSABLE:
            return
        settings = self.settings
        try:
            counted = self.store.count_failure(
                email,
                limit=settings.mfa_admin_max_failures,
                window=settings.mfa_admin_failure_window,
                lock_for=settings.mfa_admin_lock,
            )
        except Contended:
            # Many wrong codes for one admin at the same moment, each count a
            # transaction on one document: some lose every attempt to the
            # others, which were counted. The code is refused all the same,
            # and it still counts towards its session's bound (an atomic
            # increment, which cannot contend), so this request answers as
            # any other wrong code rather than with a 503.
            log_event("second_factor_failed", actor=email, reason="admin_count_contended")
            return
        if not counted.tripped:
            return
        lockout = counted.lockout
        self.audit.record(
            "second_factor_locked",
            actor=email,
            target=email,
            outcome="refused",
            reason=f"{settings.mfa_admin_max_failures} wrong codes",
            client=client,
        )
        self._tell(email, lockout, client)

    def unlock(self, email: str, *, actor: str, client: Client | None) -> bool:
        """Lift the lock and forget the count (an owner, or the CLI);
        whether there was a lock to lift."""
        before = self.store.lift(email)
        was_locked = before.locked(self.clock())
        self.audit.record(
            "second_factor_unlocked",
            actor=actor,
            target=email,
            reason="was locked" if was_locked else f"{before.failures} wrong codes forgotten",
            client=client,
        )
        return was_locked

    @property
    def _lock_minutes(self) -> int:
        return int(self.settings.mfa_admin_lock.total_seconds() // 60)

    def _tell(self, email: str, lockout: Lockout, client: Client) -> None:
        if not self.notices.enabled:
            log.warning("second factor of %s locked; no SMTP, so no email was sent", email)
            return
        admin = self.directory.get(email)

        def send() -> None:
            self.notices.second_factor_locked(
                email,
                failures=self.settings.mfa_admin_max_failures,
                until=lockout.locked_until,
                client=client,
                locale=admin.locale if admin else None,
                timezone=admin.timezone if admin else None,
            )

        self.background.submit(send, "second-factor lock notice")
