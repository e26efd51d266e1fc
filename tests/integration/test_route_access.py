"""Who may reach every route under /admin: a table, checked for real.

Adding a route without adding it here fails
``test_every_admin_route_is_in_the_table``, so no route can skip review. The
app here mounts the example product blueprint (examples/notes) next to the
users console, so routes that products add are walked like the built-in ones.
"""

from __future__ import annotations

import pytest

from adminapp.domain.roles import ROLES
from adminapp.testing.firebase import FirebaseUser
from adminapp.web.guard import SelfService
from adminapp.web.permissions import PERMISSIONS_KEY
from adminapp.web.step_up import StepUp, classification
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, exchange, open_session

PUBLIC, SELF = "public", "self-service"
# (endpoint, method) -> (what the route declares, the least role that reaches it).
# The first column is its permission (adminapp/domain/permissions.py, or a
# product's), SELF for a route every signed-in admin uses on their own things
# (guard.self_service), or PUBLIC. The second is the least built-in role
# allowed, as it was before permissions existed: the walk below lets in the
# roles that the declaration gives, and
# test_the_declared_permissions_give_the_least_roles_of_the_table holds the two
# columns equal, so the built-in roles behave as they did.
ACCESS = {
    ("auth.login", "GET"): (PUBLIC, PUBLIC),
    ("auth.open_session", "POST"): (PUBLIC, PUBLIC),
    ("auth.reset_request", "GET"): (PUBLIC, PUBLIC),
    ("auth.reset_request", "POST"): (PUBLIC, PUBLIC),
    ("auth.reset_confirm", "GET"): (PUBLIC, PUBLIC),
    ("auth.reset_confirm", "POST"): (PUBLIC, PUBLIC),
    ("auth.switch_language", "GET"): (PUBLIC, PUBLIC),
    ("auth.logout", "POST"): (SELF, "viewer"),
    ("console.dashboard", "GET"): (SELF, "viewer"),
    ("console.admins", "GET"): ("admins.read", "viewer"),
    ("console.invite_admin", "POST"): ("admins.invite", "owner"),
    ("console.change_role", "POST"): ("admins.role", "owner"),
    ("console.set_admin_status", "POST"): ("admins.disable", "owner"),
    ("console.confirm_remove_admin", "GET"): ("admins.remove", "owner"),
    ("console.remove_admin", "POST"): ("admins.remove", "owner"),
    ("console.reset_factors", "POST"): ("admins.factors.reset", "owner"),
    ("console.sessions", "GET"): (SELF, "viewer"),
    ("console.end_session", "POST"): (SELF, "viewer"),
    ("console.end_other_sessions", "POST"): (SELF, "viewer"),
    ("console.sign_out_everywhere", "POST"): (SELF, "viewer"),
    ("console.audit", "GET"): ("audit.read", "viewer"),
    ("console.audit_verify", "GET"): ("audit.verify", "owner"),
    ("console.audit_export_form", "GET"): ("audit.export", "owner"),
    ("console.audit_export", "POST"): ("audit.export", "owner"),
    ("console.audit_review", "GET"): ("audit.review", "owner"),
    ("console.mark_reviewed", "POST"): ("audit.review", "owner"),
    ("console.account", "GET"): (SELF, "viewer"),
    ("console.save_account", "POST"): (SELF, "viewer"),
    ("api.me", "GET"): (SELF, "viewer"),
    ("api.list_admins", "GET"): ("admins.read", "viewer"),
    ("api.invite_admin", "POST"): ("admins.invite", "owner"),
    ("api.update_admin", "PATCH"): ("admins.role", "owner"),
    ("api.remove_admin", "DELETE"): ("admins.remove", "owner"),
    ("api.reset_factors", "POST"): ("admins.factors.reset", "owner"),
    ("api.list_sessions", "GET"): (SELF, "viewer"),
    ("api.end_session", "DELETE"): (SELF, "viewer"),
    ("api.audit", "GET"): ("audit.read", "viewer"),
    ("api.audit_export", "POST"): ("audit.export", "owner"),
    # The users console (adminapp/web/users), mounted as a product blueprint.
    ("users.index", "GET"): ("users.read", "viewer"),
    ("users.show", "GET"): ("users.read", "viewer"),
    ("users.set_status", "POST"): ("users.disable", "admin"),
    ("users.revoke", "POST"): ("users.revoke", "admin"),
    ("users.verify_email", "POST"): ("users.verify", "admin"),
    ("users.send_reset", "POST"): ("users.reset", "admin"),
    ("users.set_claims", "POST"): ("users.claims", "owner"),
    ("users.confirm_delete", "GET"): ("users.delete", "owner"),
    ("users.delete", "POST"): ("users.delete", "owner"),
    ("users.export", "POST"): ("users.export", "owner"),
    ("users_api.list_users", "GET"): ("users.read", "viewer"),
    ("users_api.get_user", "GET"): ("users.read", "viewer"),
    ("users_api.set_status", "POST"): ("users.disable", "admin"),
    ("users_api.revoke", "POST"): ("users.revoke", "admin"),
    ("users_api.verify_email", "POST"): ("users.verify", "admin"),
    ("users_api.send_reset", "POST"): ("users.reset", "admin"),
    ("users_api.set_claims", "PUT"): ("users.claims", "owner"),
    ("users_api.delete_user", "DELETE"): ("users.delete", "owner"),
    ("users_api.export_users", "POST"): ("users.export", "owner"),
    # The example product blueprint (examples/notes), from ADMINAPP_BLUEPRINTS.
    ("notes.index", "GET"): ("notes.read", "viewer"),
    ("notes.add", "POST"): ("notes.write", "admin"),
    ("mfa.challenge", "GET"): (SELF, "viewer"),
    ("mfa.verify_totp", "POST"): (SELF, "viewer"),
    ("mfa.verify_recovery_code", "POST"): (SELF, "viewer"),
    ("mfa.enrol", "GET"): (SELF, "viewer"),
    ("mfa.confirm_totp", "POST"): (SELF, "viewer"),
    ("mfa.step_up", "GET"): (SELF, "viewer"),
    ("mfa.step_up_continue", "GET"): (SELF, "viewer"),
    # The admin's own security page (adminapp/web/security).
    ("security.index", "GET"): (SELF, "viewer"),
    ("security.rename_factor", "POST"): (SELF, "viewer"),
    ("security.remove_factor", "POST"): (SELF, "viewer"),
    ("security.regenerate_recovery_codes", "POST"): (SELF, "viewer"),
    ("security.new_totp", "GET"): (SELF, "viewer"),
    ("security.confirm_totp", "POST"): (SELF, "viewer"),
    ("mfa.passkey_registration_options", "POST"): (SELF, "viewer"),
    ("mfa.passkey_authentication_options", "POST"): (SELF, "viewer"),
    ("mfa.verify_passkey", "POST"): (SELF, "viewer"),
    ("mfa.enrol_passkey", "POST"): (SELF, "viewer"),
    ("mfa.new_passkey", "GET"): (SELF, "viewer"),
    ("mfa.add_passkey", "POST"): (SELF, "viewer"),
    # The per-admin lock on wrong codes, and Firebase's own second factors.
    ("console.unlock_admin", "POST"): ("admins.unlock", "owner"),
    ("api.unlock_admin", "POST"): ("admins.unlock", "owner"),
    ("api.list_firebase_factors", "GET"): ("admins.factors.trust", "owner"),
    ("api.trust_firebase_factor", "PUT"): ("admins.factors.trust", "owner"),
    ("api.distrust_firebase_factor", "DELETE"): ("admins.factors.trust", "owner"),
    ("security.trust_firebase_factor", "POST"): (SELF, "viewer"),
    ("security.distrust_firebase_factor", "POST"): (SELF, "viewer"),
    # The custom-role editor and its API (adminapp/web/console/roles.py, api/roles.py).
    ("console.roles", "GET"): ("roles.manage", "owner"),
    ("console.new_role", "GET"): ("roles.manage", "owner"),
    ("console.create_role", "POST"): ("roles.manage", "owner"),
    ("console.edit_role", "GET"): ("roles.manage", "owner"),
    ("console.update_role", "POST"): ("roles.manage", "owner"),
    ("console.delete_role", "POST"): ("roles.manage", "owner"),
    ("api.list_roles", "GET"): ("roles.manage", "owner"),
    ("api.get_role", "GET"): ("roles.manage", "owner"),
    ("api.create_role", "POST"): ("roles.manage", "owner"),
    ("api.update_role", "PATCH"): ("roles.manage", "owner"),
    ("api.delete_role", "DELETE"): ("roles.manage", "owner"),
}
# The "pending" column: what a session waiting for its second factor may
# reach (guard.pending_allowed). Everything else answers it as signed out.
PENDING = {
    ("auth.logout", "POST"),
    ("mfa.challenge", "GET"),
    ("mfa.verify_totp", "POST"),
    ("mfa.verify_recovery_code", "POST"),
    ("mfa.enrol", "GET"),
    ("mfa.confirm_totp", "POST"),
    ("mfa.passkey_registration_options", "POST"),
    ("mfa.passkey_authentication_options", "POST"),
    ("mfa.verify_passkey", "POST"),
    ("mfa.enrol_passkey", "POST"),
}
# The step-up column (adminapp/web/step_up.py): every route that changes
# state says whether it needs a fresh second-factor proof ("required"), a
# service rule decides per request ("by_rule"), or it is "exempt"; pages
# that need one say so too. Missing here, or different on the view, fails.
REQUIRED, BY_RULE, EXEMPT = "required", "by_rule", "exempt"
STEP_UP = {
    ("auth.logout", "POST"): EXEMPT,
    ("console.invite_admin", "POST"): REQUIRED,
    ("console.change_role", "POST"): REQUIRED,
    ("console.set_admin_status", "POST"): REQUIRED,
    ("console.remove_admin", "POST"): REQUIRED,
    ("console.reset_factors", "POST"): REQUIRED,
    ("console.unlock_admin", "POST"): REQUIRED,
    ("console.mark_reviewed", "POST"): REQUIRED,
    ("console.end_session", "POST"): BY_RULE,
    ("console.end_other_sessions", "POST"): EXEMPT,
    ("console.sign_out_everywhere", "POST"): EXEMPT,
    ("console.save_account", "POST"): EXEMPT,
    # Downloads of personal data: audit.export and users.export are step_up.
    ("console.audit_export", "POST"): REQUIRED,
    ("api.audit_export", "POST"): REQUIRED,
    ("users.export", "POST"): REQUIRED,
    ("users_api.export_users", "POST"): REQUIRED,
    ("api.invite_admin", "POST"): REQUIRED,
    ("api.update_admin", "PATCH"): REQUIRED,
    ("api.remove_admin", "DELETE"): REQUIRED,
    ("api.reset_factors", "POST"): REQUIRED,
    ("api.unlock_admin", "POST"): REQUIRED,
    ("api.trust_firebase_factor", "PUT"): REQUIRED,
    ("api.distrust_firebase_factor", "DELETE"): REQUIRED,
    ("api.end_session", "DELETE"): BY_RULE,
    ("users.set_status", "POST"): BY_RULE,
    ("users.revoke", "POST"): BY_RULE,
    ("users.verify_email", "POST"): BY_RULE,
    ("users.send_reset", "POST"): BY_RULE,
    ("users.set_claims", "POST"): BY_RULE,
    ("users.delete", "POST"): BY_RULE,
    ("users_api.set_status", "POST"): BY_RULE,
    ("users_api.revoke", "POST"): BY_RULE,
    ("users_api.verify_email", "POST"): BY_RULE,
    ("users_api.send_reset", "POST"): BY_RULE,
    ("users_api.set_claims", "PUT"): BY_RULE,
    ("users_api.delete_user", "DELETE"): BY_RULE,
    ("notes.add", "POST"): EXEMPT,
    ("mfa.verify_totp", "POST"): EXEMPT,
    ("mfa.verify_recovery_code", "POST"): EXEMPT,
    ("mfa.confirm_totp", "POST"): BY_RULE,
    ("mfa.passkey_registration_options", "POST"): BY_RULE,
    ("mfa.passkey_authentication_options", "POST"): EXEMPT,
    ("mfa.verify_passkey", "POST"): EXEMPT,
    ("mfa.enrol_passkey", "POST"): BY_RULE,
    ("mfa.new_passkey", "GET"): REQUIRED,
    ("mfa.add_passkey", "POST"): REQUIRED,
    ("security.rename_factor", "POST"): EXEMPT,
    ("security.remove_factor", "POST"): REQUIRED,
    ("security.regenerate_recovery_codes", "POST"): REQUIRED,
    ("security.new_totp", "GET"): REQUIRED,
    ("security.confirm_totp", "POST"): REQUIRED,
    ("security.trust_firebase_factor", "POST"): REQUIRED,
    ("security.distrust_firebase_factor", "POST"): REQUIRED,
    ("console.create_role", "POST"): REQUIRED,
    ("console.update_role", "POST"): REQUIRED,
    ("console.delete_role", "POST"): REQUIRED,
    ("api.create_role", "POST"): REQUIRED,
    ("api.update_role", "PATCH"): REQUIRED,
    ("api.delete_role", "DELETE"): REQUIRED,
}
# Values for URL parts: they name nothing that exists, so an allowed request
# reaches the view and gets its 404 or 400 without changing anything.
URL_VALUES = {
    "email": "nobody@example.com",
    "key": "0" * 64,
    "action": "disable",
    "uid": "no-such-user",
    "factor_id": "0" * 24,
    "enrolment_id": "no-such-enrolment",
    "name": "no-such-role",
}
SAFE = {"GET", "HEAD", "OPTIONS"}
GUARDED = sorted(key for key, (declared, _) in ACCESS.items() if declared != PUBLIC)


def admin_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin") and rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def url_for_rule(app, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: URL_VALUES[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(endpoint, values)


def call(client, method: str, url: str, *, with_csrf: bool):
    headers = {"Origin": ORIGIN}
    kwargs = {}
    if method not in SAFE and with_csrf:
        token = csrf_token(client)
        if url.startswith("/admin/api/"):
            headers["X-CSRFToken"] = token
            kwargs["json"] = {}
        else:
            kwargs["data"] = {"csrf_token": token}
    return client.open(url, method=method, headers=headers, **kwargs)


# The app of this table: the users console (on by default) and the example product.
PRODUCTS = {"ADMINAPP_BLUEPRINTS": "adminapp_notes:bp"}


@pytest.fixture
def config() -> dict[str, str]:
    return base_config(**PRODUCTS)


def test_every_admin_route_is_in_the_table(app):
    assert admin_routes(app) == set(ACCESS)


def declared_access(app, endpoint: str) -> str:
    """What a route's view declares, as the table's first column writes it."""
    view = app.view_functions[endpoint]
    if getattr(view, "public", False):
        return PUBLIC
    access = getattr(view, "access", None)
    return SELF if isinstance(access, SelfService) else access.name


def roles_let_in(app, endpoint: str) -> set[str]:
    """The built-in roles that the declaration lets reach a route."""
    declared = declared_access(app, endpoint)
    if declared == SELF:
        return set(ROLES)
    return {role for role in ROLES if declared in app.extensions[PERMISSIONS_KEY].of_role(role)}


def test_every_route_declares_the_permission_of_the_table(app):
    assert {key: declared_access(app, key[0]) for key in ACCESS} == {
        key: declared for key, (declared, _least) in ACCESS.items()
    }


def test_the_declared_permissions_give_the_least_roles_of_the_table(app):
    """The built-in roles behave as the ranks did: a route's permission lets
    in exactly its least role of the table and the roles above it."""
    for (endpoint, _method), (declared, least) in ACCESS.items():
        if declared == PUBLIC:
            continue
        above = set(ROLES[ROLES.index(least) :])
        assert roles_let_in(app, endpoint) == above, endpoint


def test_every_write_route_is_classified_for_step_up_as_the_table_says(app):
    """Closed by default: a write route missing from STEP_UP, or whose view
    declares something else, fails here (and the app refuses to start with
    an unclassified one: tests/integration/test_step_up_closed.py)."""
    declared = {}
    for endpoint, method in ACCESS:
        if ACCESS[endpoint, method][0] == PUBLIC:
            continue
        found = classification(app.view_functions[endpoint], method)
        if found is not None:
            declared[endpoint, method] = found.kind.value
            assert found.kind is StepUp.REQUIRED or found.reason, (endpoint, "needs a reason")
        else:
            assert method in SAFE, f"{endpoint} {method} changes state but is not classified"
    assert declared == STEP_UP


@pytest.fixture
def people(store) -> None:
    """An admin of each role (``as_role`` gives one of them a Firebase user)."""
    for role in ROLES:
        store.add_admin(f"{role}@example.com", role)
    # A second owner, so that owner-only changes are not refused as "last owner".
    store.add_admin("second.owner@example.com", "owner")


def as_role(auth_emulator, role: str) -> FirebaseUser:
    """A Firebase user for ``people``'s admin of ``role``."""
    return auth_emulator.create_user(f"{role}@example.com")


@pytest.mark.parametrize(("endpoint", "method"), sorted(ACCESS))
def test_anonymous_visitors(app, clean, endpoint, method):
    url = url_for_rule(app, endpoint)
    response = call(app.test_client(), method, url, with_csrf=True)
    if ACCESS[endpoint, method][0] == PUBLIC:
        # The view answered, not the guard (the exchange's own 401 says why).
        assert response.status_code < 500
        assert "/admin/login" not in response.headers.get("Location", "")
        body = response.get_json(silent=True) or {}
        assert body.get("error") != "unauthenticated"
    elif method in SAFE and not url.startswith("/admin/api/"):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login?next=")
    else:
        assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "method"), GUARDED)
def test_signed_in_roles(app, auth_emulator, people, endpoint, method, role):
    # Who may reach a route, not how they signed in: the session is opened
    # by the services a sign-in runs (tests/integration/test_sign_in.py
    # signs in over HTTP).
    client = app.test_client()
    user = as_role(auth_emulator, role)
    open_session(client, user.email, user.uid)
    response = call(client, method, url_for_rule(app, endpoint), with_csrf=True)
    allowed = role in roles_let_in(app, endpoint)
    if allowed:
        assert response.status_code not in (401, 403, 500), response.get_data(as_text=True)
    else:
        assert response.status_code == 403


def test_the_pending_column_names_only_routes_of_the_table(app):
    assert {(e, m) for e, m in PENDING} <= set(ACCESS)
    for endpoint, _ in ACCESS:
        view = app.view_functions[endpoint]
        assert getattr(view, "pending_allowed", False) == any(e == endpoint for e, _ in PENDING)


@pytest.mark.parametrize(("endpoint", "method"), GUARDED)
def test_pending_sessions(app, auth_emulator, people, endpoint, method):
    client = app.test_client()
    owner = as_role(auth_emulator, "owner")
    assert exchange(client, auth_emulator.sign_in(owner.email)).status_code == 200
    url = url_for_rule(app, endpoint)
    response = call(client, method, url, with_csrf=True)
    if (endpoint, method) in PENDING:
        assert response.status_code not in (401, 403, 500), response.get_data(as_text=True)
    elif method in SAFE and not url.startswith("/admin/api/"):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/mfa?next=")
    else:
        assert response.status_code == 401
        body = response.get_json(silent=True)
        if body is not None:
            assert body["error"] == "second_factor_required"
