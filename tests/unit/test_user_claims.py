"""The custom-claims validator of the users console (no emulator needed)."""

from __future__ import annotations

import json

import pytest
from firebase_admin import _auth_utils

from adminapp.services.users import (
    MAX_CLAIMS_BYTES,
    MAX_CLAIMS_DEPTH,
    RESERVED_CLAIMS,
    InvalidClaims,
    parse_claims,
)


@pytest.mark.parametrize("value", ['["a"]', '"text"', "42", "null", ["a"], 42, None])
def test_a_non_object_is_refused(value):
    with pytest.raises(InvalidClaims, match="JSON object"):
        parse_claims(value)


def test_text_that_is_not_json_is_refused():
    with pytest.raises(InvalidClaims, match="not valid JSON"):
        parse_claims("{plan: pro}")


def test_an_over_size_payload_is_refused_at_one_byte_over():
    # {"k": "xxx…"} serialised: 9 bytes of punctuation and key around the value.
    exact = {"k": "x" * (MAX_CLAIMS_BYTES - 9)}
    assert len(json.dumps(exact)) == MAX_CLAIMS_BYTES
    assert parse_claims(exact) == exact
    with pytest.raises(InvalidClaims, match="1001 bytes"):
        parse_claims({"k": "x" * (MAX_CLAIMS_BYTES - 8)})


def test_size_counts_bytes_as_sent():
    # Non-ASCII is escaped by json.dumps, as the Admin SDK sends it: é is 6 bytes.
    with pytest.raises(InvalidClaims):
        parse_claims({"k": "é" * 200})


@pytest.mark.parametrize("name", sorted(RESERVED_CLAIMS))
def test_every_reserved_claim_is_refused(name):
    with pytest.raises(InvalidClaims, match=f"{name} is a reserved"):
        parse_claims({name: "x", "plan": "pro"})


def test_our_reserved_names_and_limit_are_the_admin_sdks():
    # The pinned SDK refuses these too; if an upgrade changes its list, this says so.
    assert set(_auth_utils.RESERVED_CLAIMS) == RESERVED_CLAIMS
    assert _auth_utils.MAX_CLAIMS_PAYLOAD_SIZE == MAX_CLAIMS_BYTES


def test_a_valid_object_passes_unchanged():
    assert parse_claims('{"plan": "pro", "roles": ["a", "b"]}') == {
        "plan": "pro",
        "roles": ["a", "b"],
    }
    assert parse_claims({}) == {}


def nested(depth: int, inner: str = "1") -> str:
    """JSON text of ``depth`` objects, one inside the other."""
    return '{"a": ' * depth + inner + "}" * depth


def test_claims_nest_at_most_the_limit():
    assert parse_claims(nested(MAX_CLAIMS_DEPTH)) == json.loads(nested(MAX_CLAIMS_DEPTH))
    deeper = json.loads(nested(MAX_CLAIMS_DEPTH + 1))
    for value in (nested(MAX_CLAIMS_DEPTH + 1), deeper):
        with pytest.raises(InvalidClaims, match=f"at most {MAX_CLAIMS_DEPTH} levels"):
            parse_claims(value)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_claims_deeper_than_python_can_recurse_are_refused_not_crashed(depth):
    # json.loads and json.dumps both raise RecursionError at about 1000 levels.
    with pytest.raises(InvalidClaims, match="at most"):
        parse_claims("[" * depth + "]" * depth)
    value: list = []
    for _ in range(depth):
        value = [value]
    with pytest.raises(InvalidClaims, match="at most"):
        parse_claims({"deep": value})


def test_brackets_inside_strings_do_not_count():
    text = '{"pattern": "[[[[[[[[{{{{{{{{\\\\\\"[[[["}'
    assert parse_claims(text) == {"pattern": '[[[[[[[[{{{{{{{{\\"[[[['}
