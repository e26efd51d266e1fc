"""SECURITY.md names real tests, and every requirement row says how it is met."""

from __future__ import annotations

import re

from tests.support.named_tests import NODE, ROOT, missing_tests, named_tests

DOC = (ROOT / "SECURITY.md").read_text()
REQUIREMENT_ROW = re.compile(r"^\| (\d\.\d+\.\d+(?:–\d\.\d+\.\d+)?) \|.*\| (.*) \|$", re.M)
WITHOUT_TEST = ("N/A", "Firebase", "Level 3", "Not met")


def test_every_named_test_exists():
    assert len(named_tests(DOC)) > 50
    assert missing_tests(DOC) == []


def test_every_requirement_row_names_a_test_or_a_reason():
    rows = REQUIREMENT_ROW.findall(DOC)
    assert len(rows) > 40
    unproven = [
        number
        for number, proof in rows
        if not NODE.search(proof) and not any(word in proof for word in WITHOUT_TEST)
    ]
    assert unproven == []
