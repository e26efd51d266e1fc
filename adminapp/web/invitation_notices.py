"""What an owner is told about an invitation, in their language: the page's
flash message and the API's ``warning`` say the same."""

from __future__ import annotations

from flask_babel import gettext

from ..services.management import Invitation


def invitation_warnings(invitation: Invitation) -> list[str]:
    """An account that was already there first, then an email that did not
    go out."""
    warnings = []
    if invitation.account_notice is not None:
        template, params = invitation.account_notice
        warnings.append(gettext(template, **params))
    if invitation.email_error:
        warnings.append(gettext(invitation.email_error))
    return warnings
