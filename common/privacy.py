"""No copy of a signed-in person's pages in any cache: `Cache-Control: private, no-store`.

Appointment pages, profiles, a doctor's patient list and the API's `/me` and appointments
carry medical and personal data; a shared computer's browser cache or a proxy must keep none
of it. Every answer to a request made with a session or a bearer token gets the header,
unless its view set its own Cache-Control (those that do are public pages).

Imports nothing of ours: any app may use it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control


class NoStoreWhenSignedInMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True, no_store=True)
        return response
