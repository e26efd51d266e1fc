"""Werkzeug's URL builders, compiled once per route in a test process.

Every test makes an app of its own, and each app binds its routes. For each
route Werkzeug writes two URL-building functions as Python and compiles
them: more than half of ``create_app``'s CPU, measured (docs/testing.md),
paid again by every test that makes an app. A builder is made from the
rule's text, its parsed parts and whether it appends unknown arguments, and
it reads the converters of the rule it is bound to only when it is called;
so rules that agree on those three can share one compiled function, each
bound to its own rule. Rules with defaults keep builders of their own: a
default is converted by that rule's converter into the builder's code.

``Rule._compile_builder`` is Werkzeug's own, not a public API. The pinned
Werkzeug is the one this was written against, and
``tests/unit/test_shared_url_builders.py`` fails if a new one builds any
route's URL otherwise.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from werkzeug.routing.rules import Rule

_lock = threading.Lock()


def share_url_builders() -> None:
    """Have every rule made from now on in this process share the builders
    of equal rules made before it. Once per process; later calls do nothing."""
    with _lock:
        if hasattr(Rule._compile_builder, "__wrapped__"):
            return
        compile_builder = Rule._compile_builder
        builders: dict[tuple, Callable] = {}

        @functools.wraps(compile_builder)
        def shared(rule: Rule, append_unknown: bool = True) -> Callable:
            if rule.defaults:
                return compile_builder(rule, append_unknown)
            key = (rule.rule, tuple(rule._trace), append_unknown)
            builder = builders.get(key)
            if builder is None:
                builder = builders[key] = compile_builder(rule, append_unknown)
            return builder

        Rule._compile_builder = shared
