"""Bearer ID tokens on /admin/api/ are no way around the second factor
(issue 13): for a role in MFA_REQUIRED_ROLES a token from a password alone
is refused on every API route; a token from a Firebase multi-factor sign-in
(``firebase.sign_in_second_factor``, minted here by the Auth emulator's own
SMS enrolment and sign-in) or a service account's token is accepted."""

from __future__ import annotations

import pytest

from tests.integration.test_route_access import ACCESS, PUBLIC, URL_VALUES

OWNER = "boss@example.com"
PHONE = "+15555550100"
API_ROUTES = sorted(
    (endpoint, method)
    for (endpoint, method), least in ACCESS.items()
    if least != PUBLIC and endpoint.split(".")[0] in {"api", "users_api"}
)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api_url(app, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return app.url_map.bind("localhost").build(
        endpoint, {name: URL_VALUES[name] for name in rule.arguments}
    )


@pytest.fixture
def password_token(auth_emulator, store):
    auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner")
    store.add_admin("second.owner@example.com", "owner")
    return auth_emulator.sign_in(OWNER)


@pytest.mark.parametrize(("endpoint", "method"), API_ROUTES)
def test_a_password_only_token_opens_no_api_route(app, password_token, store, endpoint, method):
    response = app.test_client().open(
        api_url(app, endpoint), method=method, headers=bearer(password_token), json={}
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "second_factor_required"
    assert "uid" not in store.admin(OWNER)  # nothing written, not even the uid binding
    assert store.audit() == []


def test_a_token_from_a_firebase_multi_factor_sign_in_opens_the_api(client, auth_emulator, store):
    auth_emulator.create_user(OWNER)
    store.add_admin(OWNER, "owner")
    auth_emulator.enrol_sms_factor(OWNER, PHONE)
    token = auth_emulator.mfa_sign_in(OWNER, PHONE)

    response = client.get("/admin/api/me", headers=bearer(token))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["authenticated_with"] == "bearer"
    listing = client.get("/admin/api/admins", headers=bearer(token))
    assert listing.status_code == 200


def test_a_service_accounts_password_token_opens_the_api(client, password_token, store):
    store.update_admin(OWNER, service_account=True)

    assert client.get("/admin/api/me", headers=bearer(password_token)).status_code == 200
    invited = client.post(
        "/admin/api/admins",
        headers=bearer(password_token),
        json={"email": "new@example.com", "role": "viewer"},
    )
    assert invited.status_code == 201


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_only_an_explicit_true_makes_a_service_account(client, password_token, store, value):
    store.update_admin(OWNER, service_account=value)
    assert client.get("/admin/api/me", headers=bearer(password_token)).status_code == 401


def test_roles_outside_mfa_required_roles_keep_plain_tokens(auth_emulator, store, clean):
    from adminapp import create_app
    from tests.support.settings import base_config

    app = create_app(base_config(MFA_REQUIRED_ROLES="owner"))
    try:
        auth_emulator.create_user("viewer@example.com")
        store.add_admin("viewer@example.com", "viewer")
        token = auth_emulator.sign_in("viewer@example.com")
        response = app.test_client().get("/admin/api/me", headers=bearer(token))
        assert response.status_code == 200
    finally:
        app.extensions["adminapp"].close()


def test_the_cli_marks_a_service_account_audited(app, password_token, store, client):
    cli = app.test_cli_runner()

    on = cli.invoke(args=["admins", "set-service-account", OWNER, "on"])
    assert on.exit_code == 0, on.output
    assert store.admin(OWNER)["service_account"] is True
    assert client.get("/admin/api/me", headers=bearer(password_token)).status_code == 200
    off = cli.invoke(args=["admins", "set-service-account", OWNER, "off"])
    assert off.exit_code == 0
    assert client.get("/admin/api/me", headers=bearer(password_token)).status_code == 401
    entries = store.audit(event="service_account_changed")
    assert sorted(e["reason"] for e in entries) == ["off", "on"]
    assert all(e["actor"].startswith("cli") and e["target"] == OWNER for e in entries)
    missing = cli.invoke(args=["admins", "set-service-account", "nobody@example.com", "on"])
    assert missing.exit_code != 0 and "not an admin" in missing.output
