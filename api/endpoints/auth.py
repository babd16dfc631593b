"""POST /auth/token and /auth/refresh; GET /me."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from accounts import normalise
from accounts.models import User
from api import tokens
from api.endpoints.common import caller, errors
from api.errors import ApiError
from api.schemas import AccessTokenOut, MeOut, RefreshIn, TokenIn, TokenPairOut

router = Router(tags=["auth"])


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenPairOut, **errors(401, 403, 422, body=True)},
    summary="Get an access and a refresh token",
)
def token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    """Sign in with a national ID and password. The access token (1 hour) goes in
    `Authorization: Bearer <token>`; the refresh token (1 day) gets new access tokens."""
    national_id = normalise.national_id(payload.national_id)
    # `username`, as the login page passes it: the login lockout (django-axes) counts the
    # failures of this national ID from this address across the page and the API alike, and
    # past the limit the answer is a 429 (JSON under /api/, by api.middleware).
    user = authenticate(request, username=national_id, password=payload.password)
    if user is None:
        # Django's backend refuses an inactive user like a wrong password; tell them apart
        # only for someone who knows the password, as the login page does.
        waiting = User.objects.filter(national_id=national_id, is_active=False).first()
        if waiting is not None and waiting.check_password(payload.password):
            raise ApiError(
                403, "inactive", _("This account is not active: the clinic activates new accounts.")
            )
        raise ApiError(401, "invalid_credentials", _("Wrong national ID or password."))
    # A sign-in like the page's (no session: the tokens are the proof): the audit trail
    # records it, the lockout forgets earlier failures, last_login moves.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    access, access_seconds = tokens.issue(user, tokens.ACCESS)
    refresh, refresh_seconds = tokens.issue(user, tokens.REFRESH)
    return {
        "access": access,
        "token_type": "Bearer",
        "expires_in": access_seconds,
        "refresh": refresh,
        "refresh_expires_in": refresh_seconds,
    }


@router.post(
    "/auth/refresh",
    auth=None,
    response={200: AccessTokenOut, **errors(401, 422, body=True)},
    summary="Get a new access token with a refresh token",
)
def refresh(request: HttpRequest, payload: RefreshIn) -> dict[str, Any]:
    """The refresh token keeps its own expiry: after a day, sign in again."""
    user = tokens.user_for(payload.refresh.strip(), tokens.REFRESH)
    access, seconds = tokens.issue(user, tokens.ACCESS)
    return {"access": access, "token_type": "Bearer", "expires_in": seconds}


@router.get("/me", response={200: MeOut, **errors(401)}, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = caller(request)
    profile = getattr(user, "doctor_profile", None) if user.is_doctor else None
    desk = getattr(user, "front_desk_profile", None) if user.is_front_desk else None
    return {
        "id": user.public_id,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "doctor": profile.slug if profile else None,
        "branch": desk.branch.slug if desk is not None and desk.branch_id else None,
    }
