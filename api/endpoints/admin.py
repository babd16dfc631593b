"""For the clinic's admins: accounts waiting for activation, activate, deactivate. Through
accounts.services, as Django admin's actions."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params.functions import Query

from accounts import services
from accounts.models import User
from api.endpoints.common import MAX_LIMIT, MAX_OFFSET, caller, errors, page, require_admin
from api.errors import ApiError
from api.schemas import UserOut, UserPage, user_out

router = Router(tags=["admin"])


def _user(user_id: uuid.UUID) -> User:
    user: User | None = User.objects.filter(public_id=user_id).first()
    if user is None:
        raise ApiError(404, "not_found", _("No such user."))
    return user


@router.get("/admin/users/pending", response={200: UserPage, **errors(401, 403, 422)})
def pending_users(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Accounts that registered and wait for an admin, oldest first."""
    require_admin(caller(request))
    qs = User.objects.pending().order_by("date_joined", "pk")
    return page(qs, limit=limit, offset=offset, render=user_out)


@router.post(
    "/admin/users/{user_id}/activate", response={200: UserOut, **errors(401, 403, 404, write=True)}
)
def activate(request: HttpRequest, user_id: uuid.UUID) -> dict[str, Any]:
    """Lets the user in (and gives them the profile of their role). Activating an active
    account changes nothing."""
    require_admin(caller(request))
    user = _user(user_id)
    services.activate(user=user)
    user.refresh_from_db()
    return user_out(user)


@router.post(
    "/admin/users/{user_id}/deactivate",
    response={200: UserOut, **errors(401, 403, 404, 409, write=True)},
)
def deactivate(request: HttpRequest, user_id: uuid.UUID) -> dict[str, Any]:
    """Locks the user out; every row stays. An admin cannot lock themselves out."""
    admin = caller(request)
    require_admin(admin)
    user = _user(user_id)
    if user.pk == admin.pk:
        raise ApiError(409, "own_account", _("You cannot deactivate your own account."))
    services.deactivate(user=user)
    user.refresh_from_db()
    return user_out(user)
