"""The translation catalogs: where they live, which languages they offer, and
their compiled form.

``adminapp/translations/<locale>/LC_MESSAGES/messages.po`` is the source,
under version control; the ``.mo`` next to it is built by ``make`` (pybabel
compile) or, when missing or older than its ``.po``, by :func:`compiled_directory`
at start-up, so a plain ``pip install`` + gunicorn deployment needs no extra
step. A language is offered when its catalog exists: a third language is a
new catalog, not a code change.

No Flask here: the web layer (Flask-Babel) and the mail layer (emails sent on
background threads) both read the catalogs through this module.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


def available_locales(directory: Path = SOURCE) -> tuple[str, ...]:
    """The languages that have a catalog, e.g. ``("en", "ko")``."""
    return tuple(
        sorted(
            entry.name
            for entry in directory.iterdir()
            if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
        )
    )


@lru_cache(maxsize=1)
def supported_locales() -> tuple[str, ...]:
    """The languages of this installation's catalogs (read once per process)."""
    return available_locales(SOURCE)


def supported_locale(value: object) -> str | None:
    """``value`` if it names a language we have a catalog for, else None."""
    return value if isinstance(value, str) and value in supported_locales() else None


def language_name(locale: str) -> str:
    """A language's own name for itself ("한국어", "English"), for the switch."""
    try:
        name = Locale.parse(locale).get_display_name(locale) or locale
    except (ValueError, UnknownLocaleError):
        return locale
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=4)
def compiled_directory(source: Path = SOURCE) -> Path:
    """A directory holding an up-to-date ``.mo`` for every catalog.

    The catalogs' own directory when it is writable (``make`` has usually
    compiled them already, and this is a few ``stat`` calls); otherwise, on a
    read-only install, a private temporary copy. Writes are atomic, so
    several workers starting at once cannot read half a file.
    """
    stale = [locale for locale in available_locales(source) if _stale(source, locale)]
    if not stale:
        return source
    if os.access(source, os.W_OK):
        target = source
    else:
        target = Path(tempfile.mkdtemp(prefix="adminapp-catalogs-"))
        stale = list(available_locales(source))
    for locale in stale:
        _compile(source, target, locale)
    log.info("compiled translation catalogs %s into %s", ", ".join(stale), target)
    return target


def _paths(directory: Path, locale: str) -> tuple[Path, Path]:
    folder = directory / locale / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _stale(directory: Path, locale: str) -> bool:
    po, mo = _paths(directory, locale)
    return not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime


def _compile(source: Path, target: Path, locale: str) -> None:
    po, _ = _paths(source, locale)
    _, mo = _paths(target, locale)
    mo.parent.mkdir(parents=True, exist_ok=True)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    # Fuzzy entries are drafts: like pybabel compile, leave them out.
    with tempfile.NamedTemporaryFile(dir=mo.parent, delete=False, suffix=".tmp") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    os.replace(handle.name, mo)


@lru_cache(maxsize=16)
def translations(directory: Path, locale: str) -> Translations:
    """The compiled catalog of ``locale`` (English text when there is none)."""
    return Translations.load(str(directory), [locale], DOMAIN)
