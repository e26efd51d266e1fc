"""Who may reach every route under /admin: a table, checked for real.

Adding a route without adding it here fails
``test_every_admin_route_is_in_the_table``, so no route can skip review. The
app here mounts the example product blueprint (examples/notes) next to the
users console, so routes that products add are walked like the built-in ones.
"""

from __future__ import annotations

import pytest

from adminapp.firebase.admins import ROLES
from adminapp.web.step_up import StepUp, classification
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, exchange, sign_in

PUBLIC = "public"
# (endpoint, method) -> the least role it needs, or PUBLIC.
ACCESS = {
    ("auth.login", "GET"): PUBLIC,
    ("auth.open_session", "POST"): PUBLIC,
    ("auth.reset_request", "GET"): PUBLIC,
    ("auth.reset_request", "POST"): PUBLIC,
    ("auth.reset_confirm", "GET"): PUBLIC,
    ("auth.reset_confirm", "POST"): PUBLIC,
    ("auth.switch_language", "GET"): PUBLIC,
    ("auth.logout", "POST"): "viewer",
    ("console.dashboard", "GET"): "viewer",
    ("console.admins", "GET"): "viewer",
    ("console.invite_admin", "POST"): "owner",
    ("console.change_role", "POST"): "owner",
    ("console.set_admin_status", "POST"): "owner",
    ("console.confirm_remove_admin", "GET"): "owner",
    ("console.remove_admin", "POST"): "owner",
    ("console.reset_factors", "POST"): "owner",
    ("console.sessions", "GET"): "viewer",
    ("console.end_session", "POST"): "viewer",
    ("console.end_other_sessions", "POST"): "viewer",
    ("console.sign_out_everywhere", "POST"): "viewer",
    ("console.audit", "GET"): "viewer",
    ("console.audit_verify", "GET"): "owner",
    ("console.account", "GET"): "viewer",
    ("console.save_account", "POST"): "viewer",
    ("api.me", "GET"): "viewer",
    ("api.list_admins", "GET"): "viewer",
    ("api.invite_admin", "POST"): "owner",
    ("api.update_admin", "PATCH"): "owner",
    ("api.remove_admin", "DELETE"): "owner",
    ("api.reset_factors", "POST"): "owner",
    ("api.list_sessions", "GET"): "viewer",
    ("api.end_session", "DELETE"): "viewer",
    ("api.audit", "GET"): "viewer",
    # The users console (adminapp/web/users), mounted as a product blueprint.
    ("users.index", "GET"): "viewer",
    ("users.show", "GET"): "viewer",
    ("users.set_status", "POST"): "admin",
    ("users.revoke", "POST"): "admin",
    ("users.verify_email", "POST"): "admin",
    ("users.send_reset", "POST"): "admin",
    ("users.set_claims", "POST"): "owner",
    ("users.confirm_delete", "GET"): "owner",
    ("users.delete", "POST"): "owner",
    ("users_api.list_users", "GET"): "viewer",
    ("users_api.get_user", "GET"): "viewer",
    ("users_api.set_status", "POST"): "admin",
    ("users_api.revoke", "POST"): "admin",
    ("users_api.verify_email", "POST"): "admin",
    ("users_api.send_reset", "POST"): "admin",
    ("users_api.set_claims", "PUT"): "owner",
    ("users_api.delete_user", "DELETE"): "owner",
    # The example product blueprint (examples/notes), from ADMINAPP_BLUEPRINTS.
    ("notes.index", "GET"): "viewer",
    ("notes.add", "POST"): "admin",
    ("mfa.challenge", "GET"): "viewer",
    ("mfa.verify_totp", "POST"): "viewer",
    ("mfa.verify_recovery_code", "POST"): "viewer",
    ("mfa.enrol", "GET"): "viewer",
    ("mfa.confirm_totp", "POST"): "viewer",
    ("mfa.step_up", "GET"): "viewer",
    ("mfa.step_up_continue", "GET"): "viewer",
    # The admin's own security page (adminapp/web/security).
    ("security.index", "GET"): "viewer",
    ("security.rename_factor", "POST"): "viewer",
    ("security.remove_factor", "POST"): "viewer",
    ("security.regenerate_recovery_codes", "POST"): "viewer",
    ("security.new_totp", "GET"): "viewer",
    ("security.confirm_totp", "POST"): "viewer",
    ("mfa.passkey_registration_options", "POST"): "viewer",
    ("mfa.passkey_authentication_options", "POST"): "viewer",
    ("mfa.verify_passkey", "POST"): "viewer",
    ("mfa.enrol_passkey", "POST"): "viewer",
    ("mfa.new_passkey", "GET"): "viewer",
    ("mfa.add_passkey", "POST"): "viewer",
    # The per-admin lock on wrong codes, and Firebase's own second factors.
    ("console.unlock_admin", "POST"): "owner",
    ("api.unlock_admin", "POST"): "owner",
    ("api.list_firebase_factors", "GET"): "owner",
    ("api.trust_firebase_factor", "PUT"): "owner",
    ("api.distrust_firebase_factor", "DELETE"): "owner",
    ("security.trust_firebase_factor", "POST"): "viewer",
    ("security.distrust_firebase_factor", "POST"): "viewer",
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
    ("console.end_session", "POST"): BY_RULE,
    ("console.end_other_sessions", "POST"): EXEMPT,
    ("console.sign_out_everywhere", "POST"): EXEMPT,
    ("console.save_account", "POST"): EXEMPT,
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
}
SAFE = {"GET", "HEAD", "OPTIONS"}


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
PRODUCTS = {"ADMINAPP_BLUEPRINTS": "examples.notes:bp"}


@pytest.fixture
def config() -> dict[str, str]:
    return base_config(**PRODUCTS)


def test_every_admin_route_is_in_the_table(app):
    assert admin_routes(app) == set(ACCESS)


def test_every_write_route_is_classified_for_step_up_as_the_table_says(app):
    """Closed by default: a write route missing from STEP_UP, or whose view
    declares something else, fails here (and the app refuses to start with
    an unclassified one: tests/integration/test_step_up_closed.py)."""
    declared = {}
    for endpoint, method in ACCESS:
        if ACCESS[endpoint, method] == PUBLIC:
            continue
        found = classification(app.view_functions[endpoint])
        if found is not None:
            declared[endpoint, method] = found.kind.value
            assert found.kind is StepUp.REQUIRED or found.reason, (endpoint, "needs a reason")
        else:
            assert method in SAFE, f"{endpoint} {method} changes state but is not classified"
    assert declared == STEP_UP


@pytest.fixture
def people(auth_emulator, store):
    for role in ROLES:
        email = f"{role}@example.com"
        auth_emulator.create_user(email)
        store.add_admin(email, role)
    # A second owner, so that owner-only changes are not refused as "last owner".
    store.add_admin("second.owner@example.com", "owner")


@pytest.mark.parametrize(("endpoint", "method"), sorted(ACCESS))
def test_anonymous_visitors(app, clean, endpoint, method):
    url = url_for_rule(app, endpoint)
    response = call(app.test_client(), method, url, with_csrf=True)
    if ACCESS[endpoint, method] == PUBLIC:
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
@pytest.mark.parametrize(
    ("endpoint", "method"), sorted(key for key, least in ACCESS.items() if least != PUBLIC)
)
def test_signed_in_roles(app, auth_emulator, people, endpoint, method, role):
    client = app.test_client()
    sign_in(client, auth_emulator, f"{role}@example.com")
    response = call(client, method, url_for_rule(app, endpoint), with_csrf=True)
    allowed = ROLES.index(role) >= ROLES.index(ACCESS[endpoint, method])
    if allowed:
        assert response.status_code not in (401, 403, 500), response.get_data(as_text=True)
    else:
        assert response.status_code == 403


def test_the_pending_column_names_only_routes_of_the_table(app):
    assert {(e, m) for e, m in PENDING} <= set(ACCESS)
    for endpoint, _ in ACCESS:
        view = app.view_functions[endpoint]
        assert getattr(view, "pending_allowed", False) == any(e == endpoint for e, _ in PENDING)


@pytest.mark.parametrize(
    ("endpoint", "method"), sorted(key for key, least in ACCESS.items() if least != PUBLIC)
)
def test_pending_sessions(app, auth_emulator, people, endpoint, method):
    client = app.test_client()
    assert exchange(client, auth_emulator.sign_in("owner@example.com")).status_code == 200
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
