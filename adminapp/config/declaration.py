"""What declaring a setting means, and the generic steps that follow from
the declarations: the defaults, reading each setting, building the record.

``declared.py`` holds the declarations themselves; docs/configuration.md
and .env.example are written from them (``python -m devtools.settings_docs``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, get_type_hints

from .source import Reader, Source

_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Setting:
    """One setting, declared once.

    ``default`` is written as in the environment ("" for none) and goes
    through ``read`` like any value; ``default_doc`` replaces it in the docs
    when the default depends on other settings (or when it is required only
    in some set-ups). A ``secret`` setting's value is never shown: left out of
    the record's repr, empty in .env.example, never echoed in an error.
    """

    name: str  # the environment variable
    # The record field it fills ("smtp.host" inside a group); None when only a
    # rule reads it (rules.py).
    field: str | None
    read: Reader  # (source, name) -> value; errors name the setting
    doc: str  # one line: what a reader of the configuration table needs
    default: str = ""
    default_doc: str = ""
    required: bool = False
    secret: bool = False
    # .env.example's value when it is not the default (local development on
    # the emulators).
    example: str | None = None
    # Fields that take the same value (webauthn_origin is PUBLIC_URL).
    also_fills: tuple[str, ...] = ()

    def read_from(self, source: Source) -> Any:
        if self.required:
            source.required(self.name)
        return self.read(source, self.name)

    @property
    def fills(self) -> tuple[str, ...]:
        return ((self.field,) if self.field else ()) + self.also_fills


class Section:
    """Settings that belong together: one table in docs/configuration.md and
    one block of .env.example. ``note`` is said once above them.

    ``read_when``: the section's settings are read only when it holds
    (otherwise they take their defaults), so values a set-up does not use
    cannot stop it.
    """

    def __init__(
        self,
        title: str,
        *settings: Setting,
        note: str = "",
        read_when: Callable[[Source], bool] | None = None,
    ):
        self.title = title
        self.settings = settings
        self.note = note
        self.read_when = read_when


class Record:
    """A frozen settings record (``@dataclass(frozen=True, repr=False)``)
    whose repr leaves out the fields that secret settings fill."""

    _secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        shown = (
            f"{item.name}={getattr(self, item.name)!r}"
            for item in fields(self)
            if item.name not in self._secret_fields
        )
        return f"{type(self).__name__}({', '.join(shown)})"


def declared(sections: tuple[Section, ...]) -> tuple[Setting, ...]:
    return tuple(setting for section in sections for setting in section.settings)


def defaults(sections: tuple[Section, ...]) -> dict[str, str]:
    return {setting.name: setting.default for setting in declared(sections)}


def read_each(sections: tuple[Section, ...], source: Source) -> dict[str, Any]:
    """Every setting read alone, in order, keyed by its name."""
    values: dict[str, Any] = {}
    for section in sections:
        used = section.read_when is None or section.read_when(source)
        section_source = source if used else source.without_values()
        for setting in section.settings:
            values[setting.name] = setting.read_from(section_source)
    return values


def build(record: type, sections: tuple[Section, ...], values: Mapping[str, Any]) -> Any:
    """The record, each field filled from the value of the setting that fills
    it (a group's fields, "smtp.host", into the group's own record)."""
    by_path = {
        path: values[setting.name] for setting in declared(sections) for path in setting.fills
    }
    return _build(record, by_path)


def _build(record: type, by_path: Mapping[str, Any]) -> Any:
    flat: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for path, value in by_path.items():
        head, _, rest = path.partition(".")
        if rest:
            groups.setdefault(head, {})[rest] = value
        else:
            flat[head] = value
    types = get_type_hints(record)
    for head, inner in groups.items():
        flat[head] = _build(types[head], inner)
    return record(**flat)


def field_paths(record: type, prefix: str = "") -> Iterator[str]:
    """Every leaf field of a record, a group's as "group.field"."""
    types = get_type_hints(record)
    for item in fields(record):
        kind = types[item.name]
        if is_dataclass(kind):
            yield from field_paths(kind, f"{prefix}{item.name}.")
        else:
            yield f"{prefix}{item.name}"


def check(sections: tuple[Section, ...], record: type) -> None:
    """Refuse declarations that cannot be right, naming what to change. Run
    at import, so a setting declared in one place only stops everything."""
    problems = []
    names = [setting.name for setting in declared(sections)]
    problems += [
        f"{name} is declared twice" for name in sorted(set(names)) if names.count(name) > 1
    ]
    for setting in declared(sections):
        if not _NAME.match(setting.name):
            problems.append(f"{setting.name!r} is not an environment variable name")
        if not setting.doc.strip() or not _one_cell(setting.doc):
            problems.append(f"{setting.name}'s doc must be one line without '|'")
        if not _one_cell(setting.default_doc):
            problems.append(f"{setting.name}'s default_doc must be one line without '|'")
        if setting.required and (setting.default or setting.default_doc):
            problems.append(f"{setting.name} is required, so it has no default")
        if setting.secret and setting.example:
            problems.append(f"{setting.name} is secret: .env.example must not show a value")
    filled = [path for setting in declared(sections) for path in setting.fills]
    paths = list(field_paths(record))
    problems += [
        f"{path} is filled by several settings"
        for path in sorted(set(filled))
        if filled.count(path) > 1
    ]
    problems += [
        f"{path} is no field of {record.__name__}: add it, with its type"
        for path in filled
        if path not in paths
    ]
    problems += [
        f"{record.__name__}.{path} is filled by no setting: declare the setting that fills it"
        for path in paths
        if path not in filled
    ]
    if problems:
        raise TypeError("Settings declarations: " + "; ".join(problems) + ".")


def _one_cell(text: str) -> bool:
    """Fits in one cell of a Markdown table (and one comment of .env.example)."""
    return "\n" not in text and "|" not in text


def hide_secrets(sections: tuple[Section, ...], record: type, prefix: str = "") -> None:
    """Give each record (the group records too) the fields its repr hides."""
    secret = {
        path.removeprefix(prefix)
        for setting in declared(sections)
        if setting.secret
        for path in setting.fills
        if path.startswith(prefix)
    }
    record._secret_fields = frozenset(path for path in secret if "." not in path)
    types = get_type_hints(record)
    for item in fields(record):
        if is_dataclass(types[item.name]):
            hide_secrets(sections, types[item.name], f"{prefix}{item.name}.")
