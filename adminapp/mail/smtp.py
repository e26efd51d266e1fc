"""How we send mail: SMTP, for our own reset and invitation emails
(RESET_DELIVERY=smtp) and for password-change notices in either mode.

One connection per message: password emails are rare, and a pooled
connection would only go stale between them. Every step has the
SMTP_TIMEOUT_SECONDS timeout; TLS certificates are verified.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from ..config import SmtpSettings


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


class SmtpMailer:
    def __init__(self, settings: SmtpSettings):
        self._settings = settings

    def build(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self._sender_domain())
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: Mail) -> None:
        message = self.build(mail)
        try:
            with self._connect() as smtp:
                if self._settings.username:
                    smtp.login(self._settings.username, self._settings.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            # OSError covers refused connections, timeouts and TLS failures.
            raise MailError(type(error).__name__) from error

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        if settings.security == "ssl":
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=self._tls()
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            try:
                smtp.starttls(context=self._tls())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self._settings.ca_file or None)

    def _sender_domain(self) -> str:
        return self._settings.sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
