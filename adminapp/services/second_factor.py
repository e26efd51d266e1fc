"""The second factor at gate 2: challenge, TOTP enrolment, recovery codes.

A sign-in for a role in MFA_REQUIRED_ROLES opens a *pending* session
(``access.sign_in``). This module turns it into a full one: the admin proves
a factor they have (a TOTP code, RFC 6238; or a single-use recovery code),
or, having none, enrols a TOTP app first. Success ends the pending record
and opens a new full session (new id, new cookie) that records the factor
used; the same proofs on a full session are a step-up (``mfa_step_up_at``).

Safety rules kept here, once:
- a TOTP code is accepted for the current 30-second step or one either side,
  and never twice: the last used step is stored with the factor, and the
  write is conditional on the factor being unchanged since it was read;
- recovery codes are stored as salted SHA-256 hashes (80 random bits each,
  so a fast hash is enough) and each opens once;
- MAX_FAILURES wrong codes end the session, audited;
- an admin with a factor can only add another from a full session (the
  security page): a pending session, which proved only the password, may
  enrol the first factor and nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from google.api_core.exceptions import FailedPrecondition
from google.api_core.exceptions import NotFound as DocumentGone

from ..client import Client
from ..config import Settings
from ..errors import Conflict, InvalidInput, NotFound, NotSignedIn
from ..firebase.admins import Admin, AdminDirectory, AdminNotFound
from ..firebase.audit import AuditTrail, log_event
from ..firebase.backend import FirebaseBackend
from ..firebase.factors import RECOVERY_CODES, TOTP, Factor, FactorStore
from ..firebase.sessions import CookieClaims, SessionRecord, SessionStore
from ..i18n_marks import N_
from ..sealing import SealBroken, SecretBox

MAX_FAILURES = 5
RECOVERY_CODE_COUNT = 10
# 16 characters from 32 unambiguous ones (no 0/O, 1/I): 80 bits each.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 16
TOTP_DIGITS = 6
TOTP_ISSUER = "adminapp"
# How long a TOTP secret shown on the enrolment page may be confirmed.
ENROLMENT_MAX_AGE = timedelta(minutes=15)
MAX_FACTOR_NAME = 60
_FACTOR_ID = re.compile(r"[0-9a-f]{24}")


class WrongCode(InvalidInput):
    code = "wrong_code"


class CodeAlreadyUsed(InvalidInput):
    code = "code_already_used"


class TooManyAttempts(NotSignedIn):
    code = "too_many_attempts"


class SecondFactorSessionOver(NotSignedIn):
    code = "session_ended"


class AlreadyEnrolled(Conflict):
    code = "factor_exists"


class LastFactor(Conflict):
    code = "last_factor"


class StepUpRequired(NotSignedIn):
    """A dangerous action, and this session's last second-factor proof is
    older than STEP_UP_MINUTES (see :meth:`SecondFactor.step_up_due`)."""

    code = "step_up_required"

    def __init__(self, message: str = N_("Confirm it is you with your second factor first.")):
        super().__init__(message)


@dataclass(frozen=True)
class Passed:
    """A proved second factor. ``claims`` is the new full session's cookie
    when a pending session was completed; None for a step-up."""

    session: SessionRecord
    claims: CookieClaims | None


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


def normalise_recovery_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").upper()


def format_recovery_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _hash_code(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _totp_code(raw: str) -> str:
    code = "".join(raw.split())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        raise WrongCode(
            N_("Enter the %(digits)s-digit code from your authenticator app."),
            params={"digits": TOTP_DIGITS},
        )
    return code


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (current, or one either side) whose code is ``code``."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


class SecondFactor:
    def __init__(
        self,
        *,
        backend: FirebaseBackend,
        directory: AdminDirectory,
        sessions: SessionStore,
        factors: FactorStore,
        audit: AuditTrail,
        settings: Settings,
        clock: Callable[[], datetime],
    ):
        self._backend = backend
        self._directory = directory
        self._sessions = sessions
        self._factors = factors
        self._audit = audit
        self._settings = settings
        self._clock = clock
        self._box = SecretBox(settings.mfa_encryption_keys)

    # -- what an admin has -----------------------------------------------------

    def factors_of(self, email: str) -> list[Factor]:
        return self._factors.of(email)

    @staticmethod
    def has_factor(factors: list[Factor]) -> bool:
        return any(factor.counted for factor in factors)

    # -- TOTP enrolment ----------------------------------------------------------

    def new_totp(self, session: SessionRecord) -> TotpEnrolment:
        """A fresh TOTP secret for this session to confirm. Nothing is
        stored yet: the secret travels sealed (AES-GCM, bound to this
        session) in the confirming form."""
        secret = pyotp.random_base32()
        issued = int(self._clock().timestamp())
        sealed = self._box.seal(f"{secret}|{issued}".encode(), self._enrolment_context(session))
        uri = pyotp.TOTP(secret, digits=TOTP_DIGITS).provisioning_uri(
            name=session.email, issuer_name=f"{TOTP_ISSUER} ({self._settings.webauthn_rp_id})"
        )
        return TotpEnrolment(secret=secret, uri=uri, sealed=_b64(sealed))

    def confirm_totp(
        self, session: SessionRecord, admin: Admin, sealed: str, code: str, client: Client
    ) -> Enrolled:
        """Store the TOTP secret from :meth:`new_totp` once ``code`` proves
        the app has it, with 10 new recovery codes; complete a pending
        session. Only an admin without a factor may do this from a pending
        session."""
        code = _totp_code(code)
        secret = self._open_enrolment(session, sealed)
        session = self._fresh(session, client)
        now = self._clock()
        current = self._directory.get(admin.email)
        factors = self._factors.of(admin.email)
        if current is None or self.has_factor(factors) or current.second_factors:
            raise AlreadyEnrolled(
                N_("A second factor is already set up for this account: use it to sign in.")
            )
        step = _matching_step(secret, code, now)
        if step is None:
            self._failed(session, client, "totp_enrolment")
        batch = self._audit.batch()
        self._stage_new_totp(batch, admin, secret, step, now, current.version)
        self._audit.stage(
            batch,
            "second_factor_added",
            actor=admin.email,
            target=admin.email,
            reason=TOTP,
            client=client,
        )
        codes = self._stage_recovery_codes(batch, admin, factors, now, client)
        passed = self._stage_passed(batch, session, admin, TOTP, client)
        self._commit(batch, "enrol TOTP", AlreadyEnrolled("Enrolment was already completed."))
        return Enrolled(passed=passed, recovery_codes=codes)

    # -- proving a factor ----------------------------------------------------------

    def verify_totp(
        self, session: SessionRecord, admin: Admin, code: str, client: Client
    ) -> Passed:
        code = _totp_code(code)
        session = self._fresh(session, client)
        factor = next((f for f in self._factors.of(admin.email) if f.kind == TOTP), None)
        if factor is None:
            self._failed(session, client, "no_totp")
        now = self._clock()
        secret = self._box.open(factor.data["secret"], self._totp_context(factor.id, admin))
        step = _matching_step(secret.decode(), code, now)
        if step is None:
            self._failed(session, client, "wrong_totp")
        if step <= int(factor.data.get("last_step") or 0):
            log_event(
                "second_factor_failed", actor=admin.email, reason="code_replayed", ip=client.ip
            )
            raise CodeAlreadyUsed(N_("That code was already used. Wait for the next one."))
        batch = self._audit.batch()
        self._factors.stage_use(batch, factor, {"last_step": step}, now)
        passed = self._stage_passed(batch, session, admin, TOTP, client)
        self._commit(batch, "prove TOTP", CodeAlreadyUsed(N_("That code was already used.")))
        return passed

    def verify_recovery_code(
        self, session: SessionRecord, admin: Admin, raw: str, client: Client
    ) -> Passed:
        code = normalise_recovery_code(raw)
        if len(code) != RECOVERY_CODE_LENGTH:
            raise WrongCode(N_("Enter one of your recovery codes, such as ABCD-EFGH-JKLM-NPQR."))
        session = self._fresh(session, client)
        sets = [f for f in self._factors.of(admin.email) if f.kind == RECOVERY_CODES]
        for factor in sets:
            entries = list(factor.data.get("codes") or [])
            digest = _hash_code(factor.data.get("salt", ""), code)
            for index, entry in enumerate(entries):
                if not hmac.compare_digest(entry.get("hash", ""), digest):
                    continue
                if entry.get("used_at") is not None:
                    log_event(
                        "second_factor_failed",
                        actor=admin.email,
                        reason="recovery_code_reused",
                        ip=client.ip,
                    )
                    self._failed(session, client, "recovery_code_reused")
                now = self._clock()
                entries[index] = {**entry, "used_at": now}
                batch = self._audit.batch()
                self._factors.stage_use(batch, factor, {"codes": entries}, now)
                passed = self._stage_passed(batch, session, admin, RECOVERY_CODES, client)
                self._commit(
                    batch, "prove recovery code", CodeAlreadyUsed(N_("That code was already used."))
                )
                return passed
        self._failed(session, client, "wrong_recovery_code")
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def recovery_codes_left(factors: list[Factor]) -> int:
        return sum(
            1
            for factor in factors
            if factor.kind == RECOVERY_CODES
            for entry in factor.data.get("codes") or []
            if entry.get("used_at") is None
        )

    # -- step-up -------------------------------------------------------------------

    def step_up_due(self, session: SessionRecord | None, admin: Admin) -> bool:
        """Whether a dangerous action by this session needs a fresh proof:
        its last one (sign-in or step-up, on the record the guard already
        read) is older than STEP_UP_MINUTES. A bearer call (no session) is
        judged by access.authenticate_bearer instead; an admin who has no
        factor and whose role needs none has nothing to prove."""
        if session is None:
            return False
        if not admin.second_factors and admin.role not in self._settings.mfa_required_roles:
            return False
        proved = session.proved_at
        return proved is None or self._clock() - proved > self._settings.step_up_window

    # -- the admin's own factors (the security page) -------------------------------

    def own_factor(self, admin: Admin, factor_id: str) -> Factor:
        """One of ``admin``'s factors; anyone else's is as good as missing."""
        factor = self._factors.get(factor_id) if _FACTOR_ID.fullmatch(factor_id) else None
        if factor is None or factor.email != admin.email:
            raise NotFound(N_("That factor does not exist."), code="factor_not_found")
        return factor

    def rename(self, admin: Admin, factor_id: str, name: str, client: Client) -> Factor:
        name = " ".join((name or "").split())
        if not 1 <= len(name) <= MAX_FACTOR_NAME:
            raise InvalidInput(
                N_("Give a name of 1 to %(max)s characters."), params={"max": MAX_FACTOR_NAME}
            )
        factor = self.own_factor(admin, factor_id)
        batch = self._audit.batch()
        self._factors.stage_update(batch, factor, {"name": name})
        self._audit.stage(
            batch,
            "second_factor_renamed",
            actor=admin.email,
            target=admin.email,
            reason=factor.kind,
            client=client,
        )
        self._backend.commit(batch, "rename second factor")
        return factor

    def remove(self, admin: Admin, factor_id: str, client: Client) -> Factor:
        """Remove one of the admin's factors; the last one that counts is
        refused while their role needs a second factor. Conditional on the
        admin document (its count) being unchanged since read, so two
        removals at once cannot both take the last but one."""
        factor = self.own_factor(admin, factor_id)
        current = self._directory.get(admin.email)
        if current is None:
            raise SecondFactorSessionOver(N_("Your sign-in has expired. Sign in again."))
        if (
            factor.counted
            and current.second_factors <= 1
            and current.role in self._settings.mfa_required_roles
        ):
            raise LastFactor(
                N_(
                    "This is your last second factor and your role needs one: "
                    "add another before removing it."
                )
            )
        batch = self._audit.batch()
        self._factors.stage_remove(batch, factor, admin_version=current.version)
        self._audit.stage(
            batch,
            "second_factor_removed",
            actor=admin.email,
            target=admin.email,
            reason=factor.kind,
            client=client,
        )
        self._commit(batch, "remove second factor", Conflict(N_("Try again."), code="changed"))
        return factor

    def regenerate_recovery_codes(self, admin: Admin, client: Client) -> list[str]:
        """Ten new recovery codes (shown once); the old ones stop working."""
        batch = self._audit.batch()
        codes = self._stage_recovery_codes(
            batch, admin, self._factors.of(admin.email), self._clock(), client
        )
        self._backend.commit(batch, "regenerate recovery codes")
        return codes

    def replace_totp(
        self, session: SessionRecord, admin: Admin, sealed: str, code: str, client: Client
    ) -> Factor:
        """Store a new TOTP secret (from :meth:`new_totp`, confirmed with a
        code from the app) in place of the admin's current one, or as their
        first authenticator app. From a full session only."""
        code = _totp_code(code)
        secret = self._open_enrolment(session, sealed)
        session = self._fresh(session, client)
        if session.mfa_pending:
            raise AlreadyEnrolled(N_("Finish signing in first."))
        now = self._clock()
        step = _matching_step(secret, code, now)
        if step is None:
            self._failed(session, client, "totp_enrolment")
        current = self._directory.get(admin.email)
        old = next((f for f in self._factors.of(admin.email) if f.kind == TOTP), None)
        batch = self._audit.batch()
        if old is not None:
            # The same document, a new secret: the count is unchanged.
            factor_id = old.id
            self._factors.stage_use(
                batch,
                old,
                {
                    "secret": self._box.seal(secret.encode(), self._totp_context(old.id, admin)),
                    "last_step": step,
                    "created_at": now,
                },
                now,
            )
        else:
            version = current.version if current else None
            factor_id = self._stage_new_totp(batch, admin, secret, step, now, version)
        self._audit.stage(
            batch,
            "second_factor_added",
            actor=admin.email,
            target=admin.email,
            reason=f"{TOTP} (replaced)" if old else TOTP,
            client=client,
        )
        self._commit(batch, "replace TOTP", Conflict(N_("Try again."), code="changed"))
        return self._factors.get(factor_id)

    def _stage_new_totp(
        self, batch, admin: Admin, secret: str, step: int, now: datetime, admin_version
    ) -> str:
        """Add a TOTP factor (its secret sealed to the new document) in the
        caller's batch, counted only if the admin document is unchanged
        since ``admin_version``; its id."""
        factor_id = self._factors.new_id()
        self._factors.stage_add(
            batch,
            factor_id=factor_id,
            email=admin.email,
            kind=TOTP,
            name="Authenticator app",
            now=now,
            data={
                "secret": self._box.seal(secret.encode(), self._totp_context(factor_id, admin)),
                "last_step": step,
            },
            admin_version=admin_version,
        )
        return factor_id

    # -- reset (owners, the CLI) ---------------------------------------------------

    def reset(self, email: str, *, actor: str, client: Client | None) -> int:
        """Remove every factor of ``email`` and zero the count on their admin
        document, audited; they enrol again at their next sign-in. Returns
        how many factor documents went. Their sessions are ended by the
        caller (AdminManagement.reset_factors)."""
        if self._directory.get(email) is None:
            raise AdminNotFound(email)
        factors = self._factors.of(email)
        batch = self._audit.batch()
        self._factors.stage_remove_all(batch, email, factors)
        self._audit.stage(
            batch,
            "second_factors_reset",
            actor=actor,
            target=email,
            reason=f"{len(factors)} removed",
            client=client,
        )
        try:
            self._backend.commit(batch, "reset second factors")
        except DocumentGone:
            raise AdminNotFound(email) from None
        return len(factors)

    # -- the steps every proof shares ----------------------------------------------

    def _fresh(self, session: SessionRecord, client: Client) -> SessionRecord:
        """The session as Firestore has it now (failures and challenge are
        counted across instances; a cached copy may be behind)."""
        record = self._sessions.get(session.key)
        now = self._clock()
        if (
            record is None
            or record.email != session.email
            or record.why_over(now, self._settings.session_idle_timeout) is not None
        ):
            raise SecondFactorSessionOver(N_("Your sign-in has expired. Sign in again."))
        return record

    def _failed(self, session: SessionRecord, client: Client, reason: str) -> None:
        """Count a wrong answer; at MAX_FAILURES end the session, audited."""
        failures = self._sessions.count_second_factor_failure(session.key)
        if failures >= MAX_FAILURES:
            batch = self._audit.batch()
            self._sessions.stage_end(batch, session.key, "too_many_attempts")
            self._audit.stage(
                batch,
                "second_factor_failed",
                actor=session.email,
                outcome="refused",
                reason="too_many_attempts",
                client=client,
            )
            self._backend.commit(batch, "end session after wrong codes")
            raise TooManyAttempts(N_("Too many wrong codes. Sign in again."))
        log_event("second_factor_failed", actor=session.email, reason=reason, ip=client.ip)
        left = MAX_FAILURES - failures
        raise WrongCode(
            N_("That code is not right. %(left)s attempts left.")
            if left != 1
            else N_("That code is not right. 1 attempt left."),
            params={"left": left} if left != 1 else None,
        )

    def _stage_passed(
        self, batch, session: SessionRecord, admin: Admin, kind: str, client: Client
    ) -> Passed:
        now = self._clock()
        if not session.mfa_pending:
            self._sessions.stage_step_up(batch, session.key, now)
            self._audit.stage(batch, "step_up", actor=admin.email, reason=kind, client=client)
            return Passed(session=session, claims=None)
        # Privilege changes rotate the session id: the pending record is
        # spent (once: conditional on it being unchanged) and a new one opens.
        self._sessions.stage_end_once(batch, session, "second_factor_passed")
        claims, full = self._sessions.stage_open(
            batch,
            uid=session.uid,
            email=session.email,
            auth_time=session.auth_time,
            client=client,
            now=now,
            factor=kind,
        )
        self._audit.stage(
            batch, "second_factor_passed", actor=admin.email, reason=kind, client=client
        )
        return Passed(session=full, claims=claims)

    def _stage_recovery_codes(
        self, batch, admin: Admin, factors: list[Factor], now: datetime, client: Client
    ) -> list[str]:
        """Replace the admin's recovery codes with 10 new ones; the codes,
        to show once."""
        for old in (f for f in factors if f.kind == RECOVERY_CODES):
            self._factors.stage_remove(batch, old)
        codes = [
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
            for _ in range(RECOVERY_CODE_COUNT)
        ]
        salt = secrets.token_hex(16)
        self._factors.stage_add(
            batch,
            factor_id=self._factors.new_id(),
            email=admin.email,
            kind=RECOVERY_CODES,
            name="Recovery codes",
            now=now,
            data={
                "salt": salt,
                "codes": [{"hash": _hash_code(salt, c), "used_at": None} for c in codes],
            },
        )
        self._audit.stage(
            batch,
            "recovery_codes_generated",
            actor=admin.email,
            target=admin.email,
            client=client,
        )
        return [format_recovery_code(code) for code in codes]

    def _commit(self, batch, what: str, lost_race: Exception) -> None:
        try:
            self._backend.commit(batch, what)
        except (FailedPrecondition, DocumentGone):
            # Another request spent the code, the step or the pending session
            # between our read and our write.
            raise lost_race from None

    # -- sealing -------------------------------------------------------------------

    @staticmethod
    def _enrolment_context(session: SessionRecord) -> str:
        return f"totp-enrolment|{session.key}|{session.email}"

    @staticmethod
    def _totp_context(factor_id: str, admin: Admin) -> str:
        return f"totp|{factor_id}|{admin.email}"

    def _open_enrolment(self, session: SessionRecord, sealed: str) -> str:
        try:
            secret, issued = (
                self._box.open(_unb64(sealed), self._enrolment_context(session)).decode().split("|")
            )
        except (SealBroken, ValueError, UnicodeDecodeError):
            raise InvalidInput(
                N_("This enrolment form is not valid any more. Reload the page."),
                code="bad_enrolment",
            ) from None
        age = self._clock().timestamp() - int(issued)
        if not 0 <= age <= ENROLMENT_MAX_AGE.total_seconds():
            raise InvalidInput(
                N_("This enrolment form has expired. Reload the page for a new key."),
                code="bad_enrolment",
            )
        return secret
