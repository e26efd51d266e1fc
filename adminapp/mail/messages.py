"""Our own emails' wording: plain-text and HTML templates under ``templates/email/``,
in the reader's language.

Each email is a pair, ``<name>.txt`` and ``<name>.html``, rendered with the
same context. Undefined variables are errors, so a template never goes out
with a blank where a link should be. The templates' text is marked for
translation (``{% trans %}``); each language gets its own Jinja environment
with that language's catalog installed, so emails rendered at once on the
background threads never share a language by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2

from ..catalogs import compiled_directory, translations
from ..config import Settings
from ..timezones import format_when
from .smtp import Mail, SmtpMailer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"


class EmailTemplates:
    def __init__(self, directory: Path = TEMPLATES, catalogs: Path | None = None):
        self._directory = directory
        self._catalogs = catalogs

    def render(
        self,
        name: str,
        *,
        locale: str,
        to: str,
        subject: str,
        subject_params: dict | None = None,
        **context,
    ) -> Mail:
        """Render one email in ``locale``; ``subject`` is the English text
        marked with ``N_`` (``%(name)s`` filled from ``subject_params``),
        translated here."""
        environment = self._environment(locale)
        subject = self._translations(locale).gettext(subject)
        return Mail(
            to=to,
            subject=subject % subject_params if subject_params else subject,
            text=environment.get_template(f"{name}.txt").render(context),
            html=environment.get_template(f"{name}.html").render(context),
        )

    def gettext(self, locale: str, message: str) -> str:
        """``message`` (marked with ``N_``) in ``locale``: for text a
        template shows as it is given."""
        return self._translations(locale).gettext(message)

    def _translations(self, locale: str):
        return translations(self._catalogs or compiled_directory(), locale)

    @lru_cache(maxsize=8)  # noqa: B019  (one per language, for the app's lifetime)
    def _environment(self, locale: str) -> jinja2.Environment:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._directory),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        environment.install_gettext_translations(self._translations(locale), newstyle=True)
        environment.globals["lang"] = locale
        return environment


@dataclass(frozen=True, kw_only=True)
class OwnEmail:
    """An email of ours (not Firebase's), rendered from ``templates/email``
    and sent through SMTP; subclasses say when and what."""

    settings: Settings
    templates: EmailTemplates
    mailer: SmtpMailer

    @property
    def enabled(self) -> bool:
        """Whether this email can be sent (SMTP is set up); a subclass may
        need more."""
        return bool(self.settings.smtp.host)

    def _send(
        self,
        name: str,
        *,
        to: str,
        subject: str,
        locale: str | None,
        timezone: str | None,
        when: dict[str, datetime] | None = None,
        **context,
    ) -> None:
        """Render ``name`` in the reader's language (the defaults when None),
        with each time in ``when`` shown in their zone, and send it now;
        raises ``MailError`` when SMTP fails."""
        locale = locale or self.settings.default_locale
        zone = timezone or self.settings.default_timezone
        times = {key: format_when(value, locale, zone) for key, value in (when or {}).items()}
        self.mailer.send(
            self.templates.render(name, locale=locale, to=to, subject=subject, **times, **context)
        )
