"""Telling an admin that something happened to their second factor.

Two events need the admin to act, because they mean someone else may know
their password: the per-admin lock on wrong codes tripped, and a sign-in
carried a Firebase second factor that this admin area does not trust. Like
the password-change notice, each holds facts and advice and no link to act
on, so a forged copy leads nowhere harmful. Sent through SMTP when it is
configured; otherwise the security log (and the audit trail) are all there is.
"""

from __future__ import annotations

from datetime import datetime

from ..client import Client
from ..i18n_marks import N_
from .messages import OwnEmail
from .password_links import login_url

LOCKED_SUBJECT = N_("Your admin second factor is locked after wrong codes")
UNTRUSTED_SUBJECT = N_("A sign-in to your admin account used an unknown second factor")


class SecurityNotices(OwnEmail):
    def second_factor_locked(
        self,
        email: str,
        *,
        failures: int,
        until: datetime,
        client: Client | None,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> None:
        """The per-admin lock tripped; raises ``MailError`` when SMTP fails."""
        self._send(
            "second_factor_locked",
            to=email,
            subject=LOCKED_SUBJECT,
            locale=locale,
            timezone=timezone,
            when={"until": until},
            email=email,
            failures=failures,
            ip=client.ip if client else "-",
            login_url=login_url(self.settings),
        )

    def untrusted_firebase_factor(
        self,
        email: str,
        *,
        when: datetime,
        kind: str,
        client: Client | None,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> None:
        """A sign-in or API call carried an enrolment nobody approved."""
        self._send(
            "untrusted_firebase_factor",
            to=email,
            subject=UNTRUSTED_SUBJECT,
            locale=locale,
            timezone=timezone,
            when={"when": when},
            email=email,
            kind=kind,
            ip=client.ip if client else "-",
            login_url=login_url(self.settings),
        )
