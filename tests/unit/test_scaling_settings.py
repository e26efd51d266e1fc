"""Settings and building blocks for running fast and as several instances."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from adminapp import create_app
from adminapp.cache.session_cache import SessionCache
from adminapp.config import Settings, load_settings
from adminapp.domain.sessions import CookieClaims
from adminapp.web.cookie import SessionCookie
from tests.support.cookies import jar_for
from tests.support.settings import development, production, refusal


def bench_paths(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("bench.")}


def test_the_product_serves_no_benchmark_pages_and_has_no_benchmark_setting():
    assert bench_paths(create_app(development())) == set()
    assert not any("bench" in name for name in Settings.__dataclass_fields__)


def test_the_benchmark_app_is_the_product_app_plus_its_pages(monkeypatch):
    for name, value in development().items():
        monkeypatch.setenv(name, value)
    from devtools.bench_app import create_bench_app

    assert bench_paths(create_bench_app()) == {
        "/admin/bench/open",
        "/admin/bench/guarded",
        "/admin/bench/firebase-session",
        "/admin/bench/firebase",
    }


def test_session_cache_is_off_by_default():
    assert load_settings(production()).session_cache_ttl == timedelta(0)
    assert load_settings(production(SESSION_CACHE_SECONDS="30")).session_cache_ttl == timedelta(
        seconds=30
    )


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_bad_session_cache_seconds_are_named(value):
    assert "SESSION_CACHE_SECONDS" in refusal(production(SESSION_CACHE_SECONDS=value))


def test_rate_limits_fall_back_to_memory_when_redis_is_down():
    app = create_app(development(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0"))
    assert app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    # Every call to Redis has a deadline (the fallback starts when it expires).
    assert 0 < app.config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] <= 1


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_entries_expire_after_the_ttl():
    clock = Clock()
    cache = SessionCache(timedelta(seconds=10), clock=clock)
    cache.put("k", "a@example.com", "session", "admin", cache.stamp())

    clock.now += 9.9
    assert cache.get("k") == ("session", "admin")
    clock.now += 0.2
    assert cache.get("k") is None
    assert len(cache) == 0


def test_updating_a_session_does_not_extend_its_entry():
    clock = Clock()
    cache = SessionCache(timedelta(seconds=10), clock=clock)
    cache.put("k", "a@example.com", "old", "admin", cache.stamp())
    clock.now += 8
    cache.update("k", "new")
    assert cache.get("k") == ("new", "admin")
    clock.now += 3
    assert cache.get("k") is None


def test_cache_is_bounded_oldest_first():
    cache = SessionCache(timedelta(seconds=10), max_entries=2)
    for key in "abc":
        cache.put(key, "a@example.com", key, "admin", cache.stamp())
    assert cache.get("a") is None
    assert cache.get("b") == ("b", "admin") and cache.get("c") == ("c", "admin")


def test_forget_admin_drops_only_that_admins_sessions():
    cache = SessionCache(timedelta(seconds=10))
    cache.put("1", "a@example.com", "s1", "A", cache.stamp())
    cache.put("2", "a@example.com", "s2", "A", cache.stamp())
    cache.put("3", "b@example.com", "s3", "B", cache.stamp())

    cache.forget_admin("a@example.com")

    assert cache.get("1") is None and cache.get("2") is None
    assert cache.get("3") == ("s3", "B")


def test_a_zero_ttl_caches_nothing():
    cache = SessionCache(timedelta(0))
    cache.put("k", "a@example.com", "s", "A", cache.stamp())
    assert cache.get("k") is None and len(cache) == 0


def test_a_remembered_cookie_still_expires(monkeypatch):
    settings = load_settings(development(SESSION_LIFETIME_MINUTES="1"))
    cookie = SessionCookie(settings, jar_for(settings))
    value = cookie.encode(CookieClaims(session_id="s" * 43, email="a@example.com"))
    assert cookie.decode(value) is not None  # verified once, remembered now

    later = time.time() + 61
    monkeypatch.setattr("adminapp.web.cookie.time.time", lambda: later)

    assert cookie.decode(value) is None


def test_a_remembered_cookie_does_not_open_an_edited_one():
    settings = load_settings(development())
    cookie = SessionCookie(settings, jar_for(settings))
    value = cookie.encode(CookieClaims(session_id="s" * 43, email="a@example.com"))
    assert cookie.decode(value) is not None
    body, signature = value.rsplit(".", 1)

    assert cookie.decode(f"{body}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}") is None


def test_the_invalidation_channel_defaults_to_the_rate_limit_redis():
    redis_limits = production(RATELIMIT_STORAGE_URI="redis://limits:6379/0")
    assert load_settings(redis_limits).session_invalidation_url == "redis://limits:6379/0"
    assert load_settings(production()).session_invalidation_url == ""  # memory:// limits
    own = production(SESSION_INVALIDATION_URL="redis://other:6379/1")
    assert load_settings(own).session_invalidation_url == "redis://other:6379/1"
    off = {**redis_limits, "SESSION_INVALIDATION_URL": "off"}
    assert load_settings(off).session_invalidation_url == ""


@pytest.mark.parametrize("value", ["memory://", "http://redis:6379", "redis-host:6379"])
def test_a_bad_invalidation_url_is_named(value):
    assert "SESSION_INVALIDATION_URL" in refusal(production(SESSION_INVALIDATION_URL=value))
