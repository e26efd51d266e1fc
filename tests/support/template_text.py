"""Finding text in templates that is not marked for translation.

Jinja's own lexer splits a template into its literal text (``data``) and
its tags; the text inside ``{% trans %}…{% endtrans %}`` is marked, and so
is every ``_()`` in an expression. What is left is put back together, each
``{{ … }}`` standing as a placeholder without letters and the lines kept
where they were, and read with the standard library's HTML parser: a text
node, or an attribute a person sees or hears (``title``, ``alt``,
``placeholder``, ``aria-label``, the CSS-shown ``data-label``, a button's
``value``), that has letters is text nobody translated. Scripts and styles
are skipped. Inside ``{{ … }}``, a string with letters and a space that is
not an argument of ``_()``/``gettext``/``ngettext`` is reported too (``{{
x or "Not set" }}``); shorter strings there are keys, endpoints and names.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import jinja2

PLACEHOLDER = "\x00"
SEEN_ATTRIBUTES = frozenset(
    {
        "title",
        "alt",
        "placeholder",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-valuetext",
        "data-label",
        "label",
    }
)
BUTTON_TYPES = frozenset({"submit", "button", "reset"})
TRANSLATING = frozenset({"_", "gettext", "ngettext", "pgettext", "npgettext"})


class TemplateFinding(NamedTuple):
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


class _Untranslated(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skipping.append(tag)
        values = dict(attrs)
        for name, value in attrs:
            seen = name in SEEN_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_TYPES
            )
            if seen and value and _has_letters(value.replace(PLACEHOLDER, "")):
                self.found.append((self.getpos()[0], value.replace(PLACEHOLDER, "{{…}}")))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style") and self._skipping:
            self._skipping.pop()

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data):
        if self._skipping:
            return
        text = " ".join(data.split())
        if _has_letters(text.replace(PLACEHOLDER, "")):
            # The line of the first letter, not of the whitespace before it.
            start = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
            self.found.append((start, text.replace(PLACEHOLDER, "{{…}}")))


def _tokens(environment: jinja2.Environment, source: str):
    return list(environment.lex(source))


def untranslated_text(path: Path, environment: jinja2.Environment) -> list[tuple[int, str]]:
    """(line, text) of every unmarked piece of text ``path`` shows."""
    source = path.read_text(encoding="utf-8")
    tokens = _tokens(environment, source)
    kept: list[str] = []
    found: list[tuple[int, str]] = []
    in_trans = False
    in_variable = False
    call_depths: list[int] = []  # the bracket depth of each open _( … )
    depth = 0
    previous_name = None
    for index, (line, kind, value) in enumerate(tokens):
        if kind == "data" and not in_trans:
            kept.append(value)
            continue
        if kind == "name" and index >= 2 and tokens[index - 2][1] == "block_begin":
            if value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        if kind == "variable_begin":
            in_variable, depth, call_depths = True, 0, []
            kept.append(PLACEHOLDER)
        elif kind == "variable_end":
            in_variable = False
        elif in_variable and kind == "operator":
            if value in "([{":
                depth += 1
                if value == "(" and previous_name in TRANSLATING:
                    call_depths.append(depth)
            elif value in ")]}":
                if call_depths and call_depths[-1] == depth:
                    call_depths.pop()
                depth -= 1
        elif in_variable and kind == "string" and not call_depths:
            text = value[1:-1]
            if " " in text.strip() and _has_letters(text):
                found.append((line, text))
        if kind != "whitespace":
            previous_name = value if kind == "name" else None
        # Keep the lines where they were: a tag spread over lines, or the
        # text of a trans block, leaves its line breaks.
        kept.append("\n" * value.count("\n"))
    parser = _Untranslated()
    parser.feed("".join(kept))
    parser.close()
    return sorted(found + parser.found)


def scan(root: Path, folders: tuple[str, ...], patterns=("*.html", "*.txt")):
    # Only its lexer is used; nothing is rendered.
    environment = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    findings = []
    for folder in folders:
        for pattern in patterns:
            for path in sorted((root / folder).rglob(pattern)):
                relative = path.relative_to(root).as_posix()
                findings += [
                    TemplateFinding(relative, line, text)
                    for line, text in untranslated_text(path, environment)
                ]
    return sorted(set(findings))
