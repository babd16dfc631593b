"""Helpers the endpoints share: the caller, role checks, pages, the documented errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import DoctorProfile, User
from api.errors import ApiError
from api.schemas import Error
from scheduling import selectors

MAX_LIMIT = 100
# Deep offsets are for crawlers; a client pages by date instead.
MAX_OFFSET = 100_000


def errors(*statuses: int, body: bool = False, write: bool = False) -> dict[int, type[Error]]:
    """The error answers an operation documents (each is an Error body): these, 422 for a
    parameter that does not validate, 400 for a body that is not JSON, and 429 for a write
    (POST, PUT) over the rate limit."""
    extra = {422} | ({400} if body else set()) | ({429} if body or write else set())
    return dict.fromkeys(sorted({*statuses, *extra}), Error)


def caller(request: HttpRequest) -> User:
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise ApiError(401, "not_authenticated", _("Sign in first."))
    return user


def require_patient(user: User) -> None:
    if not user.is_patient:
        raise ApiError(403, "patients_only", _("Only patient accounts can do this."))


def require_admin(user: User) -> None:
    if not user.is_clinic_admin:
        raise ApiError(403, "admins_only", _("Only the clinic's admins can do this."))


def require_front_desk_or_admin(user: User) -> None:
    """An admin, or a front desk attached to a branch (as the desk's pages require)."""
    if user.is_clinic_admin:
        return
    if not user.is_front_desk:
        raise ApiError(
            403, "front_desk_only", _("Only the front desk and the clinic's admins can do this.")
        )
    if account_selectors.front_desk_branch_id(user) is None:
        raise ApiError(403, "no_branch", _("Your account is not attached to a branch yet."))


def own_doctor_profile(user: User) -> DoctorProfile:
    if not user.is_doctor:
        raise ApiError(403, "doctors_only", _("Only doctors can do this."))
    profile = selectors.doctor_profile_of(user)
    if profile is None:
        raise ApiError(403, "no_doctor_profile", _("Your doctor profile is not set up yet."))
    return profile


def page(
    qs: QuerySet[Any],
    *,
    limit: int,
    offset: int,
    render: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [render(obj) for obj in qs[offset : offset + limit]],
    }
