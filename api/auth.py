"""Who is calling: a bearer token (api.tokens) or a signed-in browser session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from api import tokens
from api.errors import ApiError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class BearerToken(HttpBearer):
    """`Authorization: Bearer <access token>`. A token that is present but wrong is a 401
    saying why (expired, revoked...), not a silent fall back to the session."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return tokens.user_for(token.strip(), tokens.ACCESS)


class BrowserSession(APIKeyCookie):
    """The Django session of a signed-in browser, with Django's CSRF check on unsafe
    methods (the page sends the csrftoken cookie's value as X-CSRFToken)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # csrf=True tells the docs page to send the X-CSRFToken header.
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # Not ninja's check, which would refuse an anonymous POST with a 403 before anyone
        # knows that nobody is signed in: ours (below) runs for a signed-in session only.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(
                403,
                "csrf_failed",
                _(
                    "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken "
                    "header, or use a bearer token."
                ),
            )
        return user


bearer = BearerToken()
session = BrowserSession()
