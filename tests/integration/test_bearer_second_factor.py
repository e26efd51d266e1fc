"""Bearer ID tokens on /admin/api/ are no way around the second factor
(issues 13 and 20): for a role in MFA_REQUIRED_ROLES a token from a password
alone is refused on every API route. A token from a Firebase multi-factor
sign-in (``firebase.sign_in_second_factor``, minted here by the Auth
emulator's own SMS enrolment and sign-in) counts only under the one rule
the exchange uses too: ACCEPT_FIREBASE_SECOND_FACTOR on and an enrolment
approved for that admin; its writes need a recent sign-in. A service
account's token is accepted."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from adminapp.testing.firebase import rewrite_claims, token_claims
from tests.integration.test_route_access import ACCESS, PUBLIC, URL_VALUES
from tests.support.reset import settle
from tests.support.settings import base_config
from tests.support.web import ORIGIN, csrf_token, exchange, post_form, session_cookie

OWNER = "boss@example.com"
PHONE = "+15555550100"
API_ROUTES = sorted(
    (endpoint, method)
    for (endpoint, method), (declared, _least) in ACCESS.items()
    if declared != PUBLIC and endpoint.split(".")[0] in {"api", "users_api"}
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


def firebase_mfa_token(auth_emulator, store, email: str = OWNER) -> str:
    """An ID token from a sign-in with the password and an SMS factor that
    was enrolled with the password alone, as anyone who knows the password
    can do where the project allows Identity Platform MFA."""
    auth_emulator.create_user(email)
    store.add_admin(email, "owner")
    auth_emulator.enrol_sms_factor(email, PHONE)
    return auth_emulator.mfa_sign_in(email, PHONE)


# Review finding High 2: the bearer rule trusted any Firebase second factor.
ATTACKS = [
    ("GET", "/admin/api/me", None),
    ("GET", "/admin/api/users", None),
    ("POST", "/admin/api/admins", {"email": "insider@example.com", "role": "owner"}),
    ("POST", "/admin/api/admins/second.owner@example.com/reset-factors", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ATTACKS)
def test_with_the_setting_off_a_firebase_factor_opens_no_api_route(
    app, auth_emulator, store, method, path, body
):
    token = firebase_mfa_token(auth_emulator, store)
    store.add_admin("second.owner@example.com", "owner", second_factors=1)

    response = app.test_client().open(path, method=method, headers=bearer(token), json=body)

    assert response.status_code == 401
    assert response.get_json()["error"] == "second_factor_required"
    assert store.admin("insider@example.com") is None
    assert store.admin("second.owner@example.com")["second_factors"] == 1
    assert "uid" not in store.admin(OWNER)
    assert store.audit() == []


class TestAcceptingFirebaseFactors:
    """ACCEPT_FIREBASE_SECOND_FACTOR on: Firebase's factor counts only for an
    enrolment approved for this admin (services/mfa/firebase_factors.py)."""

    @pytest.fixture
    def config(self, smtp):
        return base_config(ACCEPT_FIREBASE_SECOND_FACTOR="true", **smtp.config())

    def test_an_enrolment_nobody_approved_is_refused_audited_and_emailed(
        self, app, auth_emulator, store, smtp
    ):
        token = firebase_mfa_token(auth_emulator, store)
        store.update_admin(OWNER, second_factors=1)  # the admin has an app factor too

        api = app.test_client().get("/admin/api/me", headers=bearer(token))
        browser = app.test_client()
        exchanged = exchange(browser, token)

        assert api.status_code == 403 and api.get_json()["error"] == "untrusted_second_factor"
        # Before: a full cookie session, even for an admin with an app factor.
        assert exchanged.status_code == 403
        assert exchanged.get_json()["error"] == "untrusted_second_factor"
        assert session_cookie(browser) is None
        assert store.sessions(spent_pending=True) == []
        refused = store.audit(event="firebase_factor_refused")
        assert len(refused) == 2 and {e["actor"] for e in refused} == {OWNER}
        assert all(
            token_claims(token)["firebase"]["second_factor_identifier"] in e["reason"]
            for e in refused
        )
        settle(app)
        [notice] = smtp.inbox.to(OWNER)  # one email, however often it is tried
        assert notice["Subject"] == (
            "A sign-in to your admin account used an unknown second factor"
        )
        assert token not in notice.get_body(("plain",)).get_content()

    def test_an_approved_enrolment_opens_the_api_and_a_full_session(
        self, app, auth_emulator, store
    ):
        token = firebase_mfa_token(auth_emulator, store)
        enrolment = token_claims(token)["firebase"]["second_factor_identifier"]
        cli = app.test_cli_runner()
        listed = cli.invoke(args=["admins", "firebase-factors", OWNER])
        assert enrolment in listed.output and "not trusted" in listed.output

        trusted = cli.invoke(args=["admins", "trust-firebase-factor", OWNER, enrolment])

        assert trusted.exit_code == 0, trusted.output
        assert app.test_client().get("/admin/api/me", headers=bearer(token)).status_code == 200
        browser = app.test_client()
        assert exchange(browser, token).get_json()["redirect"] == "/admin/"
        [session] = store.sessions(email=OWNER)
        assert session["mfa_pending"] is False and session["mfa_factor"] == "firebase_phone"
        [entry] = store.audit(event="firebase_factor_trusted")
        assert entry["actor"].startswith("cli") and entry["reason"] == enrolment

    def test_bearer_writes_need_a_recent_sign_in_with_the_factor(self, app, auth_emulator, store):
        token = firebase_mfa_token(auth_emulator, store)
        enrolment = token_claims(token)["firebase"]["second_factor_identifier"]
        app.test_cli_runner().invoke(args=["admins", "trust-firebase-factor", OWNER, enrolment])
        old = rewrite_claims(token, auth_time=int(time.time()) - 11 * 60)
        invite = {"email": "new@example.com", "role": "viewer"}
        client = app.test_client()

        assert client.get("/admin/api/me", headers=bearer(old)).status_code == 200  # reads
        stale = client.post("/admin/api/admins", headers=bearer(old), json=invite)
        fresh = client.post("/admin/api/admins", headers=bearer(token), json=invite)

        assert stale.status_code == 401 and stale.get_json()["error"] == "step_up_required"
        assert fresh.status_code == 201
        assert store.admin("new@example.com")["role"] == "viewer"


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


class TestApprovingFirebaseFactors:
    """Who may approve an enrolment: the admin from a full session with a
    fresh proof (the security page), or an owner (API with a step-up, CLI)."""

    @pytest.fixture
    def config(self):
        return base_config(ACCEPT_FIREBASE_SECOND_FACTOR="true")

    def test_the_admin_trusts_their_own_from_the_security_page_after_a_step_up(
        self, app, signed_in_as, auth_emulator, store
    ):
        client = signed_in_as(OWNER, "owner")  # an app factor (TOTP), full session
        auth_emulator.enrol_sms_factor(OWNER, PHONE)
        token = auth_emulator.mfa_sign_in(OWNER, PHONE)
        enrolment = token_claims(token)["firebase"]["second_factor_identifier"]
        page = client.get("/admin/security").get_data(as_text=True)
        assert f'data-enrolment="{enrolment}"' in page and "Not trusted" in page
        expire_proof(store, OWNER)

        prompt = post_form(client, f"/admin/security/firebase-factors/{enrolment}/trust")
        assert prompt.status_code == 401 and "Confirm it is you" in prompt.get_data(as_text=True)
        assert "firebase_factors" not in store.admin(OWNER)
        refresh_proof(store, OWNER)
        done = post_form(client, f"/admin/security/firebase-factors/{enrolment}/trust")

        assert done.status_code == 303
        assert enrolment in store.admin(OWNER)["firebase_factors"]
        assert app.test_client().get("/admin/api/me", headers=bearer(token)).status_code == 200
        # An enrolment that is not on the account cannot be trusted.
        missing = post_form(client, "/admin/security/firebase-factors/made-up/trust")
        assert missing.status_code == 404

    def test_an_owner_approves_through_the_api_with_a_step_up(
        self, app, signed_in_as, auth_emulator, store
    ):
        boss = signed_in_as("boss.two@example.com", "owner")
        token = firebase_mfa_token(auth_emulator, store)
        enrolment = token_claims(token)["firebase"]["second_factor_identifier"]
        listed = boss.get(f"/admin/api/admins/{OWNER}/firebase-factors").get_json()
        assert [(f["enrolment_id"], f["trusted"]) for f in listed["firebase_factors"]] == [
            (enrolment, False)
        ]
        expire_proof(store, "boss.two@example.com")
        path = f"/admin/api/admins/{OWNER}/firebase-factors/{enrolment}"

        stale = api_write(boss, "PUT", path)
        refresh_proof(store, "boss.two@example.com")
        approved = api_write(boss, "PUT", path)

        assert stale.status_code == 401 and stale.get_json()["error"] == "step_up_required"
        assert approved.status_code == 200
        assert app.test_client().get("/admin/api/me", headers=bearer(token)).status_code == 200
        assert api_write(boss, "DELETE", path).status_code == 200
        assert app.test_client().get("/admin/api/me", headers=bearer(token)).status_code == 403
        events = [e["event"] for e in store.audit() if e["event"].startswith("firebase_factor")]
        assert sorted(events) == [
            "firebase_factor_distrusted",
            "firebase_factor_refused",
            "firebase_factor_trusted",
        ]


def expire_proof(store, email: str) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=11)
    for session in store.sessions(email=email, active=True):
        store.update_session(session["id"], mfa_step_up_at=long_ago, mfa_verified_at=long_ago)


def refresh_proof(store, email: str) -> None:
    now = datetime.now(UTC)
    for session in store.sessions(email=email, active=True):
        store.update_session(session["id"], mfa_step_up_at=now)


def api_write(client, method: str, path: str, body: dict | None = None):
    headers = {"X-CSRFToken": csrf_token(client), "Origin": ORIGIN}
    return client.open(path, method=method, json=body or {}, headers=headers)
