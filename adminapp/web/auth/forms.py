"""Forms of the pages outside the gate (flask-wtf: each carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ...services.password_reset import MIN_PASSWORD_LENGTH
from ..form_fields import email_field

# Long passphrases are welcome; the cap only stops absurd request bodies.
MAX_PASSWORD_LENGTH = 4096
MAX_CODE_LENGTH = 512


class EmailForm(FlaskForm):
    email = email_field(_l("Enter your email address."))


class NewPasswordForm(FlaskForm):
    # The code travels in the form, not in the URL the form posts to.
    oob_code = HiddenField(validators=[DataRequired(), Length(max=MAX_CODE_LENGTH)])
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
            ),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=_l("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH),
            ),
        ],
    )
    repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Type the new password a second time.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )
