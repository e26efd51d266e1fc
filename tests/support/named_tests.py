"""Docs that name tests (SECURITY.md, docs/pipa.md): find the names and the
ones that no longer exist, so a doc cannot claim a proof that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `tests/x/test_y.py::test_z`, `…::Class::test_z` or `…::test_z[case]`.
NODE = re.compile(r"`(tests/[\w/]+\.py)::(?:(\w+)::)?(\w+)(?:\[([\w-]+)\])?`")


def named_tests(doc: str) -> list[tuple[str, str, str, str]]:
    return NODE.findall(doc)


def missing_tests(doc: str) -> list[str]:
    """The tests ``doc`` names that are not in the tree."""
    missing = []
    for path, cls, function, case in named_tests(doc):
        source = ROOT / path
        text = source.read_text() if source.exists() else ""
        # A test is a module-level function, or a method of the named class.
        if cls:
            body = re.split(rf"^class {cls}\b", text, maxsplit=1, flags=re.M)
            text = re.split(r"\n(?=\S)", body[1], maxsplit=1)[0] if len(body) == 2 else ""
        indent = "    " if cls else ""
        found = re.search(rf"^{indent}def {function}\(", text, re.M)
        if not found or (case and case not in text):
            node = "::".join(filter(None, (path, cls, function)))
            missing.append(node + (f"[{case}]" if case else ""))
    return missing
