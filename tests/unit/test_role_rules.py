"""ROLE_RULES: read and refused at start-up with an error that names the
setting and the rule; matched first-rule-wins, by typed equality, never by
substring."""

from __future__ import annotations

import json

import pytest

from adminapp.config import load_settings
from adminapp.domain.role_rules import RoleRule, first_match, parse_role_rules
from tests.support.settings import development, refusal

RULES = [
    {"claim": "groups", "contains": "it-admins", "role": "owner"},
    {"attribute": "department", "equals": "support", "role": "viewer"},
    {"claim": "groups", "contains": "support", "role": "admin"},
    {"claim": "staff", "equals": True, "role": "viewer"},
]


def rules_setting(rules) -> dict[str, str]:
    return development(ROLE_RULES=json.dumps(rules))


def test_unset_means_no_rules():
    assert load_settings(development()).role_rules == ()


def test_rules_are_read_in_order_with_their_positions():
    rules = load_settings(rules_setting(RULES)).role_rules
    assert [(r.position, r.source, r.name, r.test, r.value, r.role) for r in rules] == [
        (1, "claim", "groups", "contains", "it-admins", "owner"),
        (2, "attribute", "department", "equals", "support", "viewer"),
        (3, "claim", "groups", "contains", "support", "admin"),
        (4, "claim", "staff", "equals", True, "viewer"),
    ]
    assert rules[0].describe() == '#1 claim groups contains "it-admins" -> owner'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "ROLE_RULES is not JSON"),
        ('{"claim": "groups"}', "ROLE_RULES must be a JSON list"),
        ('["groups"]', "ROLE_RULES rule #1 is not an object"),
        (
            json.dumps([{"claim": "groups", "contains": "x", "role": "Support Team"}]),
            "ROLE_RULES rule #1: role must be one of viewer, admin, owner or a custom role's "
            "name (2 to 32 lower-case letters, digits and hyphens, starting with a letter), "
            "not 'Support Team'",
        ),
        (
            json.dumps([{"claim": "groups", "contains": "x", "role": "Owner"}]),
            "ROLE_RULES rule #1: role must be one of viewer, admin, owner or a custom role's",
        ),
        (
            json.dumps([{"claim": "groups", "contains": "x", "role": 1}]),
            "ROLE_RULES rule #1: role must be one of viewer, admin, owner or a custom role's",
        ),
        (
            json.dumps([{"claim": "groups", "contains": "x"}]),
            "ROLE_RULES rule #1: role must be one of viewer, admin, owner or a custom role's",
        ),
        (
            json.dumps([{"claim": "groups", "contains": "x", "role": "owner", "when": 1}]),
            "ROLE_RULES rule #1 has unknown keys: when",
        ),
        (
            json.dumps([{"claim": "g", "attribute": "g", "contains": "x", "role": "owner"}]),
            "ROLE_RULES rule #1 needs exactly one of claim and attribute",
        ),
        (
            json.dumps([{"claim": "g", "equals": "x", "contains": "x", "role": "owner"}]),
            "ROLE_RULES rule #1 needs exactly one of equals and contains",
        ),
        (
            json.dumps([{"claim": "g", "role": "owner"}]),
            "ROLE_RULES rule #1 needs exactly one of equals and contains",
        ),
        (
            json.dumps([{"claim": "email_verified", "equals": True, "role": "owner"}]),
            "'email_verified' is set by Firebase, not a custom claim",
        ),
        (
            json.dumps([{"claim": "firebase", "equals": "x", "role": "owner"}]),
            "'firebase' is set by Firebase",
        ),
        (
            json.dumps([{"claim": " ", "equals": "x", "role": "owner"}]),
            "rule #1: claim must be a non-empty name",
        ),
        (
            json.dumps([{"claim": "g", "contains": "", "role": "owner"}]),
            "rule #1: contains must be a non-empty text",
        ),
        (
            json.dumps([{"claim": "g", "contains": True, "role": "owner"}]),
            "rule #1: contains must be a text",
        ),
        (
            json.dumps([{"claim": "g", "equals": 1, "role": "owner"}]),
            "rule #1: equals must be a text (or, for equals, true or false)",
        ),
        (
            json.dumps(
                [
                    {"claim": "groups", "contains": "ops", "role": "owner"},
                    {"claim": "groups", "contains": "ops", "role": "viewer"},
                ]
            ),
            "rule #2 repeats the condition of rule #1",
        ),
        (
            json.dumps([{"claim": "g", "equals": f"v{n}", "role": "admin"} for n in range(51)]),
            "has 51 rules; at most 50",
        ),
    ],
)
def test_malformed_unknown_and_ambiguous_rules_stop_start_up(value, message):
    assert message in refusal(development(ROLE_RULES=value))


def test_a_rule_role_outside_the_second_factor_roles_stops_start_up():
    config = rules_setting(RULES) | {"MFA_REQUIRED_ROLES": "admin,owner"}
    message = refusal(config)
    assert "ROLE_RULES rule #2 gives the role 'viewer'" in message
    assert "MFA_REQUIRED_ROLES" in message


def test_a_rule_may_name_a_custom_role_which_start_up_checks_by_name_only():
    rules = [{"claim": "groups", "contains": "support-staff", "role": "support"}]
    [rule] = load_settings(rules_setting(rules)).role_rules
    assert (rule.role, rule.gives_custom_role) == ("support", True)
    assert not parse_role_rules(json.dumps(RULES))[0].gives_custom_role
    # A custom role needs a second factor whenever any role does, so any
    # MFA_REQUIRED_ROLES but none will do; none stops start-up.
    assert load_settings(rules_setting(rules) | {"MFA_REQUIRED_ROLES": "owner"}).role_rules
    message = refusal(rules_setting(rules) | {"MFA_REQUIRED_ROLES": "none"})
    assert "ROLE_RULES rule #1 gives the custom role 'support'" in message
    assert "MFA_REQUIRED_ROLES=none" in message


def match(claims=None, attributes=None) -> RoleRule | None:
    return first_match(parse_role_rules(json.dumps(RULES)), claims or {}, attributes or {})


def test_the_first_matching_rule_wins_even_over_a_higher_role_later():
    rules = [
        {"claim": "groups", "contains": "support", "role": "viewer"},
        {"claim": "groups", "contains": "it-admins", "role": "owner"},
    ]
    found = first_match(
        parse_role_rules(json.dumps(rules)), {"groups": ["it-admins", "support"]}, {}
    )
    assert (found.position, found.role) == (1, "viewer")


def test_contains_is_membership_never_a_substring():
    assert match({"groups": ["support", "it-admins"]}).role == "owner"
    assert match({"groups": ["not-it-admins"]}) is None
    assert match({"groups": "it-admins-old"}) is None
    # A single value (a SAML attribute with one value, a claim as a string)
    # is a set of one.
    assert match({"groups": "it-admins"}).role == "owner"


def test_equals_is_typed_and_exact():
    assert match({"staff": True}).role == "viewer"
    assert match({"staff": "true"}) is None
    assert match({"staff": 1}) is None
    assert match(attributes={"department": "support"}).position == 2
    assert match(attributes={"department": ["support"]}) is None
    assert match(attributes={"department": "Support"}) is None


def test_claims_and_attributes_are_not_interchangeable():
    # "department" is an attribute rule: a custom claim of that name does not match it.
    assert match({"department": "support"}) is None
    # "groups" is a claim rule: a SAML attribute of that name does not match it.
    assert match(attributes={"groups": ["it-admins"]}) is None
