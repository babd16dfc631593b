"""The caller's appointments: list, book (with an Idempotency-Key), cancel, reschedule, and
the visit's states for its doctor. Every rule is scheduling.services'; a view here only
finds the objects the caller may see and maps the answers."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.params.functions import Header, Query
from pydantic import StringConstraints

from accounts.models import Dependant, DoctorProfile, User
from api import idempotency
from api.endpoints.common import (
    MAX_LIMIT,
    MAX_OFFSET,
    caller,
    errors,
    own_doctor_profile,
    page,
    require_patient,
)
from api.errors import ApiError
from api.schemas import (
    AppointmentOut,
    AppointmentPage,
    BookIn,
    CancelIn,
    RescheduleIn,
    appointment_out,
)
from directory.models import Service
from scheduling import selectors, services
from scheduling.models import Appointment, Slot

router = Router(tags=["appointments"])

# Printable ASCII without spaces: a UUID, a ULID or any client-made string.
IdempotencyKeyHeader = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,255}$")]


def _find(user: User, public_id: uuid.UUID) -> Appointment:
    # Someone else's appointment is a 404, as on the pages: its existence is not told.
    return selectors.get_appointment_for_user(user, public_id)


@router.get(
    "/appointments", url_name="appointments", response={200: AppointmentPage, **errors(401, 422)}
)
def list_appointments(
    request: HttpRequest,
    when: Literal["upcoming", "past", "all"] = Query(
        "upcoming", description="upcoming: open and not over; past: the rest."
    ),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """A patient's appointments, a doctor's appointments with their patients, or (for an
    admin) all of the clinic's. Upcoming ones soonest first, past ones latest first."""
    user = caller(request)
    now = timezone.now()
    qs = selectors.appointments_visible_to(user)
    if when == "upcoming":
        qs = qs.upcoming(now).order_by("starts_at", "pk")
    elif when == "past":
        qs = qs.past(now).order_by("-starts_at", "-pk")
    else:
        qs = qs.order_by("-starts_at", "-pk")
    return page(qs, limit=limit, offset=offset, render=lambda a: appointment_out(a, now=now))


@router.get(
    "/appointments/{appointment_id}",
    url_name="appointment",
    response={200: AppointmentOut, **errors(401, 404)},
)
def get_appointment(request: HttpRequest, appointment_id: uuid.UUID) -> dict[str, Any]:
    user = caller(request)
    return appointment_out(_find(user, appointment_id), now=timezone.now())


def _fingerprint(payload: BookIn) -> str:
    canonical = json.dumps(
        {
            "doctor": payload.doctor,
            "slot": str(payload.slot),
            "date": payload.date.isoformat(),
            "reason": payload.reason.strip(),
            "patient": str(payload.patient or ""),
            # Only when given: keys of bookings made before services stay the same.
            **({"service": str(payload.service)} if payload.service else {}),
            **({"dependant": str(payload.dependant)} if payload.dependant else {}),
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _patient_to_book_for(user: User, payload: BookIn) -> User:
    if payload.patient is None:
        require_patient(user)
        return user
    if not user.is_front_desk:
        raise ApiError(403, "front_desk_only", _("Only the front desk books for someone else."))
    patient: User | None = User.objects.patients().filter(public_id=payload.patient).first()
    if patient is None:
        raise ApiError(
            422, "unknown_patient", _("No patient '%(patient)s'.") % {"patient": payload.patient}
        )
    return patient


@router.post(
    "/appointments",
    url_name="appointments",
    response={201: AppointmentOut, **errors(401, 403, 409, 422, body=True)},
    summary="Book an appointment",
)
def book(
    request: HttpRequest,
    response: HttpResponse,
    payload: BookIn,
    idempotency_key: IdempotencyKeyHeader | None = Header(
        None,
        alias="Idempotency-Key",
        description="Any unique string (a UUID): sending the same request again with the same "
        "key returns the same appointment instead of booking twice.",
    ),
) -> Status[dict[str, Any]]:
    """Books a free opening from the doctor's availability for the signed-in patient, or
    (the front desk, with `patient`) for a patient with a doctor of the desk's branch.
    409 `slot_taken` (with `alternatives`) when someone was faster."""
    user = caller(request)
    patient = _patient_to_book_for(user, payload)
    fingerprint = _fingerprint(payload)
    if idempotency_key is not None:
        # A replay answers what the first request got, even if the doctor has since left
        # the directory or the slot was retired.
        made = idempotency.earlier(user=user, key=idempotency_key, fingerprint=fingerprint)
        if made is not None:
            response["Idempotent-Replayed"] = "true"
            made = Appointment.objects.with_people().get(pk=made.pk)
            return Status(201, appointment_out(made, now=timezone.now()))
    doctor = DoctorProfile.objects.listed().filter(slug=payload.doctor).first()
    if doctor is None:
        raise ApiError(
            422, "unknown_doctor", _("No doctor '%(doctor)s'.") % {"doctor": payload.doctor}
        )
    slot = Slot.objects.filter(doctor=doctor, public_id=payload.slot).first()
    if slot is None:
        raise ApiError(422, "bad_slot", _("That slot is not one of this doctor's."))
    dependant = None
    if payload.dependant is not None:
        dependant = Dependant.objects.of(patient).filter(public_id=payload.dependant).first()
        if dependant is None:
            raise ApiError(
                422,
                "unknown_dependant",
                _("No family member '%(dependant)s'.") % {"dependant": payload.dependant},
            )
    service = None
    if payload.service is not None:
        service = Service.objects.filter(public_id=payload.service).first()
        if service is None:
            detail = _("No service '%(service)s'.") % {"service": payload.service}
            raise ApiError(422, "unknown_service", detail)

    def make() -> Appointment:
        return services.book(
            patient=patient,
            doctor=doctor,
            slot=slot,
            date=payload.date,
            reason=payload.reason,
            by=user,
            service=service,
            dependant=dependant,
        )

    if idempotency_key is None:
        appointment = make()
    else:
        appointment, replayed = idempotency.once(
            user=user, key=idempotency_key, fingerprint=fingerprint, action=make
        )
        if replayed:
            response["Idempotent-Replayed"] = "true"
    appointment = Appointment.objects.with_people().get(pk=appointment.pk)
    return Status(201, appointment_out(appointment, now=timezone.now()))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **errors(401, 403, 404, 409, 422, body=True)},
)
def cancel(
    request: HttpRequest, appointment_id: uuid.UUID, payload: CancelIn | None = None
) -> dict[str, Any]:
    """Cancels before the start; the time is free again at once. Cancelling a cancelled
    appointment changes nothing. A doctor or admin gives the patient a `reason`."""
    user = caller(request)
    appointment = _find(user, appointment_id)
    reason = payload.reason if payload else ""
    services.cancel(appointment=appointment, by=user, reason=reason)
    return appointment_out(_find(user, appointment_id), now=timezone.now())


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **errors(401, 403, 404, 409, 422, body=True)},
)
def reschedule(
    request: HttpRequest, appointment_id: uuid.UUID, payload: RescheduleIn
) -> dict[str, Any]:
    """Moves the appointment to another free opening of the same doctor (same id). If the
    new time is taken, nothing changes."""
    user = caller(request)
    appointment = _find(user, appointment_id)
    slot = Slot.objects.filter(doctor=appointment.doctor, public_id=payload.slot).first()
    if slot is None:
        raise ApiError(422, "bad_slot", _("That slot is not one of this doctor's."))
    services.reschedule(appointment=appointment, by=user, slot=slot, date=payload.date)
    return appointment_out(_find(user, appointment_id), now=timezone.now())


def _transition(request: HttpRequest, appointment_id: uuid.UUID, action: str) -> dict[str, Any]:
    user = caller(request)
    appointment = _find(user, appointment_id)
    front_desk = action != "complete" and services.is_front_desk_for(appointment, user)
    if not (services.is_staff_for(appointment, user) or front_desk):
        raise ApiError(403, "staff_only", _("Only the appointment's doctor can do this."))
    services.VISIT_ACTIONS[action](appointment=appointment, by=user)
    changed = _find(user, appointment_id)
    # The number the patient gets in today's queue, as the queue shows it.
    changed.queue_number = selectors.queue_number(changed)
    return appointment_out(changed, now=timezone.now())


_STAFF_ERRORS = errors(401, 403, 404, 409, write=True)


@router.post(
    "/appointments/{appointment_id}/check-in", response={200: AppointmentOut, **_STAFF_ERRORS}
)
def check_in(request: HttpRequest, appointment_id: uuid.UUID) -> dict[str, Any]:
    """The patient has arrived (the doctor, or the front desk of the doctor's branch, on the
    day of the appointment)."""
    return _transition(request, appointment_id, "check-in")


@router.post(
    "/appointments/{appointment_id}/complete", response={200: AppointmentOut, **_STAFF_ERRORS}
)
def complete(request: HttpRequest, appointment_id: uuid.UUID) -> dict[str, Any]:
    """The visit is over (the doctor; a scheduled one from its start)."""
    return _transition(request, appointment_id, "complete")


@router.post(
    "/appointments/{appointment_id}/no-show", response={200: AppointmentOut, **_STAFF_ERRORS}
)
def no_show(request: HttpRequest, appointment_id: uuid.UUID) -> dict[str, Any]:
    """The patient did not come (the doctor, or the front desk of the doctor's branch, from
    the start)."""
    return _transition(request, appointment_id, "no-show")


@router.get("/doctor/queue", response={200: list[AppointmentOut], **errors(401, 403)})
def todays_queue(request: HttpRequest) -> list[dict[str, Any]]:
    """The signed-in doctor's appointments today in slot order; checked-in patients carry
    their `queue_number`."""
    doctor = own_doctor_profile(caller(request))
    now = timezone.now()
    queue = selectors.todays_queue(doctor, now=now)
    # todays_queue loads patients and slots; the doctor is the caller's own profile.
    for appt in queue:
        appt.doctor = doctor
    return [appointment_out(a, now=now) for a in queue]
