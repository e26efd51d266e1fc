"""Our own emails' wording: plain-text and HTML templates under ``templates/email/``.

Each email is a pair, ``<name>.txt`` and ``<name>.html``, rendered with the
same context. Undefined variables are errors, so a template never goes out
with a blank where a link should be.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from ..config import Settings
from .smtp import Mail, SmtpMailer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"


class EmailTemplates:
    def __init__(self, directory: Path = TEMPLATES):
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )

    def render(self, name: str, *, to: str, subject: str, **context) -> Mail:
        return Mail(
            to=to,
            subject=subject,
            text=self._environment.get_template(f"{name}.txt").render(context),
            html=self._environment.get_template(f"{name}.html").render(context),
        )


class OwnEmail:
    """An email of ours (not Firebase's), rendered from ``templates/email``
    and sent through SMTP; subclasses say when and what."""

    def __init__(self, settings: Settings, templates: EmailTemplates, mailer: SmtpMailer):
        self._settings = settings
        self._templates = templates
        self._mailer = mailer
