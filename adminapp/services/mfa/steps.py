"""The steps every second-factor proof and enrolment shares.

Each factor kind (``totp.py``, ``recovery_codes.py``, ``passkeys.py``) is
its own module that *uses* these steps; none subclasses another to reach a
private one. Safety rules kept here, once:

- a proof reads the session record fresh (failures and challenges are
  counted across instances; a cached copy may be behind);
- MAX_FAILURES wrong proofs end a pending session, audited; wrong codes also
  count towards the per-admin bound (``lockout.py``);
- a proof on a pending session spends that record (once: a write conditional
  on it being unchanged) and opens a new full session with a new id
  (privilege changes rotate the session id); on a full session it records a
  step-up;
- a write that lost a race (another request spent the code, the step, the
  challenge or the pending session first) is the refusal the caller names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from ...client import Client
from ...config import Settings
from ...domain.admins import Admin
from ...domain.sessions import CookieClaims, SessionRecord
from ...firebase.admins import AdminDirectory
from ...firebase.audit import AuditTrail
from ...firebase.backend import FirebaseBackend
from ...firebase.factors import FactorStore
from ...firebase.sessions import SessionStore
from ...i18n_marks import N_
from ...logs import log_event
from .lockout import AdminLockout
from .refusals import SecondFactorSessionOver, TooManyAttempts, WrongCode

MAX_FAILURES = 5


@dataclass(frozen=True)
class Passed:
    """A proved second factor. ``claims`` is the new full session's cookie
    when a pending session was completed; None for a step-up."""

    session: SessionRecord
    claims: CookieClaims | None


@dataclass(frozen=True, kw_only=True)
class ProofSteps:
    """What the factor kinds share: the stores they write and the steps."""

    backend: FirebaseBackend
    directory: AdminDirectory
    sessions: SessionStore
    factors: FactorStore
    audit: AuditTrail
    lockout: AdminLockout
    settings: Settings
    clock: Callable[[], datetime]

    def fresh(self, session: SessionRecord) -> SessionRecord:
        """The session as Firestore has it now, still live."""
        record = self.sessions.get(session.key)
        if (
            record is None
            or record.email != session.email
            or record.why_over(self.clock(), self.settings.session_idle_timeout) is not None
        ):
            raise SecondFactorSessionOver(N_("Your sign-in has expired. Sign in again."))
        return record

    def current_admin(self, email: str) -> Admin:
        """The admin document as it is now (its factor count decides what a
        session may enrol)."""
        admin = self.directory.get(email)
        if admin is None:
            raise SecondFactorSessionOver(N_("This account changed. Sign in again."))
        return admin

    def failed(self, session: SessionRecord, client: Client, reason: str, kind: str) -> NoReturn:
        """Count a wrong proof of ``kind``: towards the admin's bound (for
        codes), and towards this session's MAX_FAILURES, which ends it."""
        self.lockout.count_failure(session.email, kind, client)
        # One atomic increment: concurrent wrong answers each get their own
        # number (a read, +1 and a write back would let them share one).
        failures = self.sessions.count_second_factor_failure(session.key)
        if failures >= MAX_FAILURES:
            batch = self.audit.batch()
            self.sessions.stage_end(batch, session.key, "too_many_attempts")
            self.audit.stage(
                batch,
                "second_factor_failed",
                actor=session.email,
                outcome="refused",
                reason="too_many_attempts",
                client=client,
            )
            self.backend.commit(batch, "end session after wrong codes")
            raise TooManyAttempts(N_("Too many wrong codes. Sign in again."))
        log_event("second_factor_failed", actor=session.email, reason=reason, ip=client.ip)
        left = MAX_FAILURES - failures
        raise WrongCode(
            N_("That code is not right. %(left)s attempts left.")
            if left != 1
            else N_("That code is not right. 1 attempt left."),
            params={"left": left} if left != 1 else None,
        )

    def stage_passed(
        self, batch, session: SessionRecord, admin: Admin, kind: str, client: Client
    ) -> Passed:
        now = self.clock()
        if not session.mfa_pending:
            self.sessions.stage_step_up(batch, session.key, now)
            self.audit.stage(batch, "step_up", actor=admin.email, reason=kind, client=client)
            return Passed(session=session, claims=None)
        # The pending record is spent once (conditional on it being
        # unchanged) and a new one opens: a new session id.
        claims, full = self.sessions.stage_rotate(
            batch, session, client=client, now=now, factor=kind
        )
        self.audit.stage(
            batch, "second_factor_passed", actor=admin.email, reason=kind, client=client
        )
        return Passed(session=full, claims=claims)

    def stage_factor_change(
        self, batch, event: str, admin: Admin, kind: str, client: Client
    ) -> None:
        """The audit entry of a change to the admin's own factors (added,
        renamed, removed), in the batch that makes it."""
        self.audit.stage(
            batch, event, actor=admin.email, target=admin.email, reason=kind, client=client
        )

    def commit(self, batch, what: str, lost_race: Exception) -> None:
        """Commit, or raise ``lost_race`` when another request spent the
        code, the step, the challenge or the pending session (or removed the
        admin) between our read and our write."""
        self.backend.commit(batch, what, lost_race=lost_race)
