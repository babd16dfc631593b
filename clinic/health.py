"""`/health/` for a probe that knows nothing of the site's public name or of TLS.

Docker's HEALTHCHECK calls http://127.0.0.1:8000/health/ inside the container, a load balancer
calls the backend's own address: neither is in ALLOWED_HOSTS, and neither speaks HTTPS to
gunicorn (TLS ends at the proxy). So this middleware, placed before SecurityMiddleware (the
HTTPS redirect) and before anything reads the Host header, answers that one path itself, with
the view `clinic.views.health`. Every other path goes through the host check and the
redirect as before. The answer names no host and carries nothing private.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import resolve

PATH = "/health/"


class HealthProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info != PATH:
            return self.get_response(request)
        # Resolved as usual, so /metrics counts it under its route name.
        match = resolve(PATH)
        request.resolver_match = match
        return match.func(request)
