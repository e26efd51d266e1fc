"""Telling the owners that something they must know about happened.

Owners answer for the admin area: a new owner, a raised role, reset
factors, a tripped lock, a broken audit chain or an admin reading many
people's data may each mean an account is misused (docs/pipa.md,
"Alerts"). What happens and when is decided by ``services/alerts.py``;
this renders one email (``owner_alert``) in each owner's language and time
zone. Like the other notices it holds facts and no link to act on, only the
sign-in page, so a forged copy leads nowhere harmful.
"""

from __future__ import annotations

from datetime import datetime

from .messages import OwnEmail
from .password_links import login_url


class OwnerAlertEmails(OwnEmail):
    def send(
        self,
        to: str,
        *,
        subject: str,
        summary: str,
        params: dict[str, object],
        when: datetime,
        facts: dict[str, str | None],
        locale: str | None,
        timezone: str | None,
    ) -> None:
        """One alert, now; ``subject`` and ``summary`` are English marked
        with ``N_`` (``summary`` filled from ``params``), translated here.
        Raises ``MailError`` when SMTP fails."""
        language = locale or self.settings.default_locale
        self._send(
            "owner_alert",
            to=to,
            subject=subject,
            locale=language,
            timezone=timezone,
            when={"when": when},
            summary=self.templates.gettext(language, summary) % params,
            facts={name: value for name, value in facts.items() if value},
            login_url=login_url(self.settings),
        )
