"""The session cache's invalidation channel: Redis pub/sub between processes.

Every change that affects a cached session or admin (an ended session, a
changed, disabled or removed admin, a reset password) is published, after its
Firestore write, as the session keys and emails it affects; a change to a
custom role, which any cached admin may hold, as ``everyone``. Each worker
process runs one subscriber (a daemon thread, started on the first guarded
request, so after gunicorn's fork) that drops those entries from its cache.

Fail closed: the cache is trusted only while the subscription is known to
be live. Until the subscriber has subscribed, after any error, and when a
ping goes unanswered for :data:`LIVENESS_TIMEOUT`, it distrusts the cache
(the guard then reads Firestore as with the cache off); it trusts it again
only after it has subscribed again, and by then the cache has been emptied,
so a message lost meanwhile cannot keep a stale entry. The state changes
are logged once each.

A subscriber that is not running says nothing: on Cloud Run with CPU only
during requests (its default), a worker's threads get no CPU between
requests, and the first request after a pause would find the cache still
"trusted" with invalidations unread in the socket. So the subscriber also
*beats*: each time it finds the channel drained it tells the cache, and the
cache is used only while the last beat is under :data:`LIVENESS_TIMEOUT`
old. After a pause the first requests read Firestore while the subscriber
catches up.

A publication that fails (Redis down or slow) never fails the request whose
write has committed: it is logged and kept, and the subscriber thread sends
it again as soon as Redis answers, unless the TTL has passed since (then
every cache has dropped what it was about anyway).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .session_cache import SessionCache

log = logging.getLogger(__name__)

# Every Redis call waits at most this long (connect, send, answer).
REDIS_TIMEOUT_SECONDS = 0.5
# The subscriber pings this often, and stops trusting a connection that has
# said nothing for LIVENESS_TIMEOUT (a silent network failure raises nothing).
PING_INTERVAL_SECONDS = 0.5
LIVENESS_TIMEOUT = 1.5
# Waits between reconnection attempts, growing to the last one.
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0)
# Publications kept for resending while Redis is unreachable.
MAX_PENDING = 1000


def channel_name(project_id: str) -> str:
    # Per Firebase project: two deployments sharing a Redis do not mix.
    return f"adminapp:{project_id}:session-invalidation"


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        # No silent retry: redis-py would reconnect and resubscribe behind our
        # back, and a message published in between would be lost unnoticed.
        retry=Retry(NoBackoff(), 0),
    )


class SessionInvalidation:
    """Publisher and subscriber of one process's session cache."""

    def __init__(self, url: str, channel: str, cache: SessionCache, ttl_seconds: float):
        self._url = url
        self._channel = channel
        self._cache = cache
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._publisher: redis.Redis | None = None
        # (monotonic time of the change, message) not yet delivered.
        self._pending: deque[tuple[float, str]] = deque(maxlen=MAX_PENDING)
        self._state: str | None = None  # "live" or "down", as last logged
        # Distrusted until the subscriber has subscribed, and unused while it
        # has not drained the channel lately.
        cache.distrust()
        cache.require_beats(LIVENESS_TIMEOUT)

    # -- publishing (any thread) ---------------------------------------------

    def publish(
        self, *, keys: Iterable[str] = (), emails: Iterable[str] = (), everyone: bool = False
    ) -> None:
        """Tell every process to drop these sessions and these admins'
        sessions (all of them, with ``everyone``). Never raises: the change
        it reports has already happened."""
        payload = {"keys": sorted(keys), "emails": sorted(emails)}
        if everyone:
            payload["everyone"] = True
        message = json.dumps(payload)
        try:
            self._publisher_client().publish(self._channel, message)
        except redis.RedisError as error:
            log.warning(
                "session invalidation not published (%s); will resend when Redis answers",
                type(error).__name__,
            )
            self._pending.append((time.monotonic(), message))

    def _publisher_client(self) -> redis.Redis:
        # Built on first use, in the process that uses it (after any fork).
        with self._lock:
            if self._publisher is None:
                self._publisher = _client(self._url)
            return self._publisher

    # -- subscribing (one thread per process) --------------------------------

    def ensure_running(self) -> None:
        """Start this process's subscriber if it is not running: cheap enough
        for every guarded request (no Redis call)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            # A thread does not survive a fork: a copied "trusted" must not either.
            self._cache.distrust()
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="adminapp-session-invalidation", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        with self._lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as error:  # whatever it is, stop trusting the cache
                self._cache.distrust()
                if not isinstance(error, redis.RedisError | OSError):
                    log.exception("session invalidation subscriber failed")
                self._log_state("down", type(error).__name__)
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                self._stopping.wait(delay)
        self._cache.distrust()

    def _log_state(self, state: str, cause: str = "") -> None:
        """Log each change of the channel's state once (from start-up on)."""
        if state == self._state:
            return
        self._state = state
        if state == "down":
            log.warning(
                "session invalidation channel down (%s): "
                "the session cache is not used until it is back",
                cause,
            )
        else:
            log.info("session invalidation channel live: the session cache is in use")

    def _listen(self) -> None:
        """Subscribe, trust the cache, apply messages until something fails."""
        client = _client(self._url)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(self._channel)
            self._await_subscription(pubsub)
            # Subscribed: whatever is published from now on reaches us. trust()
            # empties the cache, so nothing missed before can be served.
            self._cache.trust()
            self._cache.beat(self._cache.now())
            self._log_state("live")
            self._resend_pending(client)
            heard = pinged = time.monotonic()
            while not self._stopping.is_set():
                reading_from = self._cache.now()
                message = pubsub.get_message(timeout=PING_INTERVAL_SECONDS / 2)
                now = time.monotonic()
                if message is None:
                    # Nothing came since reading_from: everything published
                    # before it has been applied.
                    self._cache.beat(reading_from)
                else:
                    heard = now
                    if message["type"] == "message":
                        self._apply(message["data"])
                if now - pinged >= PING_INTERVAL_SECONDS:
                    pubsub.ping()
                    pinged = now
                if now - heard > LIVENESS_TIMEOUT:
                    raise redis.TimeoutError("no answer to ping")
                if self._pending:
                    self._resend_pending(client)
        finally:
            # _run distrusts the cache as soon as this returns or raises.
            pubsub.close()
            client.close()

    def _await_subscription(self, pubsub) -> None:
        deadline = time.monotonic() + REDIS_TIMEOUT_SECONDS * 2
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=REDIS_TIMEOUT_SECONDS)
            if message is not None and message["type"] == "subscribe":
                return
        raise redis.TimeoutError("no subscription confirmation")

    def _apply(self, data: bytes) -> None:
        try:
            payload = json.loads(data)
            keys, emails = list(payload["keys"]), list(payload["emails"])
            everyone = payload.get("everyone", False) is True
        except (ValueError, KeyError, TypeError):
            # Something we cannot read may have been about anything.
            log.warning("unreadable session invalidation message: emptying the session cache")
            self._cache.trust()
            return
        if everyone:
            self._cache.forget_all()
        for key in keys:
            self._cache.forget(key)
        for email in emails:
            self._cache.forget_admin(email)

    def _resend_pending(self, client: redis.Redis) -> None:
        while self._pending:
            changed_at, message = self._pending[0]
            if time.monotonic() - changed_at < self._ttl:
                client.publish(self._channel, message)
            self._pending.popleft()
