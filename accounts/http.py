"""The requests our views receive, as the type checker should see them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class HtmxRequest(HttpRequest):
    """Any request: django_htmx's middleware tells whether htmx sent it (`request.htmx`)."""

    htmx: HtmxDetails


class AuthenticatedRequest(HtmxRequest):
    """The request of a view behind @login_required: its user is one of ours, signed in."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user where no decorator says it is signed in (Django admin's hooks):
    anyone else is refused."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user
