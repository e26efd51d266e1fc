"""Two app processes behind an imaginary load balancer, one set of emulators.

Nothing but the settings is shared: the same SECRET_KEY, the same Firebase
project, and (for rate limits) the same Redis. No sticky sessions.
"""

from __future__ import annotations

import time

import pytest
import requests

from adminapp.testing.firebase import OWNER
from tests.support.instances import redis_server, started_together
from tests.support.settings import LOG_DIR, base_config

STAFF = "staff@example.com"
ME = "/admin/api/me"
JSON = {"Accept": "application/json"}
CACHE_SECONDS = 2


@pytest.fixture
def two_instances(clean, request):
    """Instances A and B; ``@pytest.mark.parametrize("settings", ...)`` adds settings."""
    settings = getattr(request, "param", {})
    config = base_config(**settings)
    with started_together(config, LOG_DIR) as (a, b):
        yield a, b


@pytest.fixture
def staff(auth_emulator, store):
    auth_emulator.create_user(STAFF)
    store.add_admin(STAFF, "admin")
    return STAFF


def test_a_session_opened_on_one_instance_works_on_the_other(two_instances, auth_emulator, staff):
    a, b = two_instances
    cookie = a.sign_in(auth_emulator.sign_in(staff))

    response = b.get(ME, cookie)

    assert response.status_code == 200
    assert response.json()["admin"]["email"] == STAFF


def test_sign_out_on_one_instance_is_refused_on_the_other_at_once(
    two_instances, auth_emulator, staff
):
    a, b = two_instances
    cookie = a.sign_in(auth_emulator.sign_in(staff))
    assert a.get(ME, cookie).status_code == 200

    assert b.sign_out(cookie).status_code == 302

    assert a.get(ME, cookie).status_code == 401


@pytest.mark.parametrize(
    "two_instances", [{"SESSION_CACHE_SECONDS": str(CACHE_SECONDS)}], indirect=True
)
def test_with_the_cache_a_sign_out_elsewhere_applies_within_the_ttl(
    two_instances, auth_emulator, staff
):
    a, b = two_instances
    cookie = a.sign_in(auth_emulator.sign_in(staff))
    assert a.get(ME, cookie).status_code == 200  # A has it cached from now
    cached_at = time.monotonic()

    assert b.sign_out(cookie).status_code == 302

    # B, where the sign-out happened, refuses at once ...
    assert b.get(ME, cookie).status_code == 401
    # ... A still serves its cached copy until the TTL runs out (the trade-off) ...
    if time.monotonic() - cached_at < CACHE_SECONDS - 0.5:
        assert a.get(ME, cookie).status_code == 200
    time.sleep(max(0.0, cached_at + CACHE_SECONDS + 0.2 - time.monotonic()))
    # ... and refuses after it.
    assert a.get(ME, cookie).status_code == 401


def test_an_admin_removed_through_one_instance_is_refused_on_the_other(
    two_instances, auth_emulator, owner, staff, store
):
    a, b = two_instances
    store.update_admin(OWNER, service_account=True)  # the owner's script removes staff
    cookie = b.sign_in(auth_emulator.sign_in(staff))
    assert b.get(ME, cookie).status_code == 200

    owner_token = auth_emulator.sign_in(OWNER)
    removed = requests.delete(
        f"{a.url}/admin/api/admins/{STAFF}",
        headers={"Authorization": f"Bearer {owner_token}"},
        timeout=10,
    )
    assert removed.status_code == 200

    # Removal ended the admin's sessions in Firestore; B reads that.
    refused = b.get(ME, cookie)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthenticated"


# -- rate limits shared through Redis ----------------------------------------

LIMIT = "3 per minute"


def _attempt(instance_) -> int:
    """One sign-in attempt with a malformed token: counted, then refused (400)."""
    return instance_.exchange("not-a-valid-id-token").status_code


@pytest.fixture
def redis():
    with redis_server() as server:
        yield server


@pytest.fixture
def limited_instances(clean, redis):
    config = base_config(RATELIMIT_STORAGE_URI=redis.uri, SIGN_IN_RATE_LIMIT=LIMIT)
    with started_together(config, LOG_DIR) as (a, b):
        yield a, b


def test_the_sign_in_limit_is_counted_across_instances(limited_instances):
    a, b = limited_instances

    attempts = [_attempt(a), _attempt(a), _attempt(b)]
    assert attempts == [400, 400, 400]  # 3 per minute per client, wherever they land

    assert _attempt(b) == 429
    assert _attempt(a) == 429


def test_without_redis_the_limit_is_still_applied_per_instance(limited_instances, redis):
    a, b = limited_instances
    assert _attempt(a) == 400  # counted in Redis

    redis.stop()

    # Still answered (never a 500), now counted in each process's memory.
    assert [_attempt(a) for _ in range(3)] == [400, 400, 400]
    assert _attempt(a) == 429
    assert _attempt(b) == 400  # B keeps its own count while Redis is away
    assert "Rate limit storage unreachable" in a.output()
