"""SECURITY.md names real tests, and every requirement row says how it is met."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "SECURITY.md").read_text()
NODE = re.compile(r"`(tests/[\w/]+\.py)::(?:(\w+)::)?(\w+)(?:\[([\w-]+)\])?`")
REQUIREMENT_ROW = re.compile(r"^\| (\d\.\d+\.\d+(?:–\d\.\d+\.\d+)?) \|.*\| (.*) \|$", re.M)
WITHOUT_TEST = ("N/A", "Firebase", "Level 3", "Not met")


def test_every_named_test_exists():
    named = NODE.findall(DOC)
    assert len(named) > 50
    missing = []
    for path, cls, function, case in named:
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
    assert missing == []


def test_every_requirement_row_names_a_test_or_a_reason():
    rows = REQUIREMENT_ROW.findall(DOC)
    assert len(rows) > 40
    unproven = [
        number
        for number, proof in rows
        if not NODE.search(proof) and not any(word in proof for word in WITHOUT_TEST)
    ]
    assert unproven == []
