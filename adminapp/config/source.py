"""Typed reading of raw settings, with errors that name the setting.

A :class:`Source` holds the raw values (the environment, with overrides on
top) and each declared setting's default, so that an empty value means the
default everywhere, and a name nobody declared cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import limits

from ..timezones import valid_zone

# The longest span a minutes setting may have: 30 days.
MAX_MINUTES = 60 * 24 * 30


class ConfigError(Exception):
    """A setting is missing, malformed or unsafe; the app must not start."""


# How one setting is read: (source, its name) -> its value. Errors name it.
Reader = Callable[["Source", str], Any]


def required_message(name: str) -> str:
    return f"{name} is required but not set. See .env.example."


class Source:
    """Typed access to raw settings, with errors that name the setting.

    ``defaults`` maps every declared name to its default as written in the
    environment ("" for none): an empty or blank value reads as the default.
    """

    def __init__(self, values: Mapping[str, str], defaults: Mapping[str, str]):
        self._values = values
        self._defaults = defaults

    def without_values(self) -> Source:
        """The same declarations with nothing set: every setting's default."""
        return Source({}, self._defaults)

    def text(self, name: str) -> str:
        if name not in self._defaults:
            # A programming error, not a configuration one: every setting
            # is declared in adminapp/config/declared.py.
            raise LookupError(f"{name} is not a declared setting (adminapp/config/declared.py).")
        return (self._values.get(name) or "").strip() or self._defaults[name]

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise ConfigError(required_message(name))
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in allowed:
            raise ConfigError(f"{name}={value!r} is not one of: {', '.join(allowed)}.")
        return value

    def flag(self, name: str) -> bool:
        value = self.text(name).lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={value!r} is not a boolean (use true or false).")

    def number(self, name: str, *, low: float, high: float) -> float | None:
        """None when unset and without a default (a rule then decides)."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a number.") from None
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw} is out of range ({low:g} to {high:g}).")
        return value

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.number(name, low=low, high=high)
        if value is None:
            return None
        if value != int(value):
            raise ConfigError(f"{name}={self.text(name)!r} is not a whole number.")
        return int(value)

    def minutes(self, name: str) -> timedelta:
        return timedelta(minutes=self.number(name, low=1, high=MAX_MINUTES))

    def rate_limit(self, name: str) -> str:
        value = self.text(name)
        try:
            limits.parse_many(value)
        except ValueError:
            raise ConfigError(
                f"{name}={value!r} is not a rate limit such as '5 per hour'."
            ) from None
        return value

    def timezone(self, name: str) -> str:
        value = self.text(name)
        if valid_zone(value) is None:
            raise ConfigError(
                f"{name}={value!r} is not an IANA time zone such as Asia/Seoul or UTC."
            )
        return value

    def list(self, name: str) -> list[str]:
        """Comma-separated items; none (",", blanks) reads as the default's."""
        return _items(self.text(name)) or _items(self._defaults[name])

    def url(self, name: str) -> str:
        value = self.text(name)
        if not value:
            return ""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(
                f"{name}={value!r} must be an absolute http(s) URL such as "
                "https://admin.example.com"
            )
        return value.rstrip("/")


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


# -- readers for declarations: Source's methods, with their bounds bound --


def one_of(*allowed: str) -> Reader:
    return lambda source, name: source.choice(name, allowed)


def optional_choice(*allowed: str) -> Reader:
    """One of ``allowed``, or "" (unset) for a rule to complete."""

    def read(source: Source, name: str) -> str:
        return source.choice(name, allowed) if source.text(name) else ""

    return read


def days(low: int, high: int) -> Reader:
    return lambda source, name: timedelta(days=source.integer(name, low=low, high=high))


def number(low: float, high: float) -> Reader:
    return lambda source, name: source.number(name, low=low, high=high)


def whole_number(low: int, high: int) -> Reader:
    return lambda source, name: source.integer(name, low=low, high=high)


def minutes_between(low: int, high: int) -> Reader:
    return lambda source, name: timedelta(minutes=source.integer(name, low=low, high=high))


def seconds(low: float, high: float) -> Reader:
    return lambda source, name: timedelta(seconds=source.number(name, low=low, high=high))
