"""Getting a password link to an address, in one of two ways.

* ``firebase``: Firebase sends its own templated email
  (``accounts:sendOobCode``). Its link goes to Firebase's action page unless
  the project's email template points the action URL at our confirmation
  page (see the README).
* ``smtp``: the Admin SDK makes the link, we keep only its code, and send our
  own email with a link to our confirmation page at PUBLIC_URL.

``purpose`` picks the wording: ``reset`` (a forgotten password) or
``invite`` (a new admin sets a first password). Both use a password reset
code, so both land on the same confirmation page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from firebase_admin import auth

from .config import Settings
from .firebase import FirebaseBackend
from .identity_toolkit import IdentityToolkit, ToolkitError
from .mail import Mail, MailError, SmtpMailer

log = logging.getLogger(__name__)

PURPOSES = ("reset", "invite")
CONFIRM_PATH = "/admin/resetpassword/confirm"
LOGIN_PATH = "/admin/login"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
_TEMPLATE_FOR = {"reset": "password_reset", "invite": "invite"}
_SUBJECT_FOR = {"reset": "Reset your admin password", "invite": "Set your admin password"}


class LinkDeliveryError(Exception):
    """The link could not be made or sent; ``cause`` is for the log."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def confirm_link(public_url: str, code: str) -> str:
    """Our confirmation page for a code (the code is URL-encoded)."""
    return f"{public_url}{CONFIRM_PATH}?{urlencode({'oobCode': code})}"


def code_from_link(link: str) -> str:
    """The ``oobCode`` of a Firebase action link."""
    codes = parse_qs(urlsplit(link).query).get("oobCode") or []
    if len(codes) != 1 or not codes[0]:
        raise LinkDeliveryError("no oobCode in generated link")
    return codes[0]


class LinkDelivery:
    def __init__(self, backend: FirebaseBackend, toolkit: IdentityToolkit, settings: Settings):
        self._backend = backend
        self._toolkit = toolkit
        self._settings = settings
        self._mailer = SmtpMailer(settings.smtp)
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )

    @property
    def mode(self) -> str:
        return self._settings.reset_delivery

    def send(self, email: str, purpose: str = "reset") -> None:
        """Send a password link to ``email`` or raise :class:`LinkDeliveryError`.
        May also raise ``BackendUnavailable`` when Firebase does not answer."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        if self.mode == "smtp":
            self._send_own_email(email, purpose)
        else:
            self._send_firebase_email(email)

    def _login_url(self) -> str | None:
        public = self._settings.public_url
        return f"{public}{LOGIN_PATH}" if public else None

    def _send_firebase_email(self, email: str) -> None:
        # Firebase has one template per project: an invitation gets the same
        # "reset your password" wording as a reset.
        try:
            self._toolkit.send_password_reset(email, self._login_url())
        except ToolkitError as refusal:
            raise LinkDeliveryError(refusal.code) from None

    def _send_own_email(self, email: str, purpose: str) -> None:
        settings = auth.ActionCodeSettings(url=self._login_url())
        with self._backend.auth_call("generate_password_reset_link"):
            # Firebase's refusals are caught inside the call, so that only
            # "Firebase did not answer" becomes BackendUnavailable.
            try:
                link = auth.generate_password_reset_link(email, settings, app=self._backend.app)
            except (
                auth.UserNotFoundError,
                auth.ResetPasswordExceedLimitError,
                auth.InvalidDynamicLinkDomainError,
                ValueError,
            ) as error:
                raise LinkDeliveryError(type(error).__name__) from None
        mail = self.render(
            email, purpose, confirm_link(self._settings.public_url, code_from_link(link))
        )
        try:
            self._mailer.send(mail)
        except MailError as error:
            raise LinkDeliveryError(f"smtp: {error}") from None

    def render(self, email: str, purpose: str, link: str) -> Mail:
        name = _TEMPLATE_FOR[purpose]
        context = {"email": email, "link": link, "login_url": self._login_url()}
        return Mail(
            to=email,
            subject=_SUBJECT_FOR[purpose],
            text=self._templates.get_template(f"{name}.txt").render(context),
            html=self._templates.get_template(f"{name}.html").render(context),
        )
