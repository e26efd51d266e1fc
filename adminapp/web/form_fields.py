"""Form fields that several blueprints share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..addresses import MAX_EMAIL_LENGTH, InvalidEmail, identity_key
from .i18n import say


def _strip(value: str | None) -> str | None:
    # What a person typed: a stray space around an address is a slip of the
    # keyboard, not a different account. (Tokens and API bodies are never
    # tidied; see adminapp/addresses.py.)
    return value.strip() if isinstance(value, str) else value


def _identity_key(form, field) -> None:
    try:
        field.data = identity_key(field.data)
    except InvalidEmail as error:
        raise ValidationError(say(error)) from None


def email_field(required_message: str) -> StringField:
    """An email address field whose data, once validated, is the identity key.
    ``required_message`` is a lazy translation (``lazy_gettext``)."""
    return StringField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(required_message),
            Length(
                max=MAX_EMAIL_LENGTH,
                message=_l(
                    "An email address has at most %(count)d characters.", count=MAX_EMAIL_LENGTH
                ),
            ),
            _identity_key,
        ],
    )
