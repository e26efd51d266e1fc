"""Where a caller stands with the second factor, decided in one place.

Like django-allauth's login stages, the steps of a sign-in are named here,
and the guard, the pages and the services ask this module instead of testing
the session record's fields themselves. Everything it needs is on the
session record and the admin document that the guard has already read, so
asking costs no Firestore read.

::

    exchange ─┬─▶ ENROL      pending; the admin has no factor ──enrol the first──┐
              ├─▶ CHALLENGE  pending; the admin has a factor ───prove one────────┤
              └─▶ FULL       no factor due, or a trusted Firebase factor         ▼
                                                              FULL (a new session id)
    FULL ── last proof older than STEP_UP_MINUTES ──▶ step-up due for the actions
            classified as needing it (adminapp/web/step_up.py) ──prove──▶ FULL
    FULL that never proved a factor, for a role that needs one ──▶ SIGN_IN_AGAIN
    pending ── MAX_FAILURES wrong proofs ──▶ ended (services/mfa/steps.py)
    any ── MFA_ADMIN_MAX_FAILURES wrong codes in the window ──▶ codes locked
            (services/mfa/lockout.py)

Adding or replacing a factor is allowed in two places only: the first
factor of a pending session (ENROL), and a FULL session with a fresh proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ...config import Settings
from ...domain.admins import Admin
from ...domain.roles import needs_second_factor
from ...domain.sessions import SessionRecord
from ...i18n_marks import N_
from .refusals import AlreadyEnrolled, StepUpRequired


class Stage(StrEnum):
    ENROL = "enrol"
    CHALLENGE = "challenge"
    FULL = "full"
    SIGN_IN_AGAIN = "sign_in_again"

    @property
    def pending(self) -> bool:
        """Waiting for the second factor: only its pages and sign-out open."""
        return self in (Stage.ENROL, Stage.CHALLENGE)


def second_factor_due(admin: Admin, settings: Settings) -> bool:
    """Whether this admin's role needs a second factor (MFA_REQUIRED_ROLES;
    a custom role whenever any role does: domain/roles.py)."""
    return needs_second_factor(admin.role, settings.mfa_required_roles)


def stage_of(session: SessionRecord, admin: Admin, settings: Settings) -> Stage:
    """The stage of a session record, for its admin. Whether the admin has
    a factor is the count on the admin document, kept with the factors."""
    if session.mfa_pending:
        return Stage.CHALLENGE if admin.second_factors else Stage.ENROL
    if session.mfa_factor is None and second_factor_due(admin, settings):
        # Opened before MFA_REQUIRED_ROLES named this role: never proved one.
        return Stage.SIGN_IN_AGAIN
    return Stage.FULL


@dataclass(frozen=True)
class Proof:
    """The caller's most recent second-factor proof: a session's sign-in or
    step-up, or the sign-in of a bearer token whose Firebase factor this
    admin area trusts. ``standing``: a service account, whose calls an
    operator vouched for at the command line; it has no factor to prove."""

    at: datetime | None
    standing: bool = False

    @classmethod
    def of_session(cls, session: SessionRecord) -> Proof:
        return cls(at=session.proved_at)


def step_up_due(proof: Proof, admin: Admin, settings: Settings, now: datetime) -> bool:
    """Whether a dangerous action needs a fresh proof first: the last one is
    older than STEP_UP_MINUTES, or there never was one. An admin who has no
    factor and whose role needs none has nothing to prove."""
    if proof.standing:
        return False
    if not admin.second_factors and not second_factor_due(admin, settings):
        return False
    return proof.at is None or now - proof.at > settings.step_up_window


def require_step_up(proof: Proof, admin: Admin, settings: Settings, now: datetime) -> None:
    if step_up_due(proof, admin, settings, now):
        raise StepUpRequired()


def require_may_add_factor(
    session: SessionRecord, admin: Admin, settings: Settings, now: datetime
) -> None:
    """Adding or replacing a factor (a passkey, a TOTP key, recovery codes)
    is the first enrolment of a pending session, or needs a fresh proof:
    otherwise a stale session (an unattended tab, a stolen cookie) could add
    its own factor, step up with it and stay. ``admin`` must be freshly read
    (its factor count decides ENROL against CHALLENGE)."""
    stage = stage_of(session, admin, settings)
    if stage is Stage.ENROL:
        return
    if stage is Stage.CHALLENGE:
        raise AlreadyEnrolled(
            N_("A second factor is already set up for this account: use it to sign in.")
        )
    require_step_up(Proof.of_session(session), admin, settings, now)
