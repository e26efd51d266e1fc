"""The one JSON depth rule (adminapp/json_depth.py), measured without recursion."""

from __future__ import annotations

import json

import pytest

from adminapp.json_depth import MAX_DEPTH, text_too_deep, value_too_deep


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["]]]]", "\\"[[[["]', 1),  # brackets and escaped quotes inside strings
        ('["\\\\", [[]]]', 3),  # an escaped backslash ends before the quote
    ],
)
def test_text_and_value_agree_on_the_depth(text, depth):
    value = json.loads(text)
    for measure, document in ((text_too_deep, text), (value_too_deep, value)):
        assert not measure(document, depth)
        assert measure(document, depth - 1) is (depth > 0)


def test_the_default_limit_and_depths_far_beyond_it():
    assert not text_too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert text_too_deep("[" * (MAX_DEPTH + 1))
    assert text_too_deep("[" * 1_000_000)  # malformed and huge: still measured
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert value_too_deep(value)
