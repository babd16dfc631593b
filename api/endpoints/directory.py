"""Public reference data: specialties, branches, doctors and their availability."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params.functions import Query

from accounts.models import DoctorProfile
from api.endpoints.common import MAX_LIMIT, MAX_OFFSET, errors
from api.errors import ApiError
from api.schemas import (
    AvailabilityOut,
    BranchOut,
    DoctorOut,
    DoctorPage,
    SearchText,
    ServiceOut,
    Slug,
    SpecialtyOut,
    doctor_out,
    opening_out,
    time_zone,
)
from directory import cards
from directory.models import Branch, Service, Specialty
from directory.selectors import matching
from scheduling import availability, clock

router = Router(tags=["directory"])

# The longest window one availability request may cover.
MAX_AVAILABILITY_DAYS = 31
DEFAULT_AVAILABILITY_DAYS = 14


@router.get("/specialties", auth=None, response={200: list[SpecialtyOut], **errors()})
def list_specialties(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"slug": s.slug, "name": s.name, "description": s.description}
        for s in Specialty.objects.order_by("name")
    ]


@router.get("/branches", auth=None, response={200: list[BranchOut], **errors()})
def list_branches(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"slug": b.slug, "name": b.name, "address": b.address, "phone": b.phone}
        for b in Branch.objects.order_by("name")
    ]


@router.get("/services", auth=None, response={200: list[ServiceOut], **errors(422)})
def list_services(
    request: HttpRequest,
    branch: Slug | None = Query(None, description="A branch's slug."),
    specialty: Slug | None = Query(None, description="A specialty's slug."),
) -> list[dict[str, Any]]:
    """The services on offer with their prices now, in CLINIC_CURRENCY, each with the listed
    doctors who offer it. Book one with its `id` as `service`."""
    services = Service.objects.active().select_related("branch", "specialty")
    # An unknown slug matches nothing: an empty list, as for any filter.
    if branch:
        services = services.filter(branch__slug=branch)
    if specialty:
        services = services.filter(specialty__slug=specialty)
    listed = DoctorProfile.objects.listed().order_by("slug")
    services = services.prefetch_related(Prefetch("doctors", queryset=listed)).order_by(
        "branch__name", "name", "pk"
    )
    return [
        {
            "id": s.public_id,
            "name": s.name,
            "description": s.description,
            "price": f"{s.price:.2f}",
            "currency": settings.CLINIC_CURRENCY,
            "branch": s.branch.slug,
            "specialty": s.specialty.slug if s.specialty else None,
            "doctors": [d.slug for d in s.doctors.all()],
        }
        for s in services
    ]


@router.get("/doctors", auth=None, response={200: DoctorPage, **errors()})
def list_doctors(
    request: HttpRequest,
    specialty: Slug | None = Query(None, description="A specialty's slug."),
    branch: Slug | None = Query(None, description="A branch's slug."),
    q: SearchText = Query(
        "",
        description="Words of a name, a specialty or a branch, as on the directory page: "
        '"Dr. Weber", "weber" and "cardio" all find Dr. Anna Weber.',
    ),
    limit: int = Query(24, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """The doctors a patient can book: active, with a specialty and a branch, each with the
    `next_free` time the directory's card shows (the same reading, for the whole page at
    once: a fixed number of queries whatever the page's size)."""
    doctors = DoctorProfile.objects.listed()
    # An unknown slug matches nobody: an empty page, as for any filter.
    if specialty:
        doctors = doctors.filter(specialty__slug=specialty)
    if branch:
        doctors = doctors.filter(branch__slug=branch)
    q = q.strip()
    if q:
        doctors = matching(doctors, q)
    ordered = doctors.order_by("user__full_name", "slug")
    listed = list(ordered[offset : offset + limit])
    cards.annotate(listed)
    return {
        "count": ordered.count(),
        "limit": limit,
        "offset": offset,
        "items": [doctor_out(d) for d in listed],
    }


def _listed_doctor(slug: str) -> DoctorProfile:
    doctor = DoctorProfile.objects.listed().filter(slug=slug).first()
    if doctor is None:
        raise ApiError(404, "not_found", _("No such doctor."))
    return doctor


@router.get("/doctors/{slug}", auth=None, response={200: DoctorOut, **errors(404, 422)})
def get_doctor(request: HttpRequest, slug: Slug) -> dict[str, Any]:
    doctor = _listed_doctor(slug)
    cards.annotate([doctor])
    return doctor_out(doctor)


@router.get(
    "/doctors/{slug}/availability",
    auth=None,
    response={200: AvailabilityOut, **errors(404, 422)},
)
def doctor_availability(
    request: HttpRequest,
    slug: Slug,
    start: dt.date | None = Query(None, description="First day (default: today)."),
    end: dt.date | None = Query(
        None,
        description=f"Last day, included (default: {DEFAULT_AVAILABILITY_DAYS} days in all); "
        f"at most {MAX_AVAILABILITY_DAYS} days from start, cut at the booking horizon.",
    ),
    free_only: bool = Query(False, description="Only the free openings."),
) -> dict[str, Any]:
    """The doctor's openings day by day, in the clinic's time zone. Book a free one with its
    `slot` and `date`."""
    doctor = _listed_doctor(slug)
    today = clock.today()
    last = availability.horizon_end(today)
    start = start or today
    if start < today:
        raise ApiError(
            422,
            "past_range",
            _("start is before today (%(today)s).") % {"today": today.isoformat()},
        )
    if start > last:
        raise ApiError(
            422,
            "beyond_horizon",
            _("Appointments can be booked up to %(last)s; start is later.")
            % {"last": last.isoformat()},
        )
    if end is None:
        end = start + dt.timedelta(days=DEFAULT_AVAILABILITY_DAYS - 1)
    if end < start:
        raise ApiError(422, "invalid_range", _("end is before start."))
    if (end - start).days >= MAX_AVAILABILITY_DAYS:
        raise ApiError(
            422,
            "range_too_long",
            _("Ask for at most %(days)d days at a time.") % {"days": MAX_AVAILABILITY_DAYS},
        )
    end = min(end, last)
    days = availability.days(doctor, start, end)
    # A paused doctor has no free openings: none would pass the booking's rules.
    paused = not doctor.accepting_bookings
    return {
        "doctor": doctor.slug,
        "accepting_bookings": doctor.accepting_bookings,
        "time_zone": time_zone(),
        "start": start,
        "end": end,
        "days": [
            {
                "date": day.date,
                "off": day.off,
                "openings": [
                    opening_out(o, paused=paused)
                    for o in day.openings
                    if not free_only or (o.is_free and not paused)
                ],
            }
            for day in days
        ],
    }
