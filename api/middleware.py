"""Errors under /api/ are JSON, whoever answered them.

The API's own views answer {"detail", "code"} themselves; this catches the rest: an unknown
path, a method not allowed, a rate limit (or anything else) answered by a middleware or
decorator before the API ran, Django's own error pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _

from api.errors import body, reason_phrase

PREFIX = "/api/"


class JsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        detail = {
            404: _("Not found."),
            405: _("Method %(method)s is not allowed here.") % {"method": request.method},
            429: _("Too many requests; try again later."),
        }.get(status, reason_phrase(status) + ".")
        replacement = HttpResponse(
            json.dumps(body(status, detail)), status=status, content_type="application/json"
        )
        # Keep what tells the client how to go on (Retry-After, Allow, WWW-Authenticate...).
        for header, value in response.items():
            if header.lower() not in ("content-type", "content-length"):
                replacement[header] = value
        return replacement
