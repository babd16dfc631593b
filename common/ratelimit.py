"""Rate limits on the endpoints that write: by default 100 requests per 15 minutes per client
address, shared by every endpoint of the scope.

    from common.ratelimit import limit

    @limit("write")
    def register(request): ...

    # a class-based view, in a URLconf:
    path("password_reset/", limit("write")(PasswordResetView.as_view()), ...)

Only unsafe methods count (POST, PUT, PATCH, DELETE): reading a page is never limited. Past the
limit the answer is 429 with Retry-After (seconds to the end of the window) and the friendly
page `templates/429.html`. The counters live in the cache RATELIMIT_CACHE (the one CACHE_URL
names): an atomic add-then-incr, so several processes sharing Redis share one count; a
process-local cache counts per process (a deploy check warns). RATELIMIT_ENABLED=False turns
every limit off (load tests).

When the shared cache does not answer (Redis down: common.cache), the counts go on in this
process's memory until it is back: the clinic stays usable (nobody is refused for Redis's sake)
and safe (a client still meets the limit, once per process instead of once for the site). Each
request counted that way is counted in /metrics (`clinic_ratelimit_local_fallback_total`).

Fixed windows (15:00-15:15, 15:15-15:30, ...): simple and cheap; a client can at most double
its rate across a window's edge, which still stops scripted abuse.

Imports nothing of ours but `common.client`: any app may use it.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from prometheus_client import Counter

from common.client import client_ip

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Called once per client, scope and window, at its first refused request (the audit trail
# listens; common imports nothing of it). Arguments: the request, the scope.
on_refused: list[Callable[[HttpRequest, str], None]] = []


class Refusal:
    def __init__(self, scope: str, retry_after: int, first: bool) -> None:
        self.scope = scope
        self.retry_after = retry_after
        self.first = first


LOCAL_FALLBACK = Counter(
    "clinic_ratelimit_local_fallback",
    "Rate-limited requests counted in the process's memory because the shared cache (Redis) "
    "did not answer.",
)
# Where the counts go while the shared cache is down: this process's memory.
_local = LocMemCache("clinic-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def _shared_cache_down(cache: Any) -> bool:
    is_down = getattr(cache, "is_down", None)
    return bool(is_down and is_down())


def _count(key: str, timeout: int) -> int:
    cache = caches[settings.RATELIMIT_CACHE]
    if not _shared_cache_down(cache):
        count = _count_in(cache, key, timeout)
        if not _shared_cache_down(cache):
            return count
    LOCAL_FALLBACK.inc()
    return _count_in(_local, key, timeout)


def _count_in(cache: Any, key: str, timeout: int) -> int:
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:
        # The key expired between add() and incr(): this request opens a new count.
        cache.add(key, 1, timeout=timeout)
        return 1


def check(request: HttpRequest, scope: str) -> Refusal | None:
    """Counts this request against the client's limit of the scope; a Refusal once over it."""
    limit, window = settings.RATELIMITS[scope]
    now = time.time()
    index = int(now // window)
    key = f"ratelimit:{scope}:{client_ip(request)}:{index}"
    # The key outlives its window a little, so a late incr() never resurrects an old count.
    count = _count(key, timeout=window + 60)
    if count <= limit:
        return None
    retry_after = max(1, math.ceil((index + 1) * window - now))
    return Refusal(scope, retry_after, first=count == limit + 1)


def too_many_requests(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    response = render(
        request,
        "429.html",
        {
            "retry_after": refusal.retry_after,
            "retry_after_minutes": max(1, math.ceil(refusal.retry_after / 60)),
        },
        status=429,
    )
    response["Retry-After"] = str(refusal.retry_after)
    return response


View = Callable[..., HttpResponseBase]


def limit(scope: str) -> Callable[[View], View]:
    """Limits the unsafe requests a client may send to the decorated view (see the module)."""
    if scope not in settings.RATELIMITS:
        raise ValueError(f"Unknown rate limit scope {scope!r}; add it to RATELIMITS.")

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if settings.RATELIMIT_ENABLED and request.method in UNSAFE_METHODS:
                refusal = check(request, scope)
                if refusal is not None:
                    if refusal.first:
                        for hook in on_refused:
                            hook(request, scope)
                    return too_many_requests(request, refusal)
            return view(request, *args, **kwargs)

        # Read by the test that every write endpoint is limited. A function's own attribute:
        # typeshed's Callable has no place for it.
        limited.ratelimit_scope = scope  # type: ignore[attr-defined]
        return limited

    return decorator
