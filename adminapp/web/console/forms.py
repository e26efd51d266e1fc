"""Forms of the admin pages (flask-wtf: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from ...addresses import MAX_EMAIL_LENGTH
from ...catalogs import supported_locales
from ...config import Settings
from ...domain.roles import ROLES, VIEWER, RoleBook
from ...services.exports import MAX_REASON
from ...timezones import zone_names
from ..form_fields import email_field
from ..i18n import language_choices
from ..labels import ROLE_LABELS, event_label

CHOOSE_ROLE = _l("Choose a role from the list.")


def role_choices(book: RoleBook) -> list[SelectChoice]:
    """The built-in roles, then the custom ones (shown by their names)."""
    built_in = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]
    return built_in + [SelectChoice(name, name) for name in book.names()]


def _listed(form, field) -> None:
    # Our own message instead of WTForms' "Not a valid choice".
    if field.data not in {choice.value for choice in field.choices}:
        raise ValidationError(CHOOSE_ROLE)


def _role_field(**kwargs) -> SelectField:
    # The choices are the view's: they include the custom roles (offer_roles).
    return SelectField(_l("Role"), validate_choice=False, validators=[_listed], **kwargs)


class _OffersRoles:
    def offer_roles(self, book: RoleBook):
        self.role.choices = role_choices(book)
        return self


class InviteForm(_OffersRoles, FlaskForm):
    email = email_field(_l("Enter an email address."))
    role = _role_field(default=VIEWER)
    # How they will sign in: "password" or a provider button's id. The
    # choices are the site's (set by the view from the settings).
    provider = SelectField(_l("Signs in with"), validate_choice=True)

    def offer_sign_in_methods(self, settings: Settings) -> InviteForm:
        methods = [SelectChoice(b.id, b.label) for b in settings.provider_buttons]
        if settings.password_sign_in:
            methods.insert(0, SelectChoice("password", _l("Email and password")))
        self.provider.choices = methods
        if self.provider.data is None:
            self.provider.data = methods[0].value if methods else None
        return self


class RoleForm(_OffersRoles, FlaskForm):
    role = _role_field()


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""


def _language_choices() -> list[SelectChoice]:
    default = SelectChoice("", _l("The browser's language"))
    return [default, *(SelectChoice(code, name) for code, name in language_choices())]


def _zone_choices() -> list[SelectChoice]:
    default = SelectChoice("", _l("The site's default"))
    return [default, *(SelectChoice(zone, zone.replace("_", " ")) for zone in zone_names())]


class AccountForm(FlaskForm):
    """An admin's own language and time zone ("" = follow the defaults)."""

    locale = SelectField(
        _l("Language"),
        choices=_language_choices,
        validate_choice=False,
        validators=[
            AnyOf(("", *supported_locales()), message=_l("Choose a language from the list."))
        ],
    )
    timezone = SelectField(
        _l("Time zone"),
        choices=_zone_choices,
        validate_choice=False,
        validators=[AnyOf(("", *zone_names()), message=_l("Choose a time zone from the list."))],
    )


class AuditFilterForm(FlaskForm):
    """The audit page's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    # Choices are the app's declared events (built-in and products'), set by
    # the view: see AuditTrail.events.
    event = SelectField(_l("Event"), validators=[Optional()])
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=MAX_EMAIL_LENGTH)])
    target = StringField(
        _l("Target (email or uid)"), validators=[Optional(), Length(max=MAX_EMAIL_LENGTH)]
    )

    def __init__(self, formdata, events: tuple[str, ...]):
        super().__init__(formdata)
        self.event.choices = [SelectChoice("", _l("All events"))] + [
            SelectChoice(event, event_label(event)) for event in events
        ]


class ExportForm(FlaskForm):
    """A download with a reason (services/exports.py checks every field:
    the pages, the API and the CLI share its rules). Posted, so the reason
    is in no URL."""

    reason = TextAreaField(
        _l("Why are you exporting this data?"), validators=[Length(max=MAX_REASON)]
    )
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice("csv", _l("CSV")), SelectChoice("jsonl", _l("JSON Lines"))],
        validate_choice=False,
        default="csv",
    )
    # Excel reads a CSV without a byte order mark in the system's code page
    # (CP949 on Korean Windows), garbling Hangul: on by default on the page.
    bom = BooleanField(_l("For Excel (UTF-8 with a byte order mark)"), default=True)


class AuditExportForm(ExportForm):
    """The trail's filters, and a range of days (UTC)."""

    event = SelectField(_l("Event"), validators=[Optional()], validate_choice=False)
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=MAX_EMAIL_LENGTH)])
    target = StringField(
        _l("Target (email or uid)"), validators=[Optional(), Length(max=MAX_EMAIL_LENGTH)]
    )
    since = DateField(_l("From (UTC)"), validators=[Optional()])
    until = DateField(_l("To (UTC, included)"), validators=[Optional()])

    def __init__(self, formdata, events: tuple[str, ...], **kwargs):
        super().__init__(formdata, **kwargs)
        self.event.choices = [SelectChoice("", _l("All events"))] + [
            SelectChoice(event, event_label(event)) for event in events
        ]


class MarkReviewedForm(FlaskForm):
    """Marking a month reviewed. The month and the note are checked by the
    service (services/access_review.py), where the rule lives."""

    month = HiddenField()
    note = TextAreaField(_l("Note"))


class RoleEditorForm(FlaskForm):
    """A custom role: its name (fixed once created), description and
    permissions (checkboxes; the role service validates the names)."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=64)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=1000)])
    permissions = SelectMultipleField(_l("Permissions"), validate_choice=False)
