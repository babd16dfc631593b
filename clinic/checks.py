"""Deploy checks of the security settings (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

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


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 (names, not binds)


@register(Tags.security, deploy=True)
def check_site_url(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Every e-mail links to the site through SITE_URL: in production it must be the
    clinic's own HTTPS address, not the local demo's default."""
    if settings.DEBUG or not settings.HTTPS_ONLY:
        return []
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme == "https" and parts.hostname and parts.hostname not in _LOOPBACK:
        return []
    return [
        Error(
            f"SITE_URL is {settings.SITE_URL!r}: the links in every e-mail (the appointment's "
            "page, add to calendar, password resets) would lead there.",
            hint="Set SITE_URL to the address patients use, e.g. https://clinic.example.org.",
            id="clinic.E001",
        )
    ]
