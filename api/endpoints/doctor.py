"""The signed-in doctor's own settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from api.endpoints.common import caller, errors, own_doctor_profile
from api.schemas import AcceptingIn, AcceptingOut
from scheduling import services

router = Router(tags=["doctor"])


@router.get(
    "/doctor/accepting-bookings",
    url_name="accepting-bookings",
    response={200: AcceptingOut, **errors(401, 403)},
)
def get_accepting(request: HttpRequest) -> dict[str, Any]:
    return {"accepting": own_doctor_profile(caller(request)).accepting_bookings}


@router.put(
    "/doctor/accepting-bookings",
    url_name="accepting-bookings",
    response={200: AcceptingOut, **errors(401, 403, 422, body=True)},
)
def set_accepting(request: HttpRequest, payload: AcceptingIn) -> dict[str, Any]:
    """Pauses or resumes new bookings; booked appointments stay."""
    doctor = own_doctor_profile(caller(request))
    services.set_accepting_bookings(doctor=doctor, accepting=payload.accepting)
    return {"accepting": payload.accepting}
