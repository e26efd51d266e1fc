"""Write the settings' docs from their declarations (adminapp/config/declared.py):
the tables of docs/configuration.md and the whole of .env.example.

    python -m devtools.settings_docs           # write both (make settings-docs)
    python -m devtools.settings_docs --check   # say what differs, exit 1 if anything does

tests/unit/test_settings_declared.py fails while either file differs from
what this writes.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import re
import sys
import textwrap
from pathlib import Path

from adminapp.config import SECTIONS
from adminapp.config.declaration import Section, Setting
from adminapp.config.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"
BEGIN = "<!-- settings: begin (written by `make settings-docs`; edit the declarations) -->"
END = "<!-- settings: end -->"
WIDTH = 79

ENV_HEADER = """\
# adminapp settings. Copy to .env (make run does this for you) or set them in
# the environment; the environment wins over .env. docs/configuration.md
# explains each one. Values below are for local development on the Firebase
# emulators; an empty value means the default, and production needs more
# (the comments and docs/configuration.md say what).
#
# Written by `make settings-docs` from adminapp/config/declared.py: change a
# setting there, not here.
"""


# -- docs/configuration.md --


def default_cell(setting: Setting) -> str:
    if setting.required:
        return "**required**"
    if setting.default_doc:
        return setting.default_doc
    return f"`{setting.default}`" if setting.default else "empty"


def section_table(section: Section) -> str:
    lines = [f"## {section.title}", ""]
    if section.note:
        lines += [section.note, ""]
    lines += ["| setting | default | meaning |", "|---|---|---|"]
    lines += [
        f"| `{setting.name}` | {default_cell(setting)} | {setting.doc} |"
        for setting in section.settings
    ]
    return "\n".join(lines)


def rule_line(rule) -> str:
    """A rule's docstring's first paragraph, on one line."""
    first = inspect.getdoc(rule).split("\n\n")[0]
    return "- " + " ".join(first.split())


def tables() -> str:
    parts = [section_table(section) for section in SECTIONS]
    parts.append(
        "## Rules across settings\n\n"
        "Checked after each setting has been read alone (`adminapp/config/rules.py`); "
        "each refusal names the settings involved.\n\n"
        + "\n".join(rule_line(rule) for rule in RULES)
    )
    return "\n\n".join(parts)


def docs_page(current: str) -> str:
    """``current`` with the text between the markers written anew."""
    start, end = current.index(BEGIN) + len(BEGIN), current.index(END)
    return f"{current[:start]}\n\n{tables()}\n\n{current[end:]}"


# -- .env.example --


# Holds a code span's spaces while wrapping, so that `make run` stays on one line.
_KEEP = "\u00a0"


def plain(markdown: str) -> str:
    """A doc line as a comment says it: no code quotes or emphasis, each
    code span kept whole."""
    text = re.sub(r"`([^`]*)`", lambda span: span[1].replace(" ", _KEEP), markdown)
    return text.replace("**", "")


def comment(text: str) -> list[str]:
    lines = textwrap.wrap(
        plain(text),
        WIDTH,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_KEEP, " ") for line in lines]


def example_value(setting: Setting) -> str:
    if setting.secret:
        return ""
    if setting.example is not None:
        return setting.example
    return setting.default


def env_example() -> str:
    blocks = [ENV_HEADER.rstrip("\n")]
    for section in SECTIONS:
        lines = [f"# --- {section.title} ".ljust(WIDTH, "-")]
        if section.note:
            lines += [*comment(section.note), "#"]
        for setting in section.settings:
            lines += comment(setting.doc)
            lines.append(f"{setting.name}={example_value(setting)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# -- writing and checking --


def wanted() -> dict[Path, str]:
    return {DOCS: docs_page(DOCS.read_text()), ENV_EXAMPLE: env_example()}


def differences() -> dict[Path, str]:
    """Each file that differs from what the declarations give, with a diff."""
    found = {}
    for path, text in wanted().items():
        current = path.read_text() if path.exists() else ""
        if current != text:
            found[path] = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"{path.relative_to(ROOT)} (now)",
                    f"{path.relative_to(ROOT)} (from the declarations)",
                )
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 on a difference"
    )
    args = parser.parse_args(argv)
    if args.check:
        found = differences()
        for diff in found.values():
            sys.stdout.write(diff)
        if found:
            print("Run `make settings-docs` to write them.", file=sys.stderr)
        return 1 if found else 0
    for path, text in wanted().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
