"""Forms of the users console (flask-wtf: the posted ones carry a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from ...services.users import MAX_CLAIMS_BYTES

# Long enough for any email, E.164 number or uid (128 characters).
MAX_QUERY_LENGTH = 254


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    q = StringField(
        _l("Email, phone number or uid"), validators=[Optional(), Length(max=MAX_QUERY_LENGTH)]
    )


class ClaimsForm(FlaskForm):
    # The JSON is checked by the service (parse_claims); the length cap here
    # only stops a huge body early (pretty-printing adds spaces).
    claims = TextAreaField(
        _l("Custom claims (JSON)"), validators=[Length(max=4 * MAX_CLAIMS_BYTES)]
    )


class DeleteForm(FlaskForm):
    confirm = StringField(_l("Type the email address to confirm"), validators=[Length(max=254)])
