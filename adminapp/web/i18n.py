"""The reader's language and time zone, for every page, flash message, error
and JSON ``message`` (Flask-Babel).

The language, in this order:

1. the signed-in admin's own choice (``locale`` on their admin document,
   set on /admin/account; read with the document the guard already loads,
   so it costs no Firestore read);
2. the language switch of the signed-out pages (a cookie holding only the
   language);
3. the browser's ``Accept-Language``;
4. ``DEFAULT_LOCALE``.

The JSON API answers scripts: its ``message`` follows ``Accept-Language``
first (its ``error`` codes are stable English). The time zone is the
admin's own (``timezone``) or ``DEFAULT_TIMEZONE``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from babel.dates import format_timedelta, get_day_names
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, gettext

from ..catalogs import compiled_directory, language_name, supported_locale, supported_locales
from ..config import Settings
from ..domain.working_hours import WorkingHours
from ..errors import Refused
from ..i18n_marks import Message
from ..timezones import format_when
from .cookie_jar import JAR_KEY, LANGUAGE
from .responses import API_PREFIX

# A language preference is not worth re-asking for: a year.
LANGUAGE_KEPT_FOR = timedelta(days=365)
SETTINGS_KEY = "adminapp.i18n.settings"


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[SETTINGS_KEY] = settings
    # One Babel per app, not one for the module: Flask-Babel caches the
    # merged catalogs on its instance, and each app reads its own products'
    # catalogs (adminapp/web/products.py) beside adminapp's.
    Babel().init_app(
        app,
        default_locale=settings.default_locale,
        default_timezone=settings.default_timezone,
        # Compiled now if the .mo files are missing or older than the .po.
        default_translation_directories=str(compiled_directory()),
        locale_selector=select_locale,
        timezone_selector=select_timezone,
    )
    app.jinja_env.globals.update(
        html_lang=html_lang,
        language_choices=language_choices,
        current_language=current_language,
    )
    app.add_template_filter(when, "when")
    app.add_template_filter(spell_working_hours, "working_hours")


def _settings() -> Settings:
    return current_app.extensions[SETTINGS_KEY]


def select_locale() -> str:
    settings = _settings()
    if not has_request_context():
        return settings.default_locale
    offered = supported_locales()
    browser = request.accept_languages.best_match(offered)
    if request.path.startswith(API_PREFIX) and browser:
        return browser
    admin = g.get("admin")
    if admin is not None and admin.locale:
        return admin.locale
    return (
        supported_locale(current_app.extensions[JAR_KEY].read(LANGUAGE))
        or browser
        or settings.default_locale
    )


def select_timezone() -> str:
    admin = g.get("admin") if has_request_context() else None
    return (admin.timezone if admin is not None else None) or _settings().default_timezone


def current_language() -> str:
    """The language of this response, as our catalogs name it ("ko")."""
    locale = get_locale()
    return str(locale) if locale is not None else _settings().default_locale


def html_lang() -> str:
    """The BCP 47 tag for ``<html lang>`` ("ko", "en", "pt-BR")."""
    return current_language().replace("_", "-")


def language_choices() -> list[tuple[str, str]]:
    """Every language we have a catalog for, named in itself."""
    return [(locale, language_name(locale)) for locale in supported_locales()]


def when(value) -> str:
    """A stored (UTC) time in the reader's time zone and language."""
    return format_when(value, current_language(), select_timezone())


def spell_working_hours(hours: WorkingHours) -> str:
    """WORKING_HOURS and WORKING_DAYS in the reader's language: "09:00-18:00
    (Mon, Tue, Wed, Thu, Fri)", "09:00-18:00 (월, 화, 수, 목, 금)". The
    weekday names are Babel's (CLDR), Monday first as Python counts them."""
    names = get_day_names("abbreviated", locale=current_language())
    days = ", ".join(names[day] for day in sorted(hours.days))
    return f"{hours.start:%H:%M}-{hours.end:%H:%M} ({days})"


def spell_duration(seconds: int) -> str:
    """ "45 seconds", "3 minutes" (never less than the real wait), in the
    reader's language."""
    if seconds < 90:
        delta, unit = timedelta(seconds=seconds), "second"
    else:
        delta, unit = timedelta(minutes=math.ceil(seconds / 60)), "minute"
    # A threshold no value reaches: always count in ``unit``, never round up
    # to hours.
    return format_timedelta(delta, granularity=unit, threshold=10**9, locale=current_language())


def say(refusal: Refused | Message) -> str:
    """A refusal's (or a message's) text in the reader's language."""
    return refusal.translated(gettext)


def title_of(refusal: Refused) -> str | None:
    return refusal.translated_title(gettext)


def remember_language(response: Response, locale: str) -> None:
    """Keep ``locale`` for the signed-out pages of this browser (the cookie
    jar's language item: the language only, nothing about who the person
    is)."""
    expires = datetime.now(UTC) + LANGUAGE_KEPT_FOR
    current_app.extensions[JAR_KEY].write(response, LANGUAGE, locale, expires=expires)


def forget_language(response: Response) -> None:
    """Follow the browser's language again on the signed-out pages."""
    current_app.extensions[JAR_KEY].clear(response, LANGUAGE)
