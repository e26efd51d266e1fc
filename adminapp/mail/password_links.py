"""Getting a password link to an address, in one of two ways.

* ``firebase``: Firebase sends its own templated email
  (``accounts:sendOobCode``). Its link goes to Firebase's action page unless
  the project's email template points the action URL at our confirmation
  page (docs/password-reset.md: "Delivery modes").
* ``smtp``: the Admin SDK makes the link, we keep only its code, and send our
  own email with a link to our confirmation page at PUBLIC_URL.

``purpose`` picks the wording: ``reset`` (a forgotten password) or
``invite`` (a new admin sets a first password). Both use a password reset
code, so both land on the same confirmation page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from firebase_admin import auth

from ..config import Settings
from ..firebase.backend import FirebaseBackend
from ..firebase.identity_toolkit import IdentityToolkit, ToolkitError
from ..i18n_marks import N_
from .messages import EmailTemplates
from .smtp import Mail, MailError, SmtpMailer

log = logging.getLogger(__name__)

PURPOSES = ("reset", "invite")
CONFIRM_PATH = "/admin/resetpassword/confirm"
LOGIN_PATH = "/admin/login"
_TEMPLATE_FOR = {"reset": "password_reset", "invite": "invite"}
_SUBJECT_FOR = {
    "reset": N_("Reset your admin password"),
    "invite": N_("Set your admin password"),
}


class LinkDeliveryError(Exception):
    """The link could not be made or sent; ``cause`` is for the log."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def login_url(settings: Settings) -> str | None:
    """Our sign-in page at PUBLIC_URL (None when it is not set)."""
    return f"{settings.public_url}{LOGIN_PATH}" if settings.public_url else None


def confirm_link(public_url: str, code: str) -> str:
    """Our confirmation page for a code (the code is URL-encoded)."""
    return f"{public_url}{CONFIRM_PATH}?{urlencode({'oobCode': code})}"


def code_from_link(link: str) -> str:
    """The ``oobCode`` of a Firebase action link."""
    codes = parse_qs(urlsplit(link).query).get("oobCode") or []
    if len(codes) != 1 or not codes[0]:
        raise LinkDeliveryError("no oobCode in generated link")
    return codes[0]


@dataclass(frozen=True, kw_only=True)
class LinkDelivery:
    backend: FirebaseBackend
    toolkit: IdentityToolkit
    settings: Settings
    templates: EmailTemplates
    mailer: SmtpMailer

    @property
    def mode(self) -> str:
        return self.settings.reset_delivery

    def send(self, email: str, purpose: str = "reset", locale: str | None = None) -> None:
        """Send a password link to ``email``, in ``locale`` (the recipient's
        language; DEFAULT_LOCALE when None), or raise :class:`LinkDeliveryError`.
        May also raise ``BackendUnavailable`` when Firebase does not answer."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        locale = locale or self.settings.default_locale
        if self.mode == "smtp":
            self._send_own_email(email, purpose, locale)
        else:
            self._send_firebase_email(email, locale)

    def _send_firebase_email(self, email: str, locale: str) -> None:
        # Firebase has one template per project: an invitation gets the same
        # "reset your password" wording as a reset, in the project's
        # translation of it for this language.
        try:
            self.toolkit.send_password_reset(email, login_url(self.settings), locale)
        except ToolkitError as refusal:
            raise LinkDeliveryError(refusal.code) from None

    def _send_own_email(self, email: str, purpose: str, locale: str) -> None:
        settings = auth.ActionCodeSettings(url=login_url(self.settings))
        with self.backend.auth_call("generate_password_reset_link"):
            # Firebase's refusals are caught inside the call, so that only
            # "Firebase did not answer" becomes BackendUnavailable.
            try:
                link = self.backend.auth.generate_password_reset_link(email, settings)
            except (
                auth.UserNotFoundError,
                auth.ResetPasswordExceedLimitError,
                auth.InvalidDynamicLinkDomainError,
                ValueError,
            ) as error:
                raise LinkDeliveryError(type(error).__name__) from None
        mail = self.render(
            email, purpose, confirm_link(self.settings.public_url, code_from_link(link)), locale
        )
        try:
            self.mailer.send(mail)
        except MailError as error:
            raise LinkDeliveryError(f"smtp: {error}") from None

    def render(self, email: str, purpose: str, link: str, locale: str | None = None) -> Mail:
        return self.templates.render(
            _TEMPLATE_FOR[purpose],
            locale=locale or self.settings.default_locale,
            to=email,
            subject=_SUBJECT_FOR[purpose],
            email=email,
            link=link,
            login_url=login_url(self.settings),
        )
