"""Forms of the second-factor pages (flask-wtf: each carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

# Generous caps: a TOTP code is 6 digits, a recovery code 19 characters
# with its hyphens; people paste spaces around them.
MAX_CODE_INPUT = 64
MAX_SEALED_INPUT = 512


class TotpForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=MAX_CODE_INPUT)],
    )


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(_l("Enter a recovery code.")), Length(max=MAX_CODE_INPUT)],
    )


class TotpEnrolmentForm(TotpForm):
    # The new secret, sealed to this session (second_factor.new_totp).
    enrolment = HiddenField(validators=[DataRequired(), Length(max=MAX_SEALED_INPUT)])


# A passkey's answer (PublicKeyCredential as JSON): a few hundred bytes with
# a 'none' attestation; a full attestation with its certificates is bigger.
MAX_CREDENTIAL_INPUT = 16_384


class PasskeyForm(FlaskForm):
    # Filled by static/js/passkeys.js from navigator.credentials.
    credential = HiddenField(validators=[DataRequired(), Length(max=MAX_CREDENTIAL_INPUT)])


class NewPasskeyForm(PasskeyForm):
    name = StringField(_l("Name of this passkey"), validators=[Length(max=64)])
