"""A real SMTP server (aiosmtpd) on a free port, recording what it receives."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from adminapp.testing.emulator_control import free_port


@dataclass
class Inbox:
    """What the server accepted, and whether it should refuse instead."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 Message refused"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    controller: Controller

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.inbox.messages)

    def config(self, security: str = "none", **extra: str) -> dict[str, str]:
        """App settings that deliver through this server."""
        return {
            "RESET_DELIVERY": "smtp",
            "SMTP_HOST": self.host,
            "SMTP_PORT": str(self.port),
            "SMTP_SECURITY": security,
            "MAIL_FROM": "Admin <no-reply@example.com>",
            "PUBLIC_URL": "http://localhost",
            **extra,
        }

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(*, tls: ssl.SSLContext | None = None, implicit_tls: bool = False) -> SmtpServer:
    """Plain SMTP, STARTTLS (``tls``) or SMTP over TLS (``implicit_tls``)."""
    inbox = Inbox()
    port = free_port()
    kwargs: dict = {}
    if tls is not None and implicit_tls:
        kwargs["ssl_context"] = tls
    elif tls is not None:
        kwargs.update(tls_context=tls, require_starttls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer(host="127.0.0.1", port=port, inbox=inbox, controller=controller)


def wait_for(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
