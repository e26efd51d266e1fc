"""Marking strings for translation where Flask is not available.

Services, stores and mail compose messages for people without importing
Flask. ``N_`` returns its argument unchanged; its only job is to let
``pybabel extract`` (see babel.cfg) find the English message, which the web
layer translates when it renders the refusal (``Refused.translated``).
A message that is not a refusal (a warning beside a success) is a
:class:`Message`: the same template and params, translated the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class Message:
    """An English ``template`` marked with ``N_``, with ``%(name)s`` filled
    from ``params``; a param may be a Message itself. ``str()`` is the
    English text (the CLI, logs); the web layer shows ``translated(gettext)``."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def translated(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.template)
        if not self.params:
            return text
        return text % {
            name: value.translated(gettext) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }

    def __str__(self) -> str:
        return self.translated(lambda text: text)
