"""The tests' apps share Werkzeug's compiled URL builders
(adminapp/testing/url_builders.py): every route of a real app builds the URL
Werkzeug's own builder would, the next app reuses the functions instead of
compiling them again, and a rule with defaults keeps builders of its own."""

from __future__ import annotations

import pytest
from werkzeug.routing import Map
from werkzeug.routing.converters import AnyConverter, NumberConverter
from werkzeug.routing.rules import Rule

from adminapp import create_app
from adminapp.testing.url_builders import share_url_builders
from tests.support.settings import development


@pytest.fixture(scope="module")
def apps():
    share_url_builders()
    config = development(ADMINAPP_BLUEPRINTS="adminapp_notes:bp")
    first, second = create_app(config), create_app(config)
    yield first, second
    for app in (first, second):
        app.extensions["adminapp"].close()


def _sample(rule: Rule, name: str, n: int):
    """A value each converter takes: one of an ``any()``'s words, a number,
    else text with a slash and a non-ASCII letter to quote."""
    converter = rule._converters[name]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, NumberConverter):
        return 7
    return f"v{n}/é"


def _werkzeugs_own(rule: Rule, append_unknown: bool):
    return Rule._compile_builder.__wrapped__(rule, append_unknown).__get__(rule, None)


def test_every_route_builds_the_url_werkzeug_itself_would(apps):
    app, _ = apps
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50  # the whole app, products included
    for rule in rules:
        values = {name: _sample(rule, name, n) for n, name in enumerate(sorted(rule.arguments))}
        assert rule._build(**values) == _werkzeugs_own(rule, False)(**values), rule.rule
        unknown = {**values, "next": "/admin/?a=1"}
        assert rule._build_unknown(**unknown) == _werkzeugs_own(rule, True)(**unknown), rule.rule
    with app.test_request_context():
        from flask import url_for

        assert url_for("users.show", uid="é c") == "/admin/users/%C3%A9%20c"


def test_the_next_app_reuses_the_builders_instead_of_compiling_them(apps):
    first, second = apps
    theirs = {rule.endpoint: rule for rule in second.url_map.iter_rules()}
    for rule in first.url_map.iter_rules():
        if rule.defaults:
            continue
        other = theirs[rule.endpoint]
        assert other is not rule
        assert other._build.__func__ is rule._build.__func__
        assert other._build_unknown.__func__ is rule._build_unknown.__func__


def test_rules_with_defaults_or_other_converters_keep_builders_of_their_own():
    share_url_builders()
    with_defaults = [Rule("/page/<int:n>", defaults={"n": 1}, endpoint="p") for _ in range(2)]
    Map(with_defaults)
    assert with_defaults[0]._build.__func__ is not with_defaults[1]._build.__func__

    by_name, by_number = Rule("/item/<n>", endpoint="a"), Rule("/item/<int:n>", endpoint="b")
    Map([by_name, by_number])
    assert by_name._build.__func__ is not by_number._build.__func__
    assert by_number._build(n=7) == ("", "/item/7")
