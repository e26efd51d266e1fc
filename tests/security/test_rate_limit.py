"""The exchange and bearer API calls are rate limited per client IP (Flask-Limiter)."""

from __future__ import annotations

import pytest

from adminapp.testing.firebase import OWNER
from tests.support.settings import base_config
from tests.support.web import exchange, sign_in

LIMIT = 10  # SIGN_IN_RATE_LIMIT default: 10 per minute


def test_too_many_attempts_get_429_json_and_no_session(client, auth_emulator, owner, store):
    for _ in range(LIMIT):
        assert exchange(client, None).status_code == 401

    response = exchange(client, auth_emulator.sign_in(OWNER))  # even a good token

    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "rate_limited"
    assert body["message"].startswith("Too many attempts. Try again in ")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert store.sessions() == []


def test_the_limit_is_per_client_ip(app, auth_emulator, owner):
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for _ in range(LIMIT + 1):
        last = exchange(attacker, None)
    assert last.status_code == 429

    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    assert exchange(colleague, auth_emulator.sign_in(OWNER)).status_code == 200


def test_answers_under_the_limit_carry_no_retry_after(client, auth_emulator, owner):
    # Retry-After belongs to a 429 or 503 only; a sign-in that worked must not
    # tell clients (or caches and proxies) to come back in an hour.
    response = exchange(client, auth_emulator.sign_in(OWNER))
    assert response.status_code == 200
    assert "Retry-After" not in response.headers


class TestBearerApiCalls:
    """Each bearer call costs a Firebase Auth round trip: the limit is checked
    before the token, so calls over it cost none."""

    API_LIMIT = 3

    @pytest.fixture
    def config(self):
        return base_config(
            API_BEARER_RATE_LIMIT=f"{self.API_LIMIT} per minute", SERVER_TIMING="true"
        )

    @staticmethod
    def me(client, token: str):
        return client.get("/admin/api/me", headers={"Authorization": f"Bearer {token}"})

    def test_calls_over_the_limit_get_429_and_cost_no_auth_call(
        self, client, auth_emulator, owner, store
    ):
        store.update_admin(OWNER, service_account=True)  # a script's account
        token = auth_emulator.sign_in(OWNER)
        for _ in range(self.API_LIMIT):
            response = self.me(client, token)
            assert response.status_code == 200
            assert 'auth;desc="round trips";dur=1' in response.headers["Server-Timing"]

        refused = self.me(client, token)

        assert refused.status_code == 429
        assert refused.get_json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert 'auth;desc="round trips";dur=0' in refused.headers["Server-Timing"]
        assert 'firestore;desc="round trips";dur=0' in refused.headers["Server-Timing"]

    def test_invalid_tokens_count_too(self, client, auth_emulator, owner):
        for _ in range(self.API_LIMIT):
            assert self.me(client, "not.a.token").status_code == 401
        assert self.me(client, auth_emulator.sign_in(OWNER)).status_code == 429

    def test_pages_and_cookie_calls_are_not_limited_by_it(self, app, client, auth_emulator, owner):
        signed_in = app.test_client()
        sign_in(signed_in, auth_emulator, OWNER)
        for _ in range(self.API_LIMIT + 2):
            assert signed_in.get("/admin/api/me").status_code == 200
            assert signed_in.get("/admin/").status_code == 200
