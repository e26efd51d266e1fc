"""Passkeys (WebAuthn) as a second factor: registration and proof.

The ceremonies themselves are py_webauthn's (``webauthn``): it checks the
origin, the RP ID hash, the challenge, user presence and, as we require it,
user verification, then the signature. This module adds what py_webauthn
leaves to the relying party:

- the challenge is random (py_webauthn's 64 bytes), kept on the session
  record that asked for it (pending or full), taken off it (cleared, once,
  by a write conditional on the record being unchanged) *before* the answer
  is checked, so every challenge is tried at most once, and refused when
  older than CHALLENGE_MAX_AGE;
- a credential is looked up among the signing-in admin's own passkeys only:
  another admin's passkey proves nothing here;
- a signature counter that does not go forward (unless it stays at zero, as
  many passkeys keep it) is refused and audited as a possibly cloned
  authenticator; it is checked after the signature, so only the real key
  (or a clone of it) can raise that alarm;
- adding a passkey is the first enrolment of a pending session, or needs a
  full session with a fresh proof (``stages.require_may_add_factor``), asked
  both when the options are made and when the answer is stored;
- the rest is the steps every factor shares (``steps.py``): wrong answers
  counted towards MAX_FAILURES (a passkey cannot be guessed, so not towards
  the per-admin lock on codes), a pending session completed with a new full
  one, the factor count on the admin document kept in the same batch, ten
  recovery codes at enrolment.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ...client import Client
from ...domain.admins import Admin
from ...domain.sessions import SessionRecord
from ...errors import InvalidInput
from ...firebase.factors import PASSKEY, RECOVERY_CODES, Factor
from ...i18n_marks import N_
from ...logs import log_event
from .recovery_codes import RecoveryCodes
from .refusals import AlreadyEnrolled, PasskeyExists, PasskeyRefused, WrongCode
from .stages import require_may_add_factor
from .steps import Passed, ProofSteps

# How long a passkey request (its challenge) may be answered.
CHALLENGE_MAX_AGE = timedelta(minutes=5)
RP_NAME = "adminapp"
# A passkey nobody named (stored in English, shown translated: web/labels.py).
DEFAULT_NAME = N_("Passkey")
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class PasskeyAdded:
    """A registered passkey. ``passed``: the completed sign-in (None when a
    full session added it); ``recovery_codes``: new codes to show once (the
    first factor of an admin, or one who had none)."""

    factor: Factor
    passed: Passed | None
    recovery_codes: list[str]


def passkeys_among(factors: list[Factor]) -> list[Factor]:
    return [factor for factor in factors if factor.kind == PASSKEY]


def _descriptors(passkeys: list[Factor]) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for passkey in passkeys:
        transports = []
        for name in passkey.data.get("transports") or []:
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                continue  # a transport newer than py_webauthn: only a hint anyway
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(passkey.data["credential_id"]), transports=transports
            )
        )
    return descriptors


def passkey_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            N_("A passkey's name has at most %(max)s characters."),
            code="bad_name",
            params={"max": MAX_NAME_LENGTH},
        )
    return name or DEFAULT_NAME


@dataclass(frozen=True, kw_only=True)
class Passkeys:
    """The passkey ceremonies, on the steps every factor shares."""

    steps: ProofSteps
    recovery_codes: RecoveryCodes

    # -- options: what the page hands to navigator.credentials ---------------------

    def registration_options(self, session: SessionRecord, admin: Admin, client: Client) -> str:
        """Options JSON for ``navigator.credentials.create()``: for a pending
        session's first factor, or from a full session with a fresh proof."""
        steps = self.steps
        session = steps.fresh(session)
        current = steps.current_admin(admin.email)
        require_may_add_factor(session, current, steps.settings, steps.clock())
        factors = steps.factors.of(admin.email)
        options = generate_registration_options(
            rp_id=steps.settings.webauthn_rp_id,
            rp_name=RP_NAME,
            # Stable per account (the authenticator keeps one passkey per
            # account and site), opaque (no email in it).
            user_id=hashlib.sha256(f"adminapp-user|{session.uid}".encode()).digest(),
            user_name=admin.email,
            timeout=int(CHALLENGE_MAX_AGE.total_seconds() * 1000),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(passkeys_among(factors)),
        )
        self._keep_challenge(session, options.challenge)
        return options_to_json(options)

    def authentication_options(self, session: SessionRecord, admin: Admin, client: Client) -> str:
        """Options JSON for ``navigator.credentials.get()``, naming only this
        admin's passkeys."""
        steps = self.steps
        session = steps.fresh(session)
        passkeys = passkeys_among(steps.factors.of(admin.email))
        if not passkeys:
            raise PasskeyRefused(N_("This account has no passkey. Use another factor."))
        options = generate_authentication_options(
            rp_id=steps.settings.webauthn_rp_id,
            timeout=int(CHALLENGE_MAX_AGE.total_seconds() * 1000),
            allow_credentials=_descriptors(passkeys),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        self._keep_challenge(session, options.challenge)
        return options_to_json(options)

    # -- registration --------------------------------------------------------------

    def register(
        self,
        session: SessionRecord,
        admin: Admin,
        response: str,
        *,
        name: str | None,
        origin: str,
        client: Client,
    ) -> PasskeyAdded:
        """Store the passkey that answered :meth:`registration_options`.
        From a pending session this is enrolment: only without a factor, and
        it completes the sign-in; from a full session it needs a fresh
        proof. Recovery codes are made when the admin has none."""
        steps = self.steps
        name = passkey_name(name)
        session, challenge = self._take_challenge(steps.fresh(session))
        current = steps.current_admin(admin.email)
        require_may_add_factor(session, current, steps.settings, steps.clock())
        factors = steps.factors.of(admin.email)
        try:
            credential = parse_registration_credential_json(response)
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=steps.settings.webauthn_rp_id,
                expected_origin=origin,
                require_user_presence=True,
                require_user_verification=True,
            )
        except WebAuthnException as error:
            self._log_refusal(session, client, "passkey_registration_invalid", error)
            raise PasskeyRefused(N_("The passkey could not be registered. Try again.")) from None
        credential_id = bytes_to_base64url(verified.credential_id)
        if any(p.data.get("credential_id") == credential_id for p in passkeys_among(factors)):
            raise PasskeyExists(N_("This passkey is already registered to your account."))
        now = steps.clock()
        batch = steps.audit.batch()
        factor = steps.factors.stage_add(
            batch,
            factor_id=steps.factors.new_id(),
            email=admin.email,
            kind=PASSKEY,
            name=name,
            now=now,
            data={
                "credential_id": credential_id,
                "public_key": verified.credential_public_key,
                "sign_count": verified.sign_count,
                "transports": [t.value for t in credential.response.transports or []],
                "aaguid": verified.aaguid,
                "device_type": verified.credential_device_type.value,
                "backed_up": verified.credential_backed_up,
            },
            # The first factor of an admin is added once, by one request.
            admin_version=current.version if session.mfa_pending else None,
        )
        steps.stage_factor_change(batch, "second_factor_added", admin, PASSKEY, client)
        codes = []
        if session.mfa_pending or not any(f.kind == RECOVERY_CODES for f in factors):
            codes = self.recovery_codes.stage_new(batch, current, factors, now, client)
        passed = None
        if session.mfa_pending:
            passed = steps.stage_passed(batch, session, current, PASSKEY, client)
        steps.commit(batch, "register passkey", AlreadyEnrolled(N_("This was already done.")))
        return PasskeyAdded(factor=factor, passed=passed, recovery_codes=codes)

    # -- proof -----------------------------------------------------------------------

    def verify(
        self, session: SessionRecord, admin: Admin, response: str, *, origin: str, client: Client
    ) -> Passed:
        """Prove the second factor with one of the admin's passkeys."""
        steps = self.steps
        session, challenge = self._take_challenge(steps.fresh(session))
        try:
            credential = parse_authentication_credential_json(response)
        except WebAuthnException:
            self._refuse(session, client, "passkey_malformed")
        passkey = next(
            (
                p
                for p in passkeys_among(steps.factors.of(admin.email))
                if hmac.compare_digest(p.data.get("credential_id", ""), credential.id)
            ),
            None,
        )
        if passkey is None:
            # Unknown here, or another admin's: the same answer.
            self._refuse(session, client, "passkey_unknown")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=steps.settings.webauthn_rp_id,
                expected_origin=origin,
                credential_public_key=passkey.data["public_key"],
                # The counter is compared below, after the signature.
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except WebAuthnException as error:
            self._log_refusal(session, client, "passkey_invalid", error)
            self._refuse(session, client, "passkey_invalid")
        stored = int(passkey.data.get("sign_count") or 0)
        if (verified.new_sign_count or stored) and verified.new_sign_count <= stored:
            steps.audit.record(
                "passkey_clone_suspected",
                actor=admin.email,
                target=passkey.id,
                outcome="refused",
                reason=f"sign count {verified.new_sign_count} after {stored}",
                client=client,
            )
            self._refuse(session, client, "passkey_sign_count_regressed")
        now = steps.clock()
        batch = steps.audit.batch()
        steps.factors.stage_use(batch, passkey, {"sign_count": verified.new_sign_count}, now)
        passed = steps.stage_passed(batch, session, admin, PASSKEY, client)
        steps.commit(batch, "prove passkey", PasskeyRefused(N_("This passkey answer was used.")))
        return passed

    # -- the challenge ---------------------------------------------------------------

    def _keep_challenge(self, session: SessionRecord, challenge: bytes) -> None:
        self.steps.sessions.update_second_factor(
            session.key,
            {
                "mfa_challenge": bytes_to_base64url(challenge),
                "mfa_challenge_at": self.steps.clock(),
            },
        )

    def _take_challenge(self, session: SessionRecord) -> tuple[SessionRecord, bytes]:
        """Spend the session's challenge (whatever the answer turns out to
        be); the record as it is after that, and the challenge."""
        challenge, issued = session.mfa_challenge, session.mfa_challenge_at
        if not challenge or issued is None:
            raise PasskeyRefused(N_("No passkey request is waiting. Try again."))
        # Another request with the same session may take it first.
        session = self.steps.sessions.take_challenge(
            session,
            lost_race=PasskeyRefused(N_("This passkey request was already answered. Try again.")),
        )
        if self.steps.clock() - issued > CHALLENGE_MAX_AGE:
            raise PasskeyRefused(N_("The passkey request expired. Try again."))
        return session, base64url_to_bytes(challenge)

    def _refuse(self, session: SessionRecord, client: Client, reason: str) -> NoReturn:
        """A wrong answer: counted as a wrong code is (MAX_FAILURES)."""
        try:
            self.steps.failed(session, client, reason, PASSKEY)
        except WrongCode:
            raise PasskeyRefused(
                N_("Your passkey was not accepted. Try again, or use another factor.")
            ) from None

    @staticmethod
    def _log_refusal(session: SessionRecord, client: Client, reason: str, error: Exception):
        # py_webauthn's message names the failed check (origin, RP ID, ...);
        # it holds no secret (a challenge is spent by now).
        log_event(
            "passkey_refused",
            actor=session.email,
            reason=reason,
            detail=str(error)[:200],
            ip=client.ip,
        )
