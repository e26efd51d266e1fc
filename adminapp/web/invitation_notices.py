"""What an owner is told about an invitation, in their language: the page's
flash message and the API's ``warning`` say the same."""

from __future__ import annotations

from ..services.management import Invitation
from .i18n import say


def invitation_warnings(invitation: Invitation) -> list[str]:
    """An account that was already there first, then an email that did not
    go out."""
    notices = (invitation.account_notice, invitation.email_error)
    return [say(notice) for notice in notices if notice is not None]
