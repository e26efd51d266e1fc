"""Product pages behind the gate: how a blueprint joins the admin area.

A product's blueprints are found two ways: an installed package names them
in the ``adminapp.products`` entry point group (its pyproject.toml, read
with :mod:`importlib.metadata`), and a deployment may also list them in the
``ADMINAPP_BLUEPRINTS`` setting (``package.module:attribute``,
comma-separated). Either names a :class:`~flask.Blueprint` or a sequence of
them. ``create_app`` imports and mounts them after its own, so the stock
``wsgi.py`` and ``flask`` command serve them: nothing of adminapp is forked
or wrapped. The users console (``adminapp.web.users``) is mounted the same
way, unless ``USERS_CONSOLE`` is off.

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
  only declared events;
* the product's translation catalogs (``translations``, a folder beside its
  code like ``template_folder``): read with adminapp's, whose own strings
  keep their wording;
* the product's services (``services``, a factory given adminapp's
  :class:`~adminapp.services.Services`): built once when the app is
  created, and reached in a view with :meth:`AdminBlueprint.service`.

Anything wrong stops the app at start-up with a :class:`ConfigError` naming
the setting.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, g

from ..catalogs import compiled_directory
from ..config import ConfigError, Settings
from ..domain.audit import AuditEvents
from ..domain.permissions import Permission
from .api import protect_api
from .guard import needed_permission
from .permissions import PERMISSIONS_KEY, may

SETTING = "ADMINAPP_BLUEPRINTS"
ENTRY_POINTS = "adminapp.products"
SERVICES_KEY = "adminapp.product_services"
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

    ``translations`` names the product's catalogs folder
    (``<folder>/<locale>/LC_MESSAGES/messages.po``, beside its code), and
    ``services`` a factory called once per app, at start-up, with adminapp's
    services; what it returns is :meth:`service`.
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
        translations: str | None = None,
        services: Callable[[Any], Any] | None = None,
        **kwargs,
    ):
        super().__init__(name, import_name, url_prefix=f"/admin/{prefix.strip('/')}", **kwargs)
        self.admin_nav = NavEntry(nav[0], f"{name}.{nav[1]}", name) if nav else None
        self.admin_events = tuple(events)
        self.admin_permissions = tuple(permissions)
        self.admin_translations = (
            Path(self.root_path) / translations if translations is not None else None
        )
        self.admin_services = services
        if api:
            protect_api(self)

    def service(self) -> Any:
        """What this blueprint's ``services`` factory built for the current
        app (once, when the app was created)."""
        return current_app.extensions[SERVICES_KEY][self.name]


def mount_products(app: Flask, settings: Settings, services: Any) -> None:
    """Import and register the configured blueprints (see the module docstring)."""
    entries: list[NavEntry] = []
    built: dict[str, Any] = {}
    catalogs: list[str] = []
    mounted: set[int] = set()
    for path, blueprint in _configured(settings):
        if id(blueprint) in mounted:  # named by its entry point and the setting
            continue
        mounted.add(id(blueprint))
        _register(app, blueprint, path, services.audit_events)
        nav = getattr(blueprint, "admin_nav", None)
        if nav is not None:
            if nav.endpoint not in app.view_functions:
                raise ConfigError(f"{SETTING}: {path}'s navigation names no view {nav.endpoint}.")
            entries.append(nav)
        folder = getattr(blueprint, "admin_translations", None)
        if folder is not None:
            if not folder.is_dir():
                raise ConfigError(f"{SETTING}: {path}'s translations {folder} do not exist.")
            catalogs.append(str(compiled_directory(folder)))
        factory = getattr(blueprint, "admin_services", None)
        if factory is not None:
            built[blueprint.name] = factory(services)
    app.extensions[NAV_KEY] = tuple(entries)
    app.extensions[SERVICES_KEY] = built
    # Flask-Babel merges the catalogs in order, a later one winning: the
    # products' first, adminapp's last, so a product cannot reword adminapp.
    app.extensions["babel"].translation_directories[:0] = catalogs

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


def _register(app: Flask, blueprint: Blueprint, path: str, audit_events: AuditEvents) -> None:
    """Mount ``blueprint`` with its audit events and permissions declared."""
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


def _configured(settings: Settings) -> Iterator[tuple[str, Blueprint]]:
    """Each blueprint to mount, with where it was named: the users console,
    the installed products' entry points, then ``ADMINAPP_BLUEPRINTS``."""
    if settings.users_console:
        for blueprint in _load(USERS_CONSOLE):
            yield USERS_CONSOLE, blueprint
    for entry_point in sorted(entry_points(group=ENTRY_POINTS), key=lambda point: point.name):
        where = f"entry point {entry_point.name} = {entry_point.value} ({ENTRY_POINTS})"
        try:
            found = entry_point.load()
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"{SETTING}: cannot load the {where} ({error}).") from None
        for blueprint in _blueprints(found, where):
            yield where, blueprint
    for path in settings.product_blueprints:
        for blueprint in _load(path):
            yield path, blueprint


def _load(path: str) -> list[Blueprint]:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{SETTING}: cannot import {module_name!r} ({error}).") from None
    return _blueprints(getattr(module, attribute, None), path)


def _blueprints(found: object, path: str) -> list[Blueprint]:
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
