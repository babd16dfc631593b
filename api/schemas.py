"""What goes in and out of the API. Public ids and slugs only: never a database id."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StringConstraints

from accounts.models import Dependant, DoctorProfile, User
from scheduling import availability, clock
from scheduling.models import Appointment, WaitlistEntry, WaitlistOffer


def _plain_text(value: str) -> str:
    # PostgreSQL refuses NUL in text and a lone surrogate cannot be encoded: refused here
    # as a 422 instead of failing in the database.
    if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError(gettext("It must not contain NUL or surrogate characters."))
    return value


# Text of a person, at most so long: plain str types, so that a type checker reads them too.
NationalIdText = Annotated[
    str, StringConstraints(min_length=1, max_length=40), AfterValidator(_plain_text)
]
SecretText = Annotated[
    str, StringConstraints(min_length=1, max_length=4096), AfterValidator(_plain_text)
]
ReasonText = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_plain_text)]
CancelReasonText = Annotated[str, StringConstraints(max_length=300), AfterValidator(_plain_text)]
SearchText = Annotated[str, StringConstraints(max_length=100), AfterValidator(_plain_text)]
# As the front desk's search page: fewer than two characters find nobody.
PatientQueryText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=100),
    AfterValidator(_plain_text),
]


Slug = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]+$", max_length=80)]
Status = Literal["scheduled", "checked_in", "completed", "cancelled", "no_show"]


# --- Errors -------------------------------------------------------------------------------


class FieldError(Schema):
    loc: list[str]
    msg: str
    type: str


class Opening(Schema):
    slot: uuid.UUID = Field(description="The slot's public id (weekly or extra): book with it.")
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: Literal["free", "taken", "past", "paused"] = Field(
        description="free: bookable; taken: booked by someone; past: too late to book; "
        "paused: the doctor is not taking bookings at the moment."
    )


class Error(Schema):
    detail: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="What went wrong, for a program: stable across versions.")
    errors: list[FieldError] | None = Field(
        None, description="validation_error only: each field that was refused."
    )
    alternatives: list[Opening] | None = Field(
        None, description="slot_taken only: the nearest free times with this doctor."
    )


def opening_out(opening: availability.Opening, *, paused: bool = False) -> dict[str, Any]:
    """`paused`: the doctor takes no bookings, so an opening that would be free is not."""
    return {
        "slot": opening.slot.public_id,
        "date": opening.date,
        "starts_at": opening.starts_at,
        "ends_at": opening.ends_at,
        "state": "paused" if paused and opening.is_free else opening.state,
    }


# --- Auth ---------------------------------------------------------------------------------


class TokenIn(Schema):
    national_id: NationalIdText = Field(description="Spaces and dashes are ignored.")
    password: SecretText


class RefreshIn(Schema):
    refresh: SecretText


class AccessTokenOut(Schema):
    access: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires.")


class TokenPairOut(AccessTokenOut):
    refresh: str
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class MeOut(Schema):
    id: uuid.UUID
    full_name: str
    email: str
    phone: str
    role: Literal["patient", "doctor", "admin", "front_desk"]
    doctor: str | None = Field(None, description="A doctor's slug.")
    branch: str | None = Field(None, description="A front desk's branch (its slug).")


# --- Directory ----------------------------------------------------------------------------


class SpecialtyOut(Schema):
    slug: str
    name: str
    description: str


class BranchOut(Schema):
    slug: str
    name: str
    address: str
    phone: str


class ServiceOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    price: str = Field(description='A decimal amount in `currency`, e.g. "80.00".')
    currency: str = Field(description="ISO 4217 (CLINIC_CURRENCY).")
    branch: str = Field(description="The branch's slug.")
    specialty: str | None = Field(description="The specialty's slug, if any.")
    doctors: list[str] = Field(description="The slugs of the listed doctors who offer it.")


class DependantOut(Schema):
    id: uuid.UUID
    full_name: str
    date_of_birth: dt.date
    relationship: Literal["child", "partner", "parent", "other"]
    active: bool = Field(description="False once removed: no more bookings for them.")


def _iso_date_only(value: object) -> object:
    # JSON has no dates: a number is not one (pydantic's lax mode would read 0 as 1970-01-01).
    if not isinstance(value, (str, dt.date)):
        raise ValueError(gettext("Give the date as YYYY-MM-DD."))
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


class DependantIn(Schema):
    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)
    ]
    date_of_birth: IsoDate
    relationship: Literal["child", "partner", "parent", "other"] = "child"
    national_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = Field(
        "", description="When they have one; it is never shown back."
    )


def dependant_out(d: Dependant) -> dict[str, Any]:
    return {
        "id": d.public_id,
        "full_name": d.full_name,
        "date_of_birth": d.date_of_birth,
        "relationship": d.relationship,
        "active": d.is_active and d.user_id is None,
    }


class AppointmentDependant(Schema):
    id: uuid.UUID
    name: str
    relationship: str


class AppointmentService(Schema):
    id: uuid.UUID
    name: str


class Ref(Schema):
    slug: str
    name: str


class DoctorOut(Schema):
    slug: str
    name: str
    specialty: Ref | None
    branch: Ref | None
    bio: str
    consultation_fee: str = Field(description='A decimal amount, e.g. "80.00".')
    accepting_bookings: bool
    next_free: Opening | None = Field(
        description="The first free opening from now to the booking horizon, as the "
        "directory's card shows it (book it with its `slot` and `date`); null when nothing is "
        "free in that time or the doctor is not taking bookings."
    )


def doctor_out(doctor: DoctorProfile) -> dict[str, Any]:
    """`next_free` is what directory.cards.annotate set on the doctor (None when not read)."""
    found = getattr(doctor, "next_free", None)
    return {
        "slug": doctor.slug,
        "name": doctor.display_name,
        "specialty": doctor.specialty
        and {"slug": doctor.specialty.slug, "name": doctor.specialty.name},
        "branch": doctor.branch and {"slug": doctor.branch.slug, "name": doctor.branch.name},
        "bio": doctor.bio,
        "consultation_fee": f"{doctor.consultation_fee:.2f}",
        "accepting_bookings": doctor.accepting_bookings,
        "next_free": opening_out(found) if found is not None else None,
    }


class DoctorPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DoctorOut]


class DayOut(Schema):
    date: dt.date
    off: bool = Field(description="The doctor takes no bookings on this day (time off).")
    openings: list[Opening]


class AvailabilityOut(Schema):
    doctor: str
    accepting_bookings: bool = Field(
        description="False while the doctor has paused new bookings: nothing can be booked."
    )
    time_zone: str
    start: dt.date
    end: dt.date
    days: list[DayOut]


# --- Appointments -------------------------------------------------------------------------


class Person(Schema):
    id: uuid.UUID
    name: str
    email: str
    phone: str


class AppointmentDoctor(Schema):
    slug: str
    name: str
    specialty: str | None
    branch: str | None


class AppointmentOut(Schema):
    id: uuid.UUID
    status: Status
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    slot: uuid.UUID
    doctor: AppointmentDoctor
    patient: Person
    reason: str
    can_change: bool = Field(description="Can still be cancelled or moved.")
    created_at: dt.datetime
    rescheduled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    completed_at: dt.datetime | None
    no_show_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancelled_by: Literal["patient", "doctor", "clinic"] | None
    cancellation_reason: str
    queue_number: int | None = Field(
        None, description="Today's queue only: the order in which patients checked in."
    )
    dependant: AppointmentDependant | None = Field(
        None,
        description="The family member seen, when the patient booked for one (the patient "
        "holds the appointment and gets the e-mails).",
    )
    service: AppointmentService | None = Field(
        None, description="The service booked; none for a consultation at the doctor's fee."
    )
    price: str | None = Field(
        None,
        description="The price when it was booked, in `currency` (later price changes do not "
        "alter it); none on appointments booked before prices were kept.",
    )
    currency: str


def local(instant: dt.datetime | None) -> dt.datetime | None:
    """An instant with the clinic's UTC offset, as the pages and the webhooks show it."""
    return timezone.localtime(instant, clock.clinic_tz()) if instant else None


def appointment_out(appt: Appointment, *, now: dt.datetime) -> dict[str, Any]:
    doctor = appt.doctor
    cancelled_by = None
    if appt.cancelled_by_id is not None:
        if appt.cancelled_by_id == appt.patient_id:
            cancelled_by = "patient"
        elif appt.cancelled_by_id == doctor.user_id:
            cancelled_by = "doctor"
        else:
            cancelled_by = "clinic"
    patient: User = appt.patient
    service = appt.service
    dependant = appt.dependant
    return {
        "id": appt.public_id,
        "status": appt.status,
        "date": appt.date,
        "starts_at": local(appt.starts_at),
        "ends_at": local(appt.ends_at),
        "slot": appt.slot.public_id,
        "doctor": {
            "slug": doctor.slug,
            "name": doctor.display_name,
            "specialty": doctor.specialty.name if doctor.specialty else None,
            "branch": doctor.branch.name if doctor.branch else None,
        },
        "patient": {
            "id": patient.public_id,
            "name": patient.full_name,
            "email": patient.email,
            "phone": patient.phone,
        },
        "reason": appt.reason,
        "can_change": appt.can_change(now),
        "created_at": local(appt.created_at),
        "rescheduled_at": local(appt.rescheduled_at),
        "checked_in_at": local(appt.checked_in_at),
        "completed_at": local(appt.completed_at),
        "no_show_at": local(appt.no_show_at),
        "cancelled_at": local(appt.cancelled_at),
        "cancelled_by": cancelled_by,
        "cancellation_reason": appt.cancellation_reason,
        "queue_number": getattr(appt, "queue_number", None),
        "service": (
            {"id": service.public_id, "name": service.name} if service is not None else None
        ),
        "dependant": (
            {
                "id": dependant.public_id,
                "name": dependant.full_name,
                "relationship": dependant.relationship,
            }
            if dependant is not None
            else None
        ),
        "price": f"{appt.price:.2f}" if appt.price is not None else None,
        "currency": settings.CLINIC_CURRENCY,
    }


class AppointmentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AppointmentOut]


class BookIn(Schema):
    doctor: Slug = Field(description="The doctor's slug.")
    slot: uuid.UUID = Field(description="A slot id from the doctor's availability.")
    date: dt.date
    reason: ReasonText = ""
    patient: uuid.UUID | None = Field(
        None,
        description="The front desk only: the id of the patient it books for, with a doctor "
        "of its branch. A patient books for themself and leaves it out.",
    )
    dependant: uuid.UUID | None = Field(
        None,
        description="A family member of the patient's (GET /me/family) to book for; the "
        "overlap rule applies to them. Without one the visit is for the patient.",
    )
    service: uuid.UUID | None = Field(
        None,
        description="A service the doctor offers (GET /services); its price now is the one "
        "the appointment keeps. Without one: a consultation at the doctor's fee.",
    )


class CancelIn(Schema):
    reason: CancelReasonText = Field(
        "", description="Required when a doctor or the clinic cancels: the patient is told."
    )


class RescheduleIn(Schema):
    slot: uuid.UUID
    date: dt.date


class AcceptingIn(Schema):
    accepting: StrictBool  # true or false, not 0 or "yes"


class AcceptingOut(Schema):
    accepting: bool


# --- Patients (the front desk) ------------------------------------------------------------


class PatientSearchIn(Schema):
    q: PatientQueryText = Field(
        description="A part of the name or e-mail, the national ID in any spelling (spaces, "
        "dashes; its beginning is enough) or the phone, with or without the country code."
    )


class PatientOut(Person):
    """A patient as the desk finds them: their public id (to book with), how to reach them,
    and their date of birth to tell two namesakes apart. Never the national ID, nor the
    medical history."""

    date_of_birth: dt.date | None
    account: Literal["active", "pending", "deactivated"] = Field(
        description="pending: waiting for an admin; only an active patient can be booked for."
    )


def patient_out(user: User) -> dict[str, Any]:
    profile = getattr(user, "patient_profile", None)
    return {
        "id": user.public_id,
        "name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "date_of_birth": profile.date_of_birth if profile else None,
        "account": "active"
        if user.is_active
        else ("pending" if user.is_pending else "deactivated"),
    }


class PatientPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PatientOut]


# --- Admin --------------------------------------------------------------------------------


class UserOut(Schema):
    id: uuid.UUID
    national_id: str
    full_name: str
    email: str
    phone: str
    role: Literal["patient", "doctor", "admin", "front_desk"]
    is_active: bool
    date_joined: dt.datetime
    activated_at: dt.datetime | None
    deactivated_at: dt.datetime | None


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.public_id,
        "national_id": user.national_id,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "is_active": user.is_active,
        "date_joined": local(user.date_joined),
        "activated_at": local(user.activated_at),
        "deactivated_at": local(user.deactivated_at),
    }


class UserPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[UserOut]


def time_zone() -> str:
    return str(settings.TIME_ZONE)


class WaitlistIn(Schema):
    doctor: Slug = Field(description="The doctor's slug.")
    start_date: IsoDate
    end_date: IsoDate = Field(description="Included; within the booking horizon.")
    earliest: dt.time | None = Field(None, description="Optional: the earliest start.")
    latest: dt.time | None = Field(None, description="Optional: the latest end.")
    dependant: uuid.UUID | None = Field(
        None, description="A family member of the caller's (GET /me/family) it is for."
    )


class WaitlistOfferOut(Schema):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    expires_at: dt.datetime = Field(description="The time is held for the caller until then.")


class WaitlistEntryOut(Schema):
    id: uuid.UUID
    doctor: str = Field(description="The doctor's slug.")
    start_date: dt.date
    end_date: dt.date
    earliest: dt.time | None
    latest: dt.time | None
    status: Literal["waiting", "offered", "booked", "left"]
    dependant: AppointmentDependant | None
    offer: WaitlistOfferOut | None = Field(
        None,
        description="The time held for the caller now, if one is: book it with "
        "POST /waitlist/offers/{id}/claim.",
    )


def waitlist_entry_out(entry: WaitlistEntry, offer: WaitlistOffer | None) -> dict[str, Any]:
    dependant = entry.dependant
    return {
        "id": entry.public_id,
        "doctor": entry.doctor.slug,
        "start_date": entry.start_date,
        "end_date": entry.end_date,
        "earliest": entry.earliest,
        "latest": entry.latest,
        # "offered" is derived: the entry waits, and an offer holds a time for it now.
        "status": entry.shown_status(offer is not None),
        "dependant": (
            {
                "id": dependant.public_id,
                "name": dependant.full_name,
                "relationship": dependant.relationship,
            }
            if dependant is not None
            else None
        ),
        "offer": (
            {
                "id": offer.public_id,
                "starts_at": local(offer.starts_at),
                "ends_at": local(offer.ends_at),
                "expires_at": local(offer.expires_at),
            }
            if offer is not None
            else None
        ),
    }
