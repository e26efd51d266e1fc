"""The second factor's refusals, in the one family of ``adminapp.errors``."""

from __future__ import annotations

from ...errors import Conflict, Forbidden, InvalidInput, NotSignedIn, Refused
from ...i18n_marks import N_


class WrongCode(InvalidInput):
    code = "wrong_code"


class CodeAlreadyUsed(InvalidInput):
    code = "code_already_used"


class TooManyAttempts(NotSignedIn):
    """MAX_FAILURES wrong proofs in one pending session: it is ended."""

    code = "too_many_attempts"


class SecondFactorSessionOver(NotSignedIn):
    code = "session_ended"


class AlreadyEnrolled(Conflict):
    code = "factor_exists"


class LastFactor(Conflict):
    code = "last_factor"


class ChangedMeanwhile(Conflict):
    """Another request changed the admin's factors between our read and our
    write (the write was conditional on them being unchanged)."""

    code = "changed"

    def __init__(self):
        super().__init__(N_("Try again."))


class StepUpRequired(NotSignedIn):
    """A dangerous action, and the caller's last second-factor proof is older
    than STEP_UP_MINUTES (see :func:`adminapp.services.mfa.stages.step_up_due`)."""

    code = "step_up_required"

    def __init__(self, message: str = N_("Confirm it is you with your second factor first.")):
        super().__init__(message)


class SecondFactorLocked(Refused):
    """Too many wrong codes for this admin, across every session and address
    (the per-admin bound, :mod:`adminapp.services.mfa.lockout`): codes are
    refused, even the right one, until the lock ends or an owner lifts it."""

    status = 429
    code = "second_factor_locked"
    title = N_("Too many wrong codes")

    def __init__(self, minutes: int):
        super().__init__(
            N_(
                "Too many wrong codes were entered for this account, so codes are refused "
                "for %(minutes)s minutes. Use a passkey if you have one, or ask an owner "
                "to lift the lock."
            ),
            params={"minutes": minutes},
        )
        self.retry_after = minutes * 60


class UntrustedFirebaseFactor(Forbidden):
    """Firebase proved a second factor that this admin area does not trust
    for this admin (an enrolment nobody approved)."""

    code = "untrusted_second_factor"

    def __init__(self):
        super().__init__(
            N_(
                "This second factor of your Firebase account is not trusted for the admin "
                "area. Sign in with a factor you used here before and trust it on your "
                "security page, or ask an owner to approve it."
            )
        )


class PasskeyRefused(InvalidInput):
    code = "passkey_refused"


class PasskeyExists(Conflict):
    code = "passkey_exists"
