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
from .rules import EMULATOR_VARIABLES, RULES, ProviderButton
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
