"""The session cache's invalidation channel, against a real redis-server.

Two ``SessionInvalidation`` objects on one channel stand for two worker
processes; each has its own cache. Nothing is mocked: Redis is stopped,
started and paused for real.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
import redis

from adminapp.cache.session_cache import SessionCache
from adminapp.cache.session_invalidation import (
    LIVENESS_TIMEOUT,
    SessionInvalidation,
    channel_name,
)
from tests.support.instances import eventually, redis_server

CHANNEL = channel_name("demo-test")
TTL = timedelta(seconds=60)
DEADLINE = 5.0


@pytest.fixture
def server():
    with redis_server() as running:
        yield running


@pytest.fixture
def worker(server):
    """A worker process's cache and channel; call it again for another worker."""
    made = []

    def make(*, live: bool = False) -> tuple[SessionCache, SessionInvalidation]:
        cache = SessionCache(TTL)
        channel = SessionInvalidation(server.uri, CHANNEL, cache, TTL.total_seconds())
        made.append(channel)
        if live:
            channel.ensure_running()
            eventually(lambda: cache.trusted, DEADLINE)
        return cache, channel

    yield make
    for channel in made:
        channel.close()


def cached(cache: SessionCache, key: str, email: str = "a@example.com") -> None:
    cache.put(key, email, f"session {key}", "admin", cache.stamp())


def test_the_cache_is_not_used_until_the_subscription_is_live(worker):
    cache, channel = worker()

    cached(cache, "k")
    assert cache.get("k") is None  # not subscribed yet: nothing kept, nothing served

    channel.ensure_running()
    eventually(lambda: cache.trusted, DEADLINE)
    cached(cache, "k")
    assert cache.get("k") == ("session k", "admin")


def test_a_published_key_or_email_is_dropped_by_every_other_worker(worker):
    (_, a), (cache_b, _) = worker(live=True), worker(live=True)
    cached(cache_b, "k1", "a@example.com")
    cached(cache_b, "k2", "a@example.com")
    cached(cache_b, "k3", "b@example.com")

    a.publish(keys=["k1"])
    took = eventually(lambda: cache_b.get("k1") is None, DEADLINE)
    assert took < 1.0
    assert cache_b.get("k2") is not None

    a.publish(emails=["a@example.com"])
    eventually(lambda: cache_b.get("k2") is None, DEADLINE)
    assert cache_b.get("k3") == ("session k3", "admin")  # another admin's stays


def test_a_role_change_drops_every_session_on_every_other_worker(worker):
    """A custom role may be held by any cached admin: "everyone" empties the
    other workers' caches, and a read stamped before it is not stored."""
    (_, a), (cache_b, _) = worker(live=True), worker(live=True)
    cached(cache_b, "k1", "a@example.com")
    cached(cache_b, "k2", "b@example.com")
    stamp = cache_b.stamp()

    a.publish(everyone=True)
    took = eventually(lambda: cache_b.get("k1") is None and cache_b.get("k2") is None, DEADLINE)
    assert took < 1.0
    cache_b.put("k3", "c@example.com", "session k3", "admin", stamp)
    assert cache_b.get("k3") is None


def test_redis_down_empties_and_bypasses_the_cache_and_it_is_logged_once(worker, server, caplog):
    caplog.set_level(logging.WARNING, "adminapp")
    cache, _ = worker(live=True)
    cached(cache, "k")

    server.stop()

    eventually(lambda: not cache.trusted, DEADLINE)
    assert cache.get("k") is None and len(cache) == 0
    cached(cache, "k")
    assert cache.get("k") is None  # nothing is kept while it cannot be invalidated
    time.sleep(1.5)  # several reconnection attempts fail meanwhile
    down = [r for r in caplog.records if "channel down" in r.getMessage()]
    assert len(down) == 1


def test_a_message_missed_while_disconnected_does_not_leave_the_stale_entry(worker, server):
    cache_b, _ = worker(live=True)
    cached(cache_b, "k")

    server.stop()
    eventually(lambda: not cache_b.trusted, DEADLINE)
    # The change happens while B cannot hear it; its publication is lost
    # (sent straight to a Redis that is down, not through A's resend queue).
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.uri, socket_connect_timeout=0.5).publish(CHANNEL, "{}")
    server.start()

    eventually(lambda: cache_b.trusted, DEADLINE)
    assert cache_b.get("k") is None  # re-read from Firestore, not served stale


def test_an_unanswered_ping_distrusts_the_cache(worker, server):
    cache, _ = worker(live=True)
    cached(cache, "k")

    # Redis stops answering without closing the connection (a silent network fault).
    redis.Redis.from_url(server.uri).execute_command("CLIENT", "PAUSE", "3000", "ALL")

    took = eventually(lambda: not cache.trusted, DEADLINE)
    assert took <= LIVENESS_TIMEOUT + 1.0
    assert cache.get("k") is None
    eventually(lambda: cache.trusted, within=10)  # back once Redis answers again


def test_a_publication_that_fails_is_sent_when_redis_is_back(worker, server, caplog):
    (_, a), (cache_b, b) = worker(), worker()
    server.stop()

    a.publish(keys=["k"])  # does not raise: the change itself is done
    assert "not published" in caplog.text

    server.start()
    b.ensure_running()
    eventually(lambda: cache_b.trusted, DEADLINE)
    cached(cache_b, "k")
    a.ensure_running()  # A's subscriber resends once it is connected
    eventually(lambda: cache_b.get("k") is None, DEADLINE)


def test_a_read_that_started_before_an_invalidation_is_not_stored():
    cache = SessionCache(TTL)
    stamp = cache.stamp()  # the guard starts its Firestore read ...
    cache.forget("k")  # ... the session is ended meanwhile ...
    cache.put("k", "a@example.com", "old", "admin", stamp)  # ... the old answer arrives
    assert cache.get("k") is None


def test_redis_down_from_the_start_is_logged_and_the_cache_never_trusted(worker, server, caplog):
    caplog.set_level(logging.WARNING, "adminapp")
    server.stop()
    cache, channel = worker()

    channel.ensure_running()

    eventually(lambda: "channel down" in caplog.text, DEADLINE)
    cached(cache, "k")
    assert not cache.trusted and cache.get("k") is None
