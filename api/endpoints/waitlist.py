"""The patient's waitlists: join a doctor's, list and leave them, book a time offered from one.
The rules are scheduling.services'."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts.models import Dependant, DoctorProfile
from api.endpoints.common import caller, errors, require_patient
from api.errors import ApiError
from api.schemas import (
    AppointmentOut,
    WaitlistEntryOut,
    WaitlistIn,
    appointment_out,
    waitlist_entry_out,
)
from scheduling import services
from scheduling.models import Appointment, WaitlistEntry, WaitlistOffer

router = Router(tags=["waitlist"])


def _entries(user: Any) -> Any:
    return WaitlistEntry.objects.for_patient(user).select_related("doctor", "dependant")


@router.get("/waitlist", response={200: list[WaitlistEntryOut], **errors(401, 403)})
def list_waitlist(request: HttpRequest) -> list[dict[str, Any]]:
    """The patient's current waitlist entries (waiting, or holding an offer), with the offer
    that holds a time for them, if any."""
    user = caller(request)
    require_patient(user)
    now = timezone.now()
    entries = list(_entries(user).current().order_by("created_at", "pk"))
    offers = {
        o.entry_id: o
        for o in WaitlistOffer.objects.holding(now).filter(entry__in=[e.pk for e in entries])
    }
    return [waitlist_entry_out(e, offers.get(e.pk)) for e in entries]


@router.post("/waitlist", response={201: WaitlistEntryOut, **errors(401, 403, 409, body=True)})
def join_waitlist(request: HttpRequest, payload: WaitlistIn) -> Status[dict[str, Any]]:
    """Joins a listed doctor's waitlist for the dates from `start_date` to `end_date` (and
    optionally times of day). A time that comes free in them is offered by e-mail and the
    `waitlist.offered` webhook, held for WAITLIST_HOLD_MINUTES."""
    user = caller(request)
    require_patient(user)
    doctor = DoctorProfile.objects.listed().filter(slug=payload.doctor).first()
    if doctor is None:
        raise ApiError(
            422, "unknown_doctor", _("No doctor '%(doctor)s'.") % {"doctor": payload.doctor}
        )
    dependant = None
    if payload.dependant is not None:
        dependant = Dependant.objects.of(user).filter(public_id=payload.dependant).first()
        if dependant is None:
            raise ApiError(
                422,
                "unknown_dependant",
                _("No family member '%(dependant)s'.") % {"dependant": payload.dependant},
            )
    entry = services.join_waitlist(
        patient=user,
        doctor=doctor,
        start_date=payload.start_date,
        end_date=payload.end_date,
        earliest=payload.earliest,
        latest=payload.latest,
        dependant=dependant,
    )
    return Status(201, waitlist_entry_out(_entries(user).get(pk=entry.pk), None))


@router.post(
    "/waitlist/{entry_id}/leave",
    response={200: WaitlistEntryOut, **errors(401, 404, write=True)},
)
def leave_waitlist(request: HttpRequest, entry_id: uuid.UUID) -> dict[str, Any]:
    user = caller(request)
    entry = _entries(user).filter(public_id=entry_id).first()
    if entry is None:
        raise ApiError(404, "not_found", _("No such waitlist entry."))
    services.leave_waitlist(entry=entry, by=user)
    return waitlist_entry_out(_entries(user).get(pk=entry.pk), None)


@router.post(
    "/waitlist/offers/{offer_id}/claim",
    response={201: AppointmentOut, **errors(401, 404, 409, write=True)},
    summary="Book a time held for me",
)
def claim_offer(request: HttpRequest, offer_id: uuid.UUID) -> Status[dict[str, Any]]:
    """Books the time an offer holds for the caller. Claiming again answers the same
    appointment; 409 `offer_expired` once the hold ran out."""
    user = caller(request)
    offer = (
        WaitlistOffer.objects.select_related("doctor")
        .filter(public_id=offer_id, entry__patient=user)
        .first()
    )
    if offer is None:
        raise ApiError(404, "not_found", _("No such offer."))
    made = services.claim_offer(offer=offer, by=user)
    appointment = Appointment.objects.with_people().get(pk=made.pk)
    return Status(201, appointment_out(appointment, now=timezone.now()))
