"""Product pages behind the gate: how a blueprint joins the admin area.

A product lists its blueprints in the ``ADMINAPP_BLUEPRINTS`` setting
(``package.module:attribute``, comma-separated; the attribute is a
:class:`~flask.Blueprint` or a sequence of them). ``create_app`` imports and
mounts them after its own, so the stock ``wsgi.py`` and ``flask`` command
serve them: nothing of adminapp is forked or wrapped. The users console
(``adminapp.web.users``) is mounted the same way, unless ``USERS_CONSOLE``
is off.

A mounted blueprint gets everything the built-in pages get, because those
are app-wide: the guard (a view that declares no permission needs
``pages.undeclared``, which only owners hold), CSRF on forms, the security
headers, error pages and the base layout. What this module adds:

* the prefix check: routes live under ``/admin/<prefix>`` and may not shadow
  a route that is already there (``/admin/login``, ``/admin/api/me``, …);
* the navigation entry (:class:`AdminBlueprint` ``nav``), shown in the base
  layout only to admins who may open its page: the permission is the one the
  page's view declares, so the link and the guard cannot disagree;
* the product's permissions (``permissions``): they join the app's, and
  each built-in role holds those whose least role it reaches;
* the product's audit events (``events``): the trail records and filters
  only declared events.

Anything wrong stops the app at start-up with a :class:`ConfigError` naming
the setting.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Blueprint, Flask, g

from ..config import ConfigError, Settings
from ..domain.audit import AuditEvents
from ..domain.permissions import Permission
from .api import protect_api
from .guard import needed_permission
from .permissions import PERMISSIONS_KEY, may

SETTING = "ADMINAPP_BLUEPRINTS"
USERS_CONSOLE = "adminapp.web.users:blueprints"
NAV_KEY = "adminapp.nav"
_PREFIX = re.compile(r"^/admin(/[a-z0-9][a-z0-9_-]*)+$")
# Audit event names: what the trail's filter and the JSON API accept.
_EVENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class NavEntry:
    """A link in the top navigation: ``label`` opens ``endpoint``."""

    label: str
    endpoint: str  # the full endpoint, "notes.index"
    blueprint: str


class AdminBlueprint(Blueprint):
    """A blueprint mounted at ``/admin/<prefix>``, with an optional navigation
    entry (``nav=("Label", "view_name")``), the audit ``events`` it records
    and the ``permissions`` its routes declare.

    ``api=True`` makes it part of the JSON API instead: put it under
    ``prefix="api/<name>"``; it then gets what ``/admin/api`` gets (bearer
    tokens, their rate limit, CSRF only on cookie-authenticated writes).
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        prefix: str,
        nav: tuple[str, str] | None = None,
        events: Iterable[str] = (),
        permissions: Iterable[Permission] = (),
        api: bool = False,
        **kwargs,
    ):
        super().__init__(name, import_name, url_prefix=f"/admin/{prefix.strip('/')}", **kwargs)
        self.admin_nav = NavEntry(nav[0], f"{name}.{nav[1]}", name) if nav else None
        self.admin_events = tuple(events)
        self.admin_permissions = tuple(permissions)
        if api:
            protect_api(self)


def mount_products(app: Flask, settings: Settings, audit_events: AuditEvents) -> None:
    """Import and register the configured blueprints (see the module docstring)."""
    paths = ([USERS_CONSOLE] if settings.users_console else []) + list(settings.product_blueprints)
    entries: list[NavEntry] = []
    for path in paths:
        for blueprint in _load(path):
            _check_prefix(app, blueprint, path)
            events = tuple(getattr(blueprint, "admin_events", ()))
            for event in events:
                if not _EVENT.match(event):
                    raise ConfigError(f"{SETTING}: {path} declares a bad audit event {event!r}.")
            app.register_blueprint(blueprint)
            audit_events.declare(events)
            try:
                app.extensions[PERMISSIONS_KEY].declare(getattr(blueprint, "admin_permissions", ()))
            except (TypeError, ValueError) as error:
                raise ConfigError(f"{SETTING}: {path}: {error}.") from None
            nav = getattr(blueprint, "admin_nav", None)
            if nav is not None:
                if nav.endpoint not in app.view_functions:
                    raise ConfigError(
                        f"{SETTING}: {path}'s navigation names no view {nav.endpoint}."
                    )
                entries.append(nav)
    app.extensions[NAV_KEY] = tuple(entries)

    @app.context_processor
    def navigation():
        return {"product_nav": lambda: visible_entries(app)}


def visible_entries(app: Flask) -> list[NavEntry]:
    """The product links the signed-in admin may follow: the permission a
    link needs is the one its view declares to the guard."""
    if g.get("admin") is None:
        return []
    entries = []
    for entry in app.extensions.get(NAV_KEY, ()):
        needed = needed_permission(app.view_functions[entry.endpoint])
        if needed is None or may(needed):
            entries.append(entry)
    return entries


def _load(path: str) -> list[Blueprint]:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{SETTING}: cannot import {module_name!r} ({error}).") from None
    found = getattr(module, attribute, None)
    blueprints = [found] if isinstance(found, Blueprint) else list(found or ())
    if not blueprints or not all(isinstance(item, Blueprint) for item in blueprints):
        raise ConfigError(f"{SETTING}: {path} is not a Flask Blueprint or a list of them.")
    return blueprints


def _check_prefix(app: Flask, blueprint: Blueprint, path: str) -> None:
    prefix = (blueprint.url_prefix or "").rstrip("/")
    if not _PREFIX.match(prefix):
        raise ConfigError(
            f"{SETTING}: {path} must live under /admin/<prefix> (its url_prefix is {prefix!r})."
        )
    for rule in app.url_map.iter_rules():
        if rule.rule == prefix or rule.rule.startswith(prefix + "/"):
            raise ConfigError(f"{SETTING}: {path}'s prefix {prefix} is already taken by {rule}.")
