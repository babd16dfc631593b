from django.urls import URLPattern, URLResolver, path

from api.api import api
from common.ratelimit import limit

# Operations counted apart from the pages' writes: reads sent as a POST.
_SCOPES = {"patient-search": "search"}


def _rate_limited(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """Every API operation under the "write" rate limit of the pages (common.ratelimit),
    but those of _SCOPES under theirs: it counts only unsafe methods (POST, PUT...), so
    reading is never limited. A refusal is a 429 with Retry-After, turned into JSON by
    api.middleware."""
    return [
        URLPattern(
            p.pattern,
            limit(_SCOPES.get(p.name or "", "write"))(p.callback),
            p.default_args,
            p.name,
        )
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("api/", (_rate_limited(_patterns), _app_name, _namespace)),
]
