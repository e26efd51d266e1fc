"""Recovery codes: ten single-use codes that stand in for a lost factor.

Stored as salted SHA-256 hashes (80 random bits each, so a fast hash is
enough), one document per set; a code opens once: its use is written
conditionally on the set being unchanged since it was read, so two requests
cannot both spend it. A new set (at the first enrolment, or from the
security page) replaces the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from ...client import Client
from ...domain.admins import Admin
from ...domain.sessions import SessionRecord
from ...firebase.factors import RECOVERY_CODES, Factor
from ...i18n_marks import N_
from ...logs import log_event
from .refusals import CodeAlreadyUsed, WrongCode
from .stages import require_may_add_factor
from .steps import Passed, ProofSteps

RECOVERY_CODE_COUNT = 10
# The set's name (stored in English, shown translated: web/labels.py).
DEFAULT_NAME = N_("Recovery codes")
# 16 characters from 32 unambiguous ones (no 0/O, 1/I): 80 bits each.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 16


def normalise_recovery_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").upper()


def format_recovery_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _hash_code(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def recovery_codes_left(factors: list[Factor]) -> int:
    return sum(
        1
        for factor in factors
        if factor.kind == RECOVERY_CODES
        for entry in factor.data.get("codes") or []
        if entry.get("used_at") is None
    )


@dataclass(frozen=True, kw_only=True)
class RecoveryCodes:
    steps: ProofSteps

    def verify(self, session: SessionRecord, admin: Admin, raw: str, client: Client) -> Passed:
        steps = self.steps
        code = normalise_recovery_code(raw)
        if len(code) != RECOVERY_CODE_LENGTH:
            raise WrongCode(N_("Enter one of your recovery codes, such as ABCD-EFGH-JKLM-NPQR."))
        steps.lockout.refuse_if_locked(admin.email, RECOVERY_CODES)
        session = steps.fresh(session)
        for factor in steps.factors.of(admin.email):
            if factor.kind != RECOVERY_CODES:
                continue
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
                    steps.failed(session, client, "recovery_code_reused", RECOVERY_CODES)
                now = steps.clock()
                entries[index] = {**entry, "used_at": now}
                batch = steps.audit.batch()
                steps.factors.stage_use(batch, factor, {"codes": entries}, now)
                passed = steps.stage_passed(batch, session, admin, RECOVERY_CODES, client)
                steps.commit(
                    batch, "prove recovery code", CodeAlreadyUsed(N_("That code was already used."))
                )
                return passed
        steps.failed(session, client, "wrong_recovery_code", RECOVERY_CODES)

    def regenerate(self, session: SessionRecord, admin: Admin, client: Client) -> list[str]:
        """Ten new recovery codes (shown once); the old ones stop working.
        Replacing a factor: a fresh proof first."""
        steps = self.steps
        session = steps.fresh(session)
        current = steps.current_admin(admin.email)
        require_may_add_factor(session, current, steps.settings, steps.clock())
        batch = steps.audit.batch()
        codes = self.stage_new(batch, current, steps.factors.of(admin.email), steps.clock(), client)
        steps.backend.commit(batch, "regenerate recovery codes")
        return codes

    def stage_new(
        self, batch, admin: Admin, factors: list[Factor], now: datetime, client: Client
    ) -> list[str]:
        """Replace the admin's recovery codes with new ones in the caller's
        batch; the codes, to show once."""
        steps = self.steps
        for old in (f for f in factors if f.kind == RECOVERY_CODES):
            steps.factors.stage_remove(batch, old)
        codes = [
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
            for _ in range(RECOVERY_CODE_COUNT)
        ]
        salt = secrets.token_hex(16)
        steps.factors.stage_add(
            batch,
            factor_id=steps.factors.new_id(),
            email=admin.email,
            kind=RECOVERY_CODES,
            name=DEFAULT_NAME,
            now=now,
            data={
                "salt": salt,
                "codes": [{"hash": _hash_code(salt, c), "used_at": None} for c in codes],
            },
        )
        steps.audit.stage(
            batch, "recovery_codes_generated", actor=admin.email, target=admin.email, client=client
        )
        return [format_recovery_code(code) for code in codes]
