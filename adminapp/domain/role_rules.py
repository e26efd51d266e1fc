"""ROLE_RULES: which role the identity provider's word gives a staff member.

A rule looks at one thing a verified ID token carries, either a custom claim
on the staff account (set by the team's blocking function or directory
sync) or an attribute of a SAML sign-in (``firebase.sign_in_attributes``),
and names the role it gives. The rules are an ordered list and the **first
rule that matches wins**: the operator puts the most privileged group first.
(An order written down beats "the highest role wins", which would need an
order of roles that custom roles do not have.)

Storage-free, like the rest of ``domain``: the config parses the setting
with :func:`parse_role_rules`, the sign-in service asks :func:`first_match`.

A rule may give a built-in role or a custom role. Custom roles live in
Firestore, so start-up checks only that such a name could be one
(:func:`~.roles.valid_custom_name`); whether it exists is decided where
the roles are read with the admin document: a sign-in or bearer call whose
rule names a missing role is refused (services/access.py), and a custom role
that a rule names cannot be deleted (services/roles.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .roles import ROLES, is_built_in, valid_custom_name

# Where a rule looks: a custom claim at the token's top level, or a SAML
# attribute under firebase.sign_in_attributes.
CLAIM, ATTRIBUTE = "claim", "attribute"
# How it compares: the value is exactly this, or (a list) holds it.
EQUALS, CONTAINS = "equals", "contains"
# Claims Firebase itself puts in an ID token, or refuses as custom claims:
# none of them is the directory's word about a person, so no rule may read
# one (a rule on email_verified or on firebase would be a mistake, not a policy).
RESERVED_CLAIMS = frozenset(
    {
        "acr", "amr", "at_hash", "aud", "auth_time", "azp", "cnf", "c_hash", "exp",
        "iat", "iss", "jti", "nbf", "nonce", "sub", "uid", "user_id", "firebase",
        "email", "email_verified", "phone_number", "name", "picture", "provider_id",
    }
)  # fmt: skip
# A bound on the work of each token verification (and on a typo's reach).
MAX_RULES = 50
MAX_TEXT = 256


class RuleError(ValueError):
    """ROLE_RULES cannot be used as written; the message says why."""


@dataclass(frozen=True)
class RoleRule:
    """One rule: ``source`` (claim or attribute) ``name`` ``test`` (equals or
    contains) ``value`` gives ``role``. ``position`` is its place in the
    list, from 1, as the audit trail names it."""

    position: int
    source: str
    name: str
    test: str
    value: str | bool
    role: str

    def matches(self, claims: Mapping, attributes: Mapping) -> bool:
        found = (claims if self.source == CLAIM else attributes).get(self.name)
        if self.test == EQUALS:
            return _same(found, self.value)
        # A SAML attribute with one value may arrive as a plain string: a set
        # of one. Never a substring: "not-admins" does not contain "admins".
        members = found if isinstance(found, list) else [found]
        return any(_same(member, self.value) for member in members)

    @property
    def gives_custom_role(self) -> bool:
        return not is_built_in(self.role)

    def describe(self) -> str:
        """The rule in one line, as the docs write it: ``#1 claim groups contains "x" -> owner``."""
        return (
            f"#{self.position} {self.source} {self.name} {self.test} "
            f"{json.dumps(self.value)} -> {self.role}"
        )


def _same(found: object, wanted: str | bool) -> bool:
    # Typed equality: the claim true is not the string "true", and 1 is not true.
    return type(found) is type(wanted) and found == wanted


def first_match(rules: Iterable[RoleRule], claims: Mapping, attributes: Mapping) -> RoleRule | None:
    """The first rule that the token's custom claims or SAML attributes
    match, or None."""
    return next((rule for rule in rules if rule.matches(claims, attributes)), None)


def parse_role_rules(raw: str) -> tuple[RoleRule, ...]:
    """Read ROLE_RULES: a JSON list of objects such as
    ``{"claim": "groups", "contains": "it-admins", "role": "owner"}`` or
    ``{"attribute": "department", "equals": "support", "role": "viewer"}``.
    Refuses, with a message naming the rule, anything it cannot read one
    way only: an unknown key, a role that is neither built in nor a
    possible custom role's name, both or neither of claim and
    attribute, of equals and contains, a reserved claim, an empty name or
    value, and a condition repeated (a later copy could never match)."""
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        raise RuleError("is not JSON (a list of rules).") from None
    if not isinstance(items, list):
        raise RuleError("must be a JSON list of rules, first match wins.")
    if len(items) > MAX_RULES:
        raise RuleError(f"has {len(items)} rules; at most {MAX_RULES}.")
    rules = tuple(_rule(position, item) for position, item in enumerate(items, start=1))
    seen: dict[tuple, RoleRule] = {}
    for rule in rules:
        condition = (rule.source, rule.name, rule.test, type(rule.value), rule.value)
        if condition in seen:
            raise RuleError(
                f"rule #{rule.position} repeats the condition of rule "
                f"#{seen[condition].position}; the first match wins, so it could never apply."
            )
        seen[condition] = rule
    return rules


def _rule(position: int, item: object) -> RoleRule:
    where = f"rule #{position}"
    if not isinstance(item, dict):
        raise RuleError(
            f'{where} is not an object such as {{"claim": …, "contains": …, "role": …}}.'
        )
    unknown = sorted(set(item) - {CLAIM, ATTRIBUTE, EQUALS, CONTAINS, "role"})
    if unknown:
        raise RuleError(f"{where} has unknown keys: {', '.join(unknown)}.")
    source = _one_of(item, (CLAIM, ATTRIBUTE), where)
    test = _one_of(item, (EQUALS, CONTAINS), where)
    name, value, role = item[source], item[test], item.get("role")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_TEXT:
        raise RuleError(f"{where}: {source} must be a non-empty name.")
    if source == CLAIM and name in RESERVED_CLAIMS:
        raise RuleError(
            f"{where}: {name!r} is set by Firebase, not a custom claim; rules read custom claims."
        )
    if isinstance(value, str):
        if not value or len(value) > MAX_TEXT:
            raise RuleError(f"{where}: {test} must be a non-empty text.")
    elif not (isinstance(value, bool) and test == EQUALS):
        raise RuleError(f"{where}: {test} must be a text (or, for equals, true or false).")
    if not (isinstance(role, str) and (is_built_in(role) or valid_custom_name(role))):
        raise RuleError(
            f"{where}: role must be one of {', '.join(ROLES)} or a custom role's name "
            f"(2 to 32 lower-case letters, digits and hyphens, starting with a letter), "
            f"not {role!r}."
        )
    return RoleRule(position, source, name, test, value, role)


def _one_of(item: dict, keys: tuple[str, str], where: str) -> str:
    present = [key for key in keys if key in item]
    if len(present) != 1:
        raise RuleError(f"{where} needs exactly one of {' and '.join(keys)}.")
    return present[0]
