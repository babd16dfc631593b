"""Cache backends the site survives losing: Redis down degrades to "no cache", never to a 500.

`ResilientRedisCache` is Django's Redis backend, except that when Redis does not answer
(refused, timed out, restarting) each operation behaves as a miss: `get` gives the default,
`set`/`add` store nothing (as if the entry were evicted at once), `incr` finds no key. The
first failure is logged, every one is counted in /metrics
(`clinic_cache_errors_total{operation}`), and for `DOWN_SECONDS` (2 s) after it the process
does not even try, so a dead or unreachable Redis costs no time per request; then one call
tries again and the cache is back as soon as Redis answers. Short socket timeouts and no
client-side retries keep a hung Redis from holding a worker.

Who else copes: the rate limits count in this process while Redis is down (common.ratelimit);
`/health/` reports `"cache": "down"` (`ping`). Imports nothing of ours: any app may use it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What "Redis does not answer" looks like in redis-py (BusyLoadingError, a restart's
# "loading the dataset", is a ConnectionError).
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

CACHE_ERRORS = Counter(
    "clinic_cache_errors",
    "Shared-cache operations answered as a miss because Redis did not answer (tried and "
    "failed, or skipped while it was marked down), by operation.",
    ["operation"],
)


class _Health:
    """Whether one Redis (by location) answers, shared by every thread of the process.

    Django gives each thread its own backend instance, so this lives beside them."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.down = False

    def skip(self) -> bool:
        return self.down and time.monotonic() < self.down_until

    def failed(self, exc: BaseException, down_seconds: float) -> None:
        with self.lock:
            self.down_until = time.monotonic() + down_seconds
            if self.down:
                return
            self.down = True
        logger.error(
            "The shared cache at %s does not answer (%s): pages are served uncached and "
            "rate limits count per process until it is back.",
            self.location,
            exc,
        )

    def answered(self) -> None:
        if not self.down:
            return
        with self.lock:
            if not self.down:
                return
            self.down = False
        logger.warning("The shared cache at %s answers again.", self.location)


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


def health_of(location: str) -> _Health:
    with _health_lock:
        return _health.setdefault(location, _Health(location))


class ResilientRedisCache(RedisCache):
    """Django's RedisCache whose failures are misses (see the module)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS", {}))
        self.down_seconds = float(options.pop("DOWN_SECONDS", 2.0))
        # redis-py retries a refused connection three times with a backoff by default: 60 ms
        # per call on loopback, seconds across a network. A miss now beats a hit later.
        options.setdefault("retry", Retry(NoBackoff(), 0))
        options.setdefault("socket_connect_timeout", 1.0)
        options.setdefault("socket_timeout", 1.0)
        params["OPTIONS"] = options
        super().__init__(server, params)
        # Django's RedisCache keeps the server list it parsed here; the stub leaves it out.
        self.health = health_of(",".join(self._servers))  # type: ignore[attr-defined]

    def is_down(self) -> bool:
        """True while Redis is known not to answer (the last operation failed)."""
        return self.health.down

    def ping(self) -> bool:
        """Asks Redis now, whatever the last operation said; True when it answers."""
        try:
            self._cache.get_client(write=True).ping()
        except UNAVAILABLE as exc:
            self.health.failed(exc, self.down_seconds)
            return False
        self.health.answered()
        return True

    def _guard(self, operation: str, call: Callable[[], T], miss: Callable[[], T]) -> T:
        if self.health.skip():
            CACHE_ERRORS.labels(operation).inc()
            return miss()
        try:
            result = call()
        except UNAVAILABLE as exc:
            CACHE_ERRORS.labels(operation).inc()
            self.health.failed(exc, self.down_seconds)
            return miss()
        self.health.answered()
        return result

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        # "Stored, then evicted at once": the caller goes on with its own value.
        return self._guard(
            "add", lambda: RedisCache.add(self, key, value, timeout, version), lambda: True
        )

    def get(self, key: str, default: Any = None, version: Any = None) -> Any:
        return self._guard(
            "get", lambda: RedisCache.get(self, key, default, version), lambda: default
        )

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guard("set", lambda: RedisCache.set(self, key, value, timeout, version), lambda: None)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._guard(
            "touch", lambda: RedisCache.touch(self, key, timeout, version), lambda: False
        )

    def delete(self, key: str, version: Any = None) -> bool:
        return self._guard("delete", lambda: RedisCache.delete(self, key, version), lambda: False)

    def get_many(self, keys: Any, version: Any = None) -> dict[str, Any]:
        return self._guard("get_many", lambda: RedisCache.get_many(self, keys, version), dict)

    def has_key(self, key: str, version: Any = None) -> bool:
        return self._guard("has_key", lambda: RedisCache.has_key(self, key, version), lambda: False)

    def incr(self, key: str, delta: int = 1, version: Any = None) -> int:

        def missing() -> int:
            raise ValueError(f"Key '{key}' not found (the shared cache does not answer).")

        return self._guard("incr", lambda: RedisCache.incr(self, key, delta, version), missing)

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[str]:
        return self._guard(
            "set_many",
            lambda: RedisCache.set_many(self, data, timeout, version),
            lambda: list(data),
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._guard(
            "delete_many", lambda: RedisCache.delete_many(self, keys, version), lambda: None
        )

    def clear(self) -> None:
        self._guard(
            "clear",
            lambda: RedisCache.clear(
                self,
            ),
            lambda: None,
        )
