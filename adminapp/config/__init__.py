"""Read and validate adminapp's settings.

Every setting comes from the environment (``.env`` is loaded into it by
``wsgi.py`` and the ``flask`` command). Each is declared once, in
``declared.py``; ``load_settings`` reads each one alone, then checks the
rules across settings (``rules.py``), and refuses unsafe or incomplete
combinations with a :class:`ConfigError` that names the setting, so a
misconfigured deployment stops at start-up instead of serving requests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .declaration import build, defaults, read_each
from .declared import DECLARED, SECTIONS, Settings, SmtpSettings
from .readers import DEVELOPMENT, PRODUCTION, PUBLISHED_SECRETS, ROLES
from .rules import EMULATOR_VARIABLES, RULES, ProviderButton, default_log_format
from .source import ConfigError, Source

__all__ = [
    "DECLARED",
    "DEVELOPMENT",
    "EMULATOR_VARIABLES",
    "PRODUCTION",
    "PUBLISHED_SECRETS",
    "ROLES",
    "SECTIONS",
    "ConfigError",
    "ProviderButton",
    "Settings",
    "SmtpSettings",
    "load_settings",
    "log_format_of",
]

_DEFAULTS = defaults(SECTIONS)


def load_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from the environment, with ``overrides`` on top.

    The emulator variables are also read from ``os.environ`` whatever the
    overrides say, because that is where the Firebase SDKs read them: the
    safety check must see what the SDKs will do.
    """
    source = Source({**os.environ, **(overrides or {})}, _DEFAULTS)
    values = read_each(SECTIONS, source)
    for rule in RULES:
        values = {**values, **(rule(values) or {})}
    return build(Settings, SECTIONS, values)


def log_format_of(environ: Mapping[str, str]) -> str:
    """LOG_FORMAT as :func:`load_settings` completes it, from only the
    settings it depends on: for gunicorn.conf.py, which sets up logging
    before the app (and the checks of every other setting) load."""
    source = Source(environ, _DEFAULTS)
    needed = ("ADMINAPP_ENV", "K_SERVICE", "LOG_FORMAT")
    values = {s.name: s.read_from(source) for s in DECLARED if s.name in needed}
    return values["LOG_FORMAT"] or default_log_format(values)
