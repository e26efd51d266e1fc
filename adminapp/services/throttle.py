"""At most so many of something per key, counted where the rate limits are.

For bounds that belong to a rule rather than to a route (how many notice
emails one admin gets for the same event): the ``limits`` library on
RATELIMIT_STORAGE_URI, so with Redis the bound holds across workers and
instances, as the routes' limits do.
"""

from __future__ import annotations

import logging

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

# Seconds a count may wait for Redis (as the routes' limits do).
STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class Throttle:
    def __init__(self, storage_uri: str):
        options = STORAGE_OPTIONS if storage_uri.startswith(("redis", "rediss", "unix")) else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))

    def allow(self, limit: str, namespace: str, key: str, *, cost: int = 1) -> bool:
        """Count ``cost`` more of ``namespace`` for ``key``; whether they fit
        within ``limit`` (a moving window: what does not fit is not counted).
        When the storage cannot answer, it is allowed: these bounds keep
        notices from piling up, they guard no access."""
        try:
            return self._limiter.hit(limits.parse(limit), namespace, key, cost=cost)
        except Exception as error:  # the storage's own errors vary by backend
            log.warning("throttle storage unreachable (%s): allowing", type(error).__name__)
            return True
