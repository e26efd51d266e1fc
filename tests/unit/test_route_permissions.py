"""Every route says who may use it, once: one permission, or public, or
self-service with a reason (adminapp/web/guard.py). Checked on the app with
the users console and the example product, without emulators."""

from __future__ import annotations

import pytest

from adminapp import ConfigError, create_app
from adminapp.domain.permissions import USERS_DELETE, USERS_READ, Permission
from adminapp.web.guard import SelfService, permission_required, self_service
from adminapp.web.permissions import PERMISSIONS_KEY
from adminapp.web.products import AdminBlueprint
from adminapp.web.step_up import StepUp, classification, step_up_exempt
from tests.support.settings import development


@pytest.fixture(scope="module")
def app():
    return create_app(development(ADMINAPP_BLUEPRINTS="adminapp_notes:bp"))


def guarded_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and rule.endpoint != "static":
            yield rule.endpoint, app.view_functions[rule.endpoint]


def test_every_route_is_classified_by_exactly_one_permission_or_is_public_or_self_service(app):
    declared = app.extensions[PERMISSIONS_KEY]
    for endpoint, view in guarded_routes(app):
        access = getattr(view, "access", None)
        is_public = getattr(view, "public", False)
        assert is_public != (access is not None), f"{endpoint}: public, or one access declaration"
        if isinstance(access, SelfService):
            assert access.reason.strip(), endpoint
        elif access is not None:
            assert isinstance(access, Permission) and access in declared, endpoint


def test_a_route_declares_its_access_once():
    with pytest.raises(ValueError, match="twice"):

        @permission_required(USERS_READ)
        @self_service("its own things")
        def view(): ...

    with pytest.raises(TypeError):
        permission_required("users.read")
    with pytest.raises(ValueError):
        self_service("  ")


def test_a_write_takes_its_step_up_from_its_permission(app):
    remove = app.view_functions["console.remove_admin"]
    assert classification(remove, "POST").kind is StepUp.REQUIRED
    # The confirmation page of the same permission asks nothing: a read.
    assert classification(app.view_functions["console.confirm_remove_admin"], "GET") is None
    # A route's own service rule takes precedence over its permission's.
    delete = app.view_functions["users.delete"]
    assert USERS_DELETE.step_up and classification(delete, "POST").kind is StepUp.BY_RULE


def test_templates_ask_can_and_a_typo_fails_loudly(app):
    with app.test_request_context("/admin/"):
        from flask import g

        can = app.jinja_env.globals["can"]
        assert not can("users.read")  # nobody signed in
        g.permissions = app.extensions[PERMISSIONS_KEY].of_role("admin")
        assert can("users.disable") and can("notes.write") and not can("users.delete")
        with pytest.raises(KeyError):
            can("users.delet")


undeclared = AdminBlueprint("undeclared", __name__, prefix="undeclared")
exempting = AdminBlueprint("exempting", __name__, prefix="exempting")
PRIVATE = Permission("vault.open", "Open the vault", "admin")
CHANGED = Permission("users.read", "Something else", "owner")


@undeclared.get("/")
@permission_required(PRIVATE)
def undeclared_page():
    return "never"


@exempting.post("/")
@permission_required(USERS_DELETE)
@step_up_exempt("it says so")
def exempting_write():
    return "never"


clashing = AdminBlueprint("clashing", __name__, prefix="clashing", permissions=(CHANGED,))


@pytest.mark.parametrize(
    ("blueprint", "refusal"),
    [
        ("undeclared", "undeclared.undeclared_page needs vault.open"),
        ("exempting", "exempting.exempting_write (POST /admin/exempting/) exempts users.delete"),
        ("clashing", "users.read is declared twice"),
    ],
)
def test_the_app_refuses_to_start_with_a_route_it_cannot_enforce(blueprint, refusal):
    path = f"tests.unit.test_route_permissions:{blueprint}"
    with pytest.raises(ConfigError, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        create_app(development(ADMINAPP_BLUEPRINTS=path))
