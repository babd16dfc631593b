"""Reads that more than one caller needs (the pages, the API, the services, the commands).

Writes are scheduling.services'; a one-row predicate is a method of its model
(`Appointment.can_change(now)`). A `get_<thing>_for_user` raises Http404 on what the user may
not see: someone else's appointment does not exist for them.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import DoctorProfile, User
from scheduling import clock
from scheduling.models import Appointment, AppointmentQuerySet

Status = Appointment.Status


def appointments_visible_to(user: User) -> AppointmentQuerySet:
    """The appointments the user takes part in: a patient's own, a doctor's own, and every
    one for the clinic's admins. With the people, the doctor's specialty and branch, and the
    slot loaded."""
    qs = Appointment.objects.with_people()
    if user.is_clinic_admin:
        return qs
    if user.is_doctor:
        return qs.filter(doctor__user=user)
    return qs.filter(patient=user)


def get_appointment_for_user(user: User, public_id: UUID) -> Appointment:
    """The appointment if the user is its patient, its doctor or an admin; else Http404."""
    try:
        return appointments_visible_to(user).get(public_id=public_id)
    except Appointment.DoesNotExist as exc:
        raise Http404("No such appointment.") from exc


def doctor_profile_of(user: User) -> DoctorProfile | None:
    """The doctor's own profile; None for anyone else, or a doctor whose profile is not set
    up yet."""
    if not user.is_doctor:
        return None
    return (
        DoctorProfile.objects.select_related("user", "specialty", "branch")
        .filter(user=user)
        .first()
    )


def slots_in_use(doctor: DoctorProfile, *, now: dt.datetime) -> set[int]:
    """The ids of the doctor's slots that upcoming appointments hold: these cannot be retired
    (scheduling.services.deactivate_slot)."""
    return set(
        Appointment.objects.upcoming(now).filter(doctor=doctor).values_list("slot_id", flat=True)
    )


def appointments_during(
    doctor: DoctorProfile, start_date: dt.date, end_date: dt.date, *, now: dt.datetime
) -> list[Appointment]:
    """The doctor's scheduled appointments still to start on those days (time off would
    cancel them)."""
    return list(
        Appointment.objects.filter(
            doctor=doctor,
            status=Status.SCHEDULED,
            date__gte=start_date,
            date__lte=end_date,
            starts_at__gt=now,
        ).select_related("patient")
    )


def todays_queue(doctor: DoctorProfile, *, now: dt.datetime | None = None) -> list[Appointment]:
    """Today's appointments in slot order; checked-in patients numbered in check-in order
    (`queue_number`, None for the others)."""
    now = now or timezone.now()
    today = timezone.localdate(now, clock.clinic_tz())
    appts = list(
        Appointment.objects.filter(doctor=doctor, date=today)
        .holding_slot()
        .select_related("patient", "slot")
        .order_by("starts_at")
    )
    arrived = sorted(
        (a for a in appts if a.checked_in_at is not None), key=lambda a: a.checked_in_at
    )
    numbers = {a.pk: n for n, a in enumerate(arrived, start=1)}
    for a in appts:
        a.queue_number = numbers.get(a.pk)
    return appts


def patients_of(doctor: DoctorProfile) -> QuerySet[User]:
    """The doctor's own patients: those with an appointment with them that was not cancelled."""
    seen = Appointment.objects.filter(doctor=doctor).holding_slot()
    return (
        User.objects.filter(pk__in=seen.values("patient_id"))
        .select_related("patient_profile")
        .order_by("full_name")
    )
