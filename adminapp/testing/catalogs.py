"""The translation check, for adminapp's catalogs and a product's: every
string the code and templates mark is in every catalog, and every catalog
but English (the language the strings are written in) translates each one,
reviewed (not fuzzy), with the same placeholders.

A product's test::

    from pathlib import Path
    from adminapp.testing import assert_catalogs_complete

    ROOT = Path(__file__).resolve().parents[1]

    def test_catalogs_are_complete():
        assert_catalogs_complete(
            ROOT / "adminapp_notes" / "translations", babel_cfg=ROOT / "babel.cfg"
        )
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from adminapp.catalogs import DOMAIN, available_locales

# The language the strings are written in: its catalog may leave them as they are.
SOURCE_LANGUAGE = "en"
# The markers besides gettext's own: N_ (adminapp.product) and lazy_gettext as _l.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_l": None}


def extracted_ids(babel_cfg: Path, sources: Path | None = None) -> set:
    """The message ids pybabel extract finds with ``babel_cfg``'s mapping,
    its paths read from ``sources`` (by default the folder holding it)."""
    with babel_cfg.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(babel_cfg))
    folder = sources or babel_cfg.parent
    return {
        _key(message_id)
        for _, _, message_id, *_ in extract_from_dir(
            str(folder), method_map, options_map, keywords=KEYWORDS
        )
        if message_id
    }


def catalog_problems(translations: Path, extracted: set) -> list[str]:
    """What keeps the catalogs under ``translations`` from being complete."""
    problems = []
    for locale in available_locales(translations):
        po = translations / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        missing = extracted - {_key(message.id) for message in catalog if message.id}
        problems += [f"{locale}: lacks {message_id!r}" for message_id in sorted(map(str, missing))]
        if locale == SOURCE_LANGUAGE:
            continue
        if catalog.fuzzy:
            problems.append(f"{locale}: the catalog is marked fuzzy (a draft)")
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                problems.append(f"{locale}: {message.id!r} is not translated and reviewed")
            elif "python-format" in message.flags:
                problems += [f"{locale}: {error}" for error in message.check(catalog)]
    return problems


def assert_catalogs_complete(
    translations: Path, *, babel_cfg: Path, sources: Path | None = None
) -> None:
    """Fail, listing what is wrong, unless the catalogs are complete (see the
    module docstring). Every language must have a catalog: ``en`` and ``ko``
    at least."""
    extracted = extracted_ids(babel_cfg, sources)
    assert extracted, f"{babel_cfg} found no marked strings under {sources or babel_cfg.parent}"
    assert {"en", "ko"} <= set(available_locales(translations)), f"no en or ko in {translations}"
    problems = catalog_problems(translations, extracted)
    assert not problems, "run pybabel extract/update and translate:\n" + "\n".join(problems)


def _key(message_id):
    return message_id if isinstance(message_id, str) else tuple(message_id)
