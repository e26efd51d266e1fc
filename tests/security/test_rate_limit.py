"""The exchange is rate limited per client IP (Flask-Limiter)."""

from __future__ import annotations

from tests.support.firebase import OWNER
from tests.support.web import exchange

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
