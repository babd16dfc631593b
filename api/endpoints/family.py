"""The signed-in patient's family members (dependants), whom they book for."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts import services
from accounts.models import Dependant
from api.endpoints.common import caller, errors, require_patient
from api.errors import ApiError
from api.schemas import DependantIn, DependantOut, dependant_out

router = Router(tags=["family"])


@router.get("/me/family", response={200: list[DependantOut], **errors(401, 403)})
def list_family(request: HttpRequest) -> list[dict[str, Any]]:
    """The family members on the patient's profile: book for one with its `id` as
    `dependant`."""
    user = caller(request)
    require_patient(user)
    return [
        dependant_out(d)
        for d in Dependant.objects.of(user).filter(is_active=True).order_by("full_name", "pk")
    ]


@router.post("/me/family", response={201: DependantOut, **errors(401, 403, body=True)})
def add_family_member(request: HttpRequest, payload: DependantIn) -> Status[dict[str, Any]]:
    user = caller(request)
    require_patient(user)
    dependant = services.add_dependant(
        guardian=user,
        full_name=payload.full_name,
        date_of_birth=payload.date_of_birth,
        relationship=payload.relationship,
        national_id=payload.national_id,
    )
    return Status(201, dependant_out(dependant))


@router.post(
    "/me/family/{dependant_id}/remove",
    response={200: DependantOut, **errors(401, 403, 404, write=True)},
)
def remove_family_member(request: HttpRequest, dependant_id: uuid.UUID) -> dict[str, Any]:
    """No more bookings for them; their appointments stay."""
    user = caller(request)
    dependant = Dependant.objects.of(user).filter(public_id=dependant_id, is_active=True).first()
    if dependant is None:
        raise ApiError(404, "not_found", _("No such family member."))
    return dependant_out(services.remove_dependant(dependant=dependant))
