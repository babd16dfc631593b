"""Deploy checks of the security settings (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

_PROCESS_LOCAL = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def check_rate_limits(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    if not settings.RATELIMIT_ENABLED:
        return [
            Warning(
                "RATELIMIT_ENABLED is off: booking, registration, the contact form, password "
                "resets and the API's writes take any number of requests.",
                hint="Turn it off for load tests only.",
                id="clinic.W002",
            )
        ]
    backend = settings.CACHES[settings.RATELIMIT_CACHE]["BACKEND"]
    if backend in _PROCESS_LOCAL:
        return [
            Warning(
                f"The rate limits count in {backend.rsplit('.', 1)[-1]}, which lives in one "
                "process: each gunicorn worker and each server keeps its own count, so a "
                "client gets the limit once per process (DummyCache: never limited). A doctor's "
                "calendar version is kept per process too: a grid's poll may be told 'not "
                "modified' for up to a minute after a booking in another worker.",
                hint="Set CACHE_URL to a shared cache, e.g. redis://redis:6379/0.",
                id="clinic.W001",
            )
        ]
    return []
