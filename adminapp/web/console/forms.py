"""Forms of the admin pages (flask-wtf: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional

from ...addresses import MAX_EMAIL_LENGTH
from ...config import Settings
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
    # How they will sign in: "password" or a provider button's id. The
    # choices are the site's (set by the view from the settings).
    provider = SelectField("Signs in with", validate_choice=True)

    def offer_sign_in_methods(self, settings: Settings) -> InviteForm:
        methods = [SelectChoice(b.id, b.label) for b in settings.provider_buttons]
        if settings.password_sign_in:
            methods.insert(0, SelectChoice("password", "Email and password"))
        self.provider.choices = methods
        if self.provider.data is None:
            self.provider.data = methods[0].value if methods else None
        return self


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
