"""ID tokens of Identity Platform tenants (issue 11, finding 1).

A tenant's users get ID tokens with the project's own ``aud`` and ``iss``;
only the ``firebase.tenant`` claim tells them apart. Every test here uses the
Auth emulator's real tenants and tokens it signs in, not edited claims.

The audit's attack: an ordinary customer (a project-level account) creates,
in a tenant, a user with the email of an admin who has never signed in and
with the customer's own uid, signs in there and presents that token.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from firebase_admin import auth, tenant_mgt

from adminapp import create_app
from adminapp.web.extensions import limiter
from tests.support.settings import base_config
from tests.support.web import SESSION_COOKIE, csrf_token, exchange

ADMIN = "never.signed.in@example.com"
CUSTOMER = "customer@example.com"
JSON = {"Accept": "application/json"}


@pytest.fixture
def tenant(auth_emulator):
    """Make real tenants of the emulator's project; they are removed after."""
    made = []

    def make(name: str = "customers") -> str:
        made.append(auth_emulator.create_tenant(name))
        return made[-1]

    yield make
    for tenant_id in made:
        auth_emulator.delete_tenant(tenant_id)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", **JSON}


def security_events(caplog) -> list[dict]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "adminapp.security"
    ]


def assert_refused_as_wrong_tenant(response) -> None:
    assert response.status_code == 403, response.get_json()
    body = response.get_json()
    assert body["error"] == "wrong_tenant"
    assert "tenant" in body["message"] and "staff" in body["message"]
    assert not any(c.startswith(SESSION_COOKIE) for c in response.headers.getlist("Set-Cookie"))


def assert_nothing_written(store) -> None:
    assert store.sessions() == []
    assert store.audit() == []
    assert "uid" not in store.admin(ADMIN)  # not bound to the attacker's uid


@pytest.fixture
def attack(auth_emulator, store, tenant):
    """The audit's tenant token: the admin's email, the customer's uid."""
    store.add_admin(ADMIN, "owner")
    customer = auth_emulator.create_user(CUSTOMER)
    tenant_id = tenant()
    auth_emulator.create_tenant_user(tenant_id, ADMIN, uid=customer.uid)
    return auth_emulator.sign_in(ADMIN, tenant_id=tenant_id)


def test_a_tenant_token_opens_no_session(app, client, auth_emulator, store, attack, caplog):
    with caplog.at_level(logging.INFO, logger="adminapp.security"):
        response = exchange(client, attack)

    assert_refused_as_wrong_tenant(response)
    assert_nothing_written(store)
    [event] = security_events(caplog)
    assert event["event"] == "sign_in" and event["reason"] == "wrong_tenant"
    # The real admin is not locked out by the attempt.
    auth_emulator.create_user(ADMIN)
    real = exchange(app.test_client(), auth_emulator.sign_in(ADMIN))
    assert real.status_code == 200, real.get_json()


def test_a_tenant_token_is_refused_by_the_api(app, client, auth_emulator, store, attack, caplog):
    with caplog.at_level(logging.INFO, logger="adminapp.security"):
        response = client.get("/admin/api/me", headers=bearer(attack))

    assert_refused_as_wrong_tenant(response)
    assert_nothing_written(store)
    [event] = security_events(caplog)
    assert event["event"] == "access_refused" and event["reason"] == "wrong_tenant"
    real = auth_emulator.create_user(ADMIN)
    me = app.test_client().get("/admin/api/me", headers=bearer(auth_emulator.sign_in(ADMIN)))
    assert me.status_code == 200, me.get_json()
    assert store.admin(ADMIN)["uid"] == real.uid


def test_a_tenant_deployment_lets_in_its_tenant_only(clean, auth_emulator, store, tenant):
    staff, customers = tenant("staff"), tenant("customers")
    app = create_app(base_config(FIREBASE_TENANT_ID=staff))
    app.config["TESTING"] = True
    limiter.reset()
    try:
        store.add_admin(ADMIN, "owner")
        member = auth_emulator.create_tenant_user(staff, ADMIN)
        # The same email among the project's own users and in another tenant.
        auth_emulator.create_user(ADMIN)
        auth_emulator.create_tenant_user(customers, ADMIN)
        outsiders = [
            auth_emulator.sign_in(ADMIN),
            auth_emulator.sign_in(ADMIN, tenant_id=customers),
        ]
        for token in outsiders:
            assert_refused_as_wrong_tenant(exchange(app.test_client(), token))
            assert_refused_as_wrong_tenant(
                app.test_client().get("/admin/api/me", headers=bearer(token))
            )
        assert_nothing_written(store)

        browser = app.test_client()
        assert exchange(browser, auth_emulator.sign_in(ADMIN, tenant_id=staff)).status_code == 200
        [session] = store.sessions()
        assert session["uid"] == member.uid
        api = app.test_client().get(
            "/admin/api/me", headers=bearer(auth_emulator.sign_in(ADMIN, tenant_id=staff))
        )
        assert api.status_code == 200, api.get_json()
        # The account re-check looks the uid up in the tenant: among the
        # project's users it does not exist and the session would end.
        store.update_session(session["id"], auth_checked_at=datetime.now(UTC) - timedelta(hours=1))
        assert browser.get("/admin/", headers=JSON).status_code == 200
        assert store.sessions()[0].get("ended_at") is None
        # An invitation creates the person in the tenant, not in the project.
        invited = "invited@example.com"
        created = browser.post(
            "/admin/api/admins",
            json={"email": invited, "role": "viewer"},
            headers={**JSON, "X-CSRFToken": csrf_token(browser)},
        )
        assert created.status_code == 201, created.get_json()
        tenant_mgt.auth_for_tenant(staff, app=auth_emulator.app).get_user_by_email(invited)
        with pytest.raises(auth.UserNotFoundError):
            auth.get_user_by_email(invited, app=auth_emulator.app)
    finally:
        app.extensions["adminapp"].close()
