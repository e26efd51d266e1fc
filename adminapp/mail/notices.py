"""Telling an admin that their password changed (OWASP ASVS 2.2.3, 2.5.5).

If someone else reset the password (they read the admin's mailbox, say), the
notice is how the admin finds out. Firebase sends no such email, so we send
our own through SMTP whenever SMTP is configured, in either delivery mode.
Without SMTP there is nobody to send it: the log says so.

The notice holds no link to act on, only facts (when, from which address)
and what to do, so a forged copy of it cannot lead anywhere harmful.
"""

from __future__ import annotations

from datetime import datetime

from ..client import Client
from ..i18n_marks import N_
from .messages import OwnEmail
from .password_links import login_url

SUBJECT = N_("Your admin password was changed")


class ChangeNotices(OwnEmail):
    def password_changed(
        self,
        email: str,
        when: datetime,
        client: Client,
        *,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> None:
        """Send the notice now, in the admin's language and time zone (the
        defaults when None); raises ``MailError`` when SMTP fails."""
        self._send(
            "password_changed",
            to=email,
            subject=SUBJECT,
            locale=locale,
            timezone=timezone,
            when={"when": when},
            email=email,
            ip=client.ip,
            login_url=login_url(self.settings),
        )
