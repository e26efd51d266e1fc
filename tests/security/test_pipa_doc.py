"""docs/pipa.md and its Korean version name real tests, and every row of
their map says how the article is met: a test, or plainly that it is not
built or the operator's."""

from __future__ import annotations

import re

import pytest

from tests.support.named_tests import NODE, ROOT, missing_tests, named_tests

DOCS = {"en": ROOT / "docs" / "pipa.md", "ko": ROOT / "docs" / "pipa.ko.md"}
# | Article | Duty | Status | How | Test |
MAP_ROW = re.compile(r"^\| (\d[^|]*) \| [^|]+ \| ([^|]+) \| [^|]+ \| (.*) \|$", re.M)
WITHOUT_TEST = {"en": ("Not built", "Operator"), "ko": ("미구현", "운영자")}


@pytest.mark.parametrize("language", sorted(DOCS))
def test_every_named_test_exists(language):
    doc = DOCS[language].read_text()
    assert len(named_tests(doc)) > 20
    assert missing_tests(doc) == []


@pytest.mark.parametrize("language", sorted(DOCS))
def test_every_row_names_a_test_or_says_why_not(language):
    rows = MAP_ROW.findall(DOCS[language].read_text())
    articles = {article.split()[0] for article, _status, _proof in rows}
    assert {"2", "5(3)", "5(6)", "6", "8(1)", "8(2)", "8(3)"} <= articles
    unproven = [
        article
        for article, status, proof in rows
        if not NODE.search(proof) and status.strip() not in WITHOUT_TEST[language]
    ]
    assert unproven == []


def test_both_languages_name_the_same_tests():
    english, korean = (set(named_tests(DOCS[name].read_text())) for name in ("en", "ko"))
    assert english == korean
