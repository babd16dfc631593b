"""The login lockout's pieces (django-axes) and the idle timeout of staff sessions.

Who the client is: `common.client`; the rate limits: `common.ratelimit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import normalise
from accounts.forms import LoginForm

# --- Login lockout (django-axes) -----------------------------------------------------------


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The national ID the lockout counts failures for, in its one canonical form: "300
    000-001" and "300000001" are the same account, so they share one counter."""
    credentials = credentials or {}
    # Django's login form passes `username`; a caller may name the field (`national_id`), as
    # ModelBackend allows.
    raw = credentials.get("username") or credentials.get("national_id")
    if raw is None:
        raw = request.POST.get("username", "")
    return normalise.national_id(str(raw))[:100]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The login page again, with the reason, as 429 Too Many Requests and a Retry-After."""
    seconds = int(get_cool_off(request).total_seconds())
    form = LoginForm(request, data=None, initial={"username": request.POST.get("username", "")})
    response = render(
        request,
        "accounts/login.html",
        {"form": form, "locked_out": True, "lockout_minutes": seconds // 60, "next": ""},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


# --- Sessions ------------------------------------------------------------------------------


class StaffSessionTimeoutMiddleware:
    """Admins' sessions end after STAFF_SESSION_IDLE_SECONDS without a request.

    Setting the expiry on every request marks the session modified, so it is saved with a new
    expiry date: idle time, not time since login. Patients' and doctors' sessions keep
    SESSION_COOKIE_AGE from their last change (the login).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first of AUTHENTICATION_BACKENDS; it logs nobody in, and
    Django's ModelBackend after it stays the one that checks passwords and refuses inactive
    users (so the sessions of deactivated users end).

    An authenticate() call without a request (the test client's login(), a script) has no
    client to count failures for and is let through to ModelBackend: every login over HTTP
    passes its request (Django's LoginView and admin login do; so must any new one).
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
