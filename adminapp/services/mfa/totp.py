"""An authenticator app (TOTP, RFC 6238): enrolment, proof, a new key.

- A code is accepted for the current 30-second step or one either side, and
  never twice: the last used step is stored with the factor, and the write
  is conditional on the factor being unchanged since it was read, so two
  requests with one code cannot both pass.
- The secret is stored sealed (AES-256-GCM, ``adminapp/sealing.py``), bound
  to its factor document and admin. Before it is confirmed it travels sealed
  in the enrolment form, bound to the session that asked for it, and is
  good for ENROLMENT_MAX_AGE.
- The first factor of a pending session is its enrolment; any other new
  key needs a full session with a fresh proof (``stages.require_may_add_factor``).
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp

from ...client import Client
from ...domain.admins import Admin
from ...domain.sessions import SessionRecord
from ...errors import InvalidInput
from ...firebase.factors import TOTP, Factor
from ...i18n_marks import N_
from ...logs import log_event
from ...sealing import SealBroken, SecretBox
from .recovery_codes import RecoveryCodes
from .refusals import AlreadyEnrolled, ChangedMeanwhile, CodeAlreadyUsed, WrongCode
from .stages import Stage, require_may_add_factor, stage_of
from .steps import Passed, ProofSteps

TOTP_DIGITS = 6
TOTP_ISSUER = "adminapp"
# Its name until the admin renames it: stored in English, shown translated
# (adminapp/web/labels.py, factor_name).
DEFAULT_NAME = N_("Authenticator app")
# How long a TOTP secret shown on the enrolment page may be confirmed.
ENROLMENT_MAX_AGE = timedelta(minutes=15)
# What kind the enrolment's wrong codes count as: not a guess at a secret
# the admin holds (it was just shown to them), so not towards the lock.
ENROLMENT = "totp_enrolment"


@dataclass(frozen=True)
class TotpEnrolment:
    """What the enrolment page shows: the key (once), its otpauth URI for the
    QR code, and the key sealed for the confirming form."""

    secret: str
    uri: str
    sealed: str


@dataclass(frozen=True)
class Enrolled:
    passed: Passed
    recovery_codes: list[str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def totp_code(raw: str) -> str:
    code = "".join(raw.split())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        raise WrongCode(
            N_("Enter the %(digits)s-digit code from your authenticator app."),
            params={"digits": TOTP_DIGITS},
        )
    return code


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (current, or one either side) whose code is ``code``."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@dataclass(frozen=True, kw_only=True)
class Totp:
    steps: ProofSteps
    recovery_codes: RecoveryCodes

    _box: SecretBox = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Built with the service, so that unusable keys stop the app at start.
        object.__setattr__(self, "_box", SecretBox(self.steps.settings.mfa_encryption_keys))

    # -- enrolment ---------------------------------------------------------------

    def new_enrolment(self, session: SessionRecord) -> TotpEnrolment:
        """A fresh secret for this session to confirm. Nothing is stored yet:
        the secret travels sealed (bound to this session) in the form."""
        secret = pyotp.random_base32()
        issued = int(self.steps.clock().timestamp())
        sealed = self._box.seal(f"{secret}|{issued}".encode(), _enrolment_context(session))
        uri = pyotp.TOTP(secret, digits=TOTP_DIGITS).provisioning_uri(
            name=session.email,
            issuer_name=f"{TOTP_ISSUER} ({self.steps.settings.webauthn_rp_id})",
        )
        return TotpEnrolment(secret=secret, uri=uri, sealed=_b64(sealed))

    def enrol_first(
        self, session: SessionRecord, admin: Admin, sealed: str, code: str, client: Client
    ) -> Enrolled:
        """The first factor of a pending session: store the secret once
        ``code`` proves the app has it, with ten recovery codes, and
        complete the sign-in."""
        steps = self.steps
        code = totp_code(code)
        secret = self._open_enrolment(session, sealed)
        session = steps.fresh(session)
        current = steps.current_admin(admin.email)
        factors = steps.factors.of(admin.email)
        if stage_of(session, current, steps.settings) is not Stage.ENROL or any(
            f.counted for f in factors
        ):
            raise AlreadyEnrolled(
                N_("A second factor is already set up for this account: use it to sign in.")
            )
        now = steps.clock()
        step = matching_step(secret, code, now)
        if step is None:
            steps.failed(session, client, ENROLMENT, ENROLMENT)
        batch = steps.audit.batch()
        self._stage_new(batch, current, secret, step, now, current.version)
        steps.stage_factor_change(batch, "second_factor_added", admin, TOTP, client)
        codes = self.recovery_codes.stage_new(batch, current, factors, now, client)
        passed = steps.stage_passed(batch, session, current, TOTP, client)
        steps.commit(batch, "enrol TOTP", AlreadyEnrolled(N_("Enrolment was already completed.")))
        return Enrolled(passed=passed, recovery_codes=codes)

    def replace(
        self, session: SessionRecord, admin: Admin, sealed: str, code: str, client: Client
    ) -> Factor:
        """A new key (confirmed with a code from the app) in place of the
        admin's current one, or as their first authenticator app, from a
        full session with a fresh proof."""
        steps = self.steps
        code = totp_code(code)
        secret = self._open_enrolment(session, sealed)
        session = steps.fresh(session)
        current = steps.current_admin(admin.email)
        if session.mfa_pending:
            raise AlreadyEnrolled(N_("Finish signing in first."))
        now = steps.clock()
        require_may_add_factor(session, current, steps.settings, now)
        step = matching_step(secret, code, now)
        if step is None:
            steps.failed(session, client, ENROLMENT, ENROLMENT)
        old = next((f for f in steps.factors.of(admin.email) if f.kind == TOTP), None)
        batch = steps.audit.batch()
        if old is not None:
            # The same document, a new secret: the count is unchanged.
            factor_id = old.id
            steps.factors.stage_use(
                batch,
                old,
                {
                    "secret": self._box.seal(secret.encode(), _totp_context(old.id, admin)),
                    "last_step": step,
                    "created_at": now,
                },
                now,
            )
        else:
            factor_id = self._stage_new(batch, current, secret, step, now, current.version)
        steps.stage_factor_change(
            batch, "second_factor_added", admin, f"{TOTP} (replaced)" if old else TOTP, client
        )
        steps.commit(batch, "replace TOTP", ChangedMeanwhile())
        return steps.factors.get(factor_id)

    # -- proof -------------------------------------------------------------------

    def verify(self, session: SessionRecord, admin: Admin, code: str, client: Client) -> Passed:
        steps = self.steps
        code = totp_code(code)
        steps.lockout.refuse_if_locked(admin.email, TOTP)
        session = steps.fresh(session)
        factor = next((f for f in steps.factors.of(admin.email) if f.kind == TOTP), None)
        if factor is None:
            steps.failed(session, client, "no_totp", TOTP)
        now = steps.clock()
        secret = self._box.open(factor.data["secret"], _totp_context(factor.id, admin))
        step = matching_step(secret.decode(), code, now)
        if step is None:
            steps.failed(session, client, "wrong_totp", TOTP)
        if step <= int(factor.data.get("last_step") or 0):
            log_event(
                "second_factor_failed", actor=admin.email, reason="code_replayed", ip=client.ip
            )
            raise CodeAlreadyUsed(N_("That code was already used. Wait for the next one."))
        batch = steps.audit.batch()
        steps.factors.stage_use(batch, factor, {"last_step": step}, now)
        passed = steps.stage_passed(batch, session, admin, TOTP, client)
        steps.commit(batch, "prove TOTP", CodeAlreadyUsed(N_("That code was already used.")))
        return passed

    # -- the parts -----------------------------------------------------------------

    def _stage_new(
        self, batch, admin: Admin, secret: str, step: int, now: datetime, admin_version
    ) -> str:
        """Add a TOTP factor (its secret sealed to the new document) in the
        caller's batch, counted only if the admin document is unchanged
        since ``admin_version``; its id."""
        factors = self.steps.factors
        factor_id = factors.new_id()
        factors.stage_add(
            batch,
            factor_id=factor_id,
            email=admin.email,
            kind=TOTP,
            name=DEFAULT_NAME,
            now=now,
            data={
                "secret": self._box.seal(secret.encode(), _totp_context(factor_id, admin)),
                "last_step": step,
            },
            admin_version=admin_version,
        )
        return factor_id

    def _open_enrolment(self, session: SessionRecord, sealed: str) -> str:
        try:
            secret, issued = (
                self._box.open(_unb64(sealed), _enrolment_context(session)).decode().split("|")
            )
        except (SealBroken, ValueError, UnicodeDecodeError):
            raise InvalidInput(
                N_("This enrolment form is not valid any more. Reload the page."),
                code="bad_enrolment",
            ) from None
        age = self.steps.clock().timestamp() - int(issued)
        if not 0 <= age <= ENROLMENT_MAX_AGE.total_seconds():
            raise InvalidInput(
                N_("This enrolment form has expired. Reload the page for a new key."),
                code="bad_enrolment",
            )
        return secret


def _enrolment_context(session: SessionRecord) -> str:
    return f"totp-enrolment|{session.key}|{session.email}"


def _totp_context(factor_id: str, admin: Admin) -> str:
    return f"totp|{factor_id}|{admin.email}"
