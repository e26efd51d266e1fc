"""Forms of the admin pages (flask-wtf: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional

from ...addresses import MAX_EMAIL_LENGTH
from ...firebase.admins import ROLES
from ..form_fields import email_field

ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]


def _role_field(**kwargs) -> SelectField:
    # Our own message instead of WTForms' "Not a valid choice".
    return SelectField(
        "Role",
        choices=ROLE_CHOICES,
        validate_choice=False,
        validators=[AnyOf(ROLES, message="Choose owner, admin or viewer.")],
        **kwargs,
    )


class InviteForm(FlaskForm):
    email = email_field("Enter an email address.")
    role = _role_field(default="viewer")


class RoleForm(FlaskForm):
    role = _role_field()


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""


class AuditFilterForm(FlaskForm):
    """The audit page's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    # Choices are the app's declared events (built-in and products'), set by
    # the view: see AuditTrail.events.
    event = SelectField("Event", validators=[Optional()])
    actor = StringField("Actor", validators=[Optional(), Length(max=MAX_EMAIL_LENGTH)])
    target = StringField(
        "Target (email or uid)", validators=[Optional(), Length(max=MAX_EMAIL_LENGTH)]
    )

    def __init__(self, formdata, events: tuple[str, ...]):
        super().__init__(formdata)
        self.event.choices = [SelectChoice("", "All events")] + [
            SelectChoice(event, event.replace("_", " ")) for event in events
        ]
