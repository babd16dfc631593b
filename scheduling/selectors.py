"""Reads that more than one caller needs (the pages, the API, the services, the commands).

Writes are scheduling.services'; a one-row predicate is a method of its model
(`Appointment.can_change(now)`). A `get_<thing>_for_user` raises Http404 on what the user may
not see: someone else's appointment does not exist for them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import DoctorProfile, User
from accounts.selectors import front_desk_branch_id
from common import rows
from common.rows import columns, instances
from directory.models import Branch, Specialty
from scheduling import clock
from scheduling.models import Appointment, AppointmentQuerySet, Slot, TimeOff

Status = Appointment.Status


def appointments_visible_to(user: User) -> AppointmentQuerySet:
    """The appointments the user may see: a patient's own, a doctor's own, those with the
    doctors of a front desk's branch, and every one for the clinic's admins. With the
    people, the doctor's specialty and branch, and the slot loaded."""
    qs = Appointment.objects.with_people()
    if user.is_clinic_admin:
        return qs
    if user.is_doctor:
        return qs.filter(doctor__user=user)
    if user.is_front_desk:
        branch_id = front_desk_branch_id(user)
        return qs.filter(doctor__branch_id=branch_id) if branch_id else qs.none()
    return qs.filter(patient=user)


def get_appointment_for_user(user: User, public_id: UUID) -> Appointment:
    """The appointment if the user may see it (above); else Http404."""
    try:
        return appointments_visible_to(user).get(public_id=public_id)
    except Appointment.DoesNotExist as exc:
        raise Http404("No such appointment.") from exc


# The doctor page's, the grid's and the booking's reads of a doctor, in plain SQL
# (common.rows): through the ORM, building the query with its three joins cost twenty times
# running it. On PostgreSQL they are prepared statements of the connection (rows.cursor).
# Listed is DoctorProfile.objects.listed(): an active account, a specialty and a branch;
# otherwise the specialty and the branch may be missing (None).
@functools.cache
def _doctor_sql(*, slot: bool, listed: bool) -> str:
    """The slot's columns (when `slot`), then the doctor's, the user's, the specialty's and
    the branch's. Names from the models' metadata, no input."""
    tables = [(DoctorProfile, "d"), (User, "u"), (Specialty, "s"), (Branch, "b")]
    sources = "accounts_doctorprofile d"
    if slot:
        tables.insert(0, (Slot, "sl"))
        sources = "scheduling_slot sl JOIN accounts_doctorprofile d ON d.id = sl.doctor_id"
    select = ", ".join(columns(model, alias) for model, alias in tables)
    join = "JOIN" if listed else "LEFT JOIN"
    return (
        f"SELECT {select} FROM {sources}"  # noqa: S608
        f" JOIN accounts_user u ON u.id = d.user_id{' AND u.is_active' if listed else ''}"
        f" {join} directory_specialty s ON s.id = d.specialty_id"
        f" {join} directory_branch b ON b.id = d.branch_id"
    )


def _doctor_from(row: tuple[Any, ...], *before: type[Model]) -> list[Any]:
    """The instances of `before`, then the doctor with the user, specialty and branch."""
    *found, doctor, user, specialty, branch = instances(
        row, *before, DoctorProfile, User, Specialty, Branch
    )
    doctor.user, doctor.specialty, doctor.branch = user, specialty, branch
    return [*found, doctor]


def _slot_from(row: tuple[Any, ...] | None) -> Slot | None:
    if row is None:
        return None
    slot, doctor = _doctor_from(row, Slot)
    slot.doctor = doctor
    found: Slot = slot
    return found


def listed_doctor(slug: str) -> DoctorProfile | None:
    """The listed doctor with that slug, with the user, specialty and branch; else None."""
    with rows.cursor() as cursor:
        cursor.execute(_doctor_sql(slot=False, listed=True) + " WHERE d.slug = %s", [slug])
        row = cursor.fetchone()
    return None if row is None else _doctor_from(row)[0]


def listed_doctor_slot(slug: str, slot_public_id: UUID) -> Slot | None:
    """The slot (active or not) of the listed doctor with that slug, with the doctor as
    `listed_doctor` reads them; else None."""
    public_id = Slot._meta.get_field("public_id").get_db_prep_value(slot_public_id, connection)
    with rows.cursor() as cursor:
        cursor.execute(
            _doctor_sql(slot=True, listed=True) + " WHERE sl.public_id = %s AND d.slug = %s",
            [public_id, slug],
        )
        return _slot_from(cursor.fetchone())


def slot_locking_doctor(slot_pk: int, doctor_pk: int) -> Slot | None:
    """The doctor's slot with the doctor (user, specialty, branch), the doctor's row locked
    FOR NO KEY UPDATE on PostgreSQL (SQLite serialises every writer); None when the slot is
    not the doctor's. In the caller's transaction."""
    lock = " FOR NO KEY UPDATE OF d" if connection.features.has_select_for_no_key_update else ""
    with rows.cursor() as cursor:
        cursor.execute(
            _doctor_sql(slot=True, listed=False) + " WHERE sl.id = %s AND sl.doctor_id = %s" + lock,
            [slot_pk, doctor_pk],
        )
        return _slot_from(cursor.fetchone())


def user_locked(pk: int) -> User:
    """The user's row, locked FOR UPDATE on PostgreSQL (SQLite serialises every writer), in
    plain SQL as the booking's other reads; the caller's transaction."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(User, 'u')} FROM accounts_user u WHERE u.id = %s{lock}",  # noqa: S608
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise User.DoesNotExist
    user: User = instances(row, User)[0]
    return user


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
    doctor: DoctorProfile,
    start_date: dt.date,
    end_date: dt.date,
    *,
    now: dt.datetime,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
) -> list[Appointment]:
    """The doctor's scheduled appointments still to start on those days, or, with the times,
    in those hours of each day (time off would cancel them), with their patients."""
    booked = Appointment.objects.filter(
        doctor=doctor,
        status=Status.SCHEDULED,
        date__gte=start_date,
        date__lte=end_date,
        starts_at__gt=now,
    )
    if start_time is not None and end_time is not None:
        booked = booked.filter(slot__start_time__lt=end_time, slot__end_time__gt=start_time)
    return list(booked.select_related("patient").order_by("starts_at"))


def todays_queue(doctor: DoctorProfile, *, now: dt.datetime | None = None) -> list[Appointment]:
    """Today's appointments in slot order; checked-in patients numbered in check-in order
    (`queue_number`, None for the others)."""
    now = now or timezone.now()
    today = timezone.localdate(now, clock.clinic_tz())
    appts = list(
        Appointment.objects.filter(doctor=doctor, date=today)
        .holding_slot()
        .select_related("patient", "dependant", "slot", "service")
        .order_by("starts_at")
    )
    arrived = sorted(
        (a for a in appts if a.checked_in_at is not None), key=attrgetter("checked_in_at")
    )
    numbers = {a.pk: n for n, a in enumerate(arrived, start=1)}
    for a in appts:
        a.queue_number = numbers.get(a.pk)
    return appts


def patients_of(doctor: DoctorProfile) -> QuerySet[User]:
    """The doctor's own patients: those with an appointment with them that was not cancelled."""
    seen = Appointment.objects.filter(doctor=doctor).holding_slot()
    patients: QuerySet[User] = (
        User.objects.filter(pk__in=seen.values("patient_id"))
        .select_related("patient_profile")
        .order_by("full_name")
    )
    return patients


# --- The doctor's own calendar ----------------------------------------------------------

TimeRange = tuple[dt.time, dt.time]


def merge_ranges(slots: list[Slot]) -> list[TimeRange]:
    """Back-to-back slots as one range: 09:00-09:20, 09:20-09:40 -> 09:00-09:40."""
    ranges: list[TimeRange] = []
    for slot in sorted(slots, key=lambda s: s.start_time):
        if ranges and ranges[-1][1] == slot.start_time:
            ranges[-1] = (ranges[-1][0], slot.end_time)
        else:
            ranges.append((slot.start_time, slot.end_time))
    return ranges


def current_hours(doctor: DoctorProfile) -> tuple[dict[int, list[TimeRange]], int | None]:
    """The doctor's weekly hours as ranges per weekday, and their usual visit length in
    minutes (None without weekly slots): what the working-hours form starts from."""
    weekly = list(Slot.objects.active().weekly().filter(doctor=doctor))
    by_day: dict[int, list[Slot]] = {}
    for slot in weekly:
        by_day.setdefault(slot.weekday, []).append(slot)
    lengths = Counter(int(s.duration.total_seconds() // 60) for s in weekly)
    visit = lengths.most_common(1)[0][0] if lengths else None
    return {day: merge_ranges(slots) for day, slots in sorted(by_day.items())}, visit


def upcoming_extra_slots(doctor: DoctorProfile, today: dt.date) -> list[Slot]:
    return list(
        Slot.objects.active()
        .extra_dates()
        .filter(doctor=doctor, date__gte=today)
        .order_by("date", "start_time")
    )


@dataclass
class CalendarDay:
    """One day of the doctor's own calendar: their hours, absences and appointments."""

    date: dt.date
    is_today: bool
    hours: list[TimeRange] = field(default_factory=list)
    extra_hours: list[TimeRange] = field(default_factory=list)
    absences: list[TimeOff] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def whole_day_off(self) -> bool:
        return any(not t.is_part_day for t in self.absences)


def doctor_calendar(
    doctor: DoctorProfile, start: dt.date, end: dt.date, *, today: dt.date
) -> list[CalendarDay]:
    """Every day from start to end with the doctor's hours, time off and the appointments
    that are not cancelled (with their patients): three queries."""
    slots = list(
        Slot.objects.active()
        .filter(doctor=doctor)
        .filter(Q(date__isnull=True) | Q(date__gte=start, date__lte=end))
    )
    absences = list(
        TimeOff.objects.active()
        .filter(doctor=doctor, start_date__lte=end, end_date__gte=start)
        .order_by("start_date", "start_time")
    )
    appointments = list(
        Appointment.objects.holding_slot()
        .filter(doctor=doctor, date__gte=start, date__lte=end)
        .select_related("patient", "dependant")
        .order_by("starts_at")
    )
    days = []
    date = start
    while date <= end:
        day = CalendarDay(date=date, is_today=date == today)
        weekly = [s for s in slots if s.date is None and s.weekday == date.weekday()]
        day.hours = merge_ranges(weekly)
        day.extra_hours = merge_ranges([s for s in slots if s.date == date])
        day.absences = [t for t in absences if t.start_date <= date <= t.end_date]
        day.appointments = [a for a in appointments if a.date == date]
        days.append(day)
        date += dt.timedelta(days=1)
    return days


def queue_number(appointment: Appointment) -> int | None:
    """The appointment's place in its doctor's queue that day: patients are numbered in the
    order they checked in (ties in slot order), as `todays_queue` numbers them."""
    checked_in_at = appointment.checked_in_at
    if checked_in_at is None or appointment.status == Appointment.Status.CANCELLED:
        return None
    return (
        Appointment.objects.holding_slot()
        .filter(doctor_id=appointment.doctor_id, date=appointment.date)
        .filter(
            Q(checked_in_at__lt=checked_in_at)
            | Q(checked_in_at=checked_in_at, starts_at__lte=appointment.starts_at)
        )
        .count()
    )


# --- The front desk ------------------------------------------------------------------------


def branch_doctors(branch_id: int) -> QuerySet[DoctorProfile]:
    """The active doctors of the branch a front desk books with, by name."""
    return (
        DoctorProfile.objects.filter(
            branch_id=branch_id, user__is_active=True, specialty__isnull=False
        )
        .select_related("user", "specialty", "branch")
        .order_by("user__full_name")
    )


@dataclass
class DoctorDay:
    doctor: DoctorProfile
    queue: list[Appointment] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return sum(1 for a in self.queue if a.status == Appointment.Status.CHECKED_IN)


def branch_day(branch_id: int, *, now: dt.datetime | None = None) -> list[DoctorDay]:
    """Every doctor of the branch with today's queue: appointments in slot order, checked-in
    patients numbered in check-in order (`queue_number`), per doctor. Two queries whatever
    the number of doctors."""
    now = now or timezone.now()
    today = timezone.localdate(now, clock.clinic_tz())
    days = {d.pk: DoctorDay(d) for d in branch_doctors(branch_id)}
    appts = (
        Appointment.objects.filter(doctor_id__in=list(days), date=today)
        .holding_slot()
        .select_related("patient", "dependant", "slot", "service")
        .order_by("starts_at")
    )
    for a in appts:
        days[a.doctor_id].queue.append(a)
    for day in days.values():
        arrived = sorted(
            (a for a in day.queue if a.checked_in_at is not None), key=attrgetter("checked_in_at")
        )
        numbers = {a.pk: n for n, a in enumerate(arrived, start=1)}
        for a in day.queue:
            a.queue_number = numbers.get(a.pk)
            a.doctor = day.doctor
    return list(days.values())


def patient_appointments_at_branch(
    patient: User, branch_id: int, *, now: dt.datetime | None = None
) -> tuple[list[Appointment], list[Appointment]]:
    """The patient's upcoming and (the last 20) past appointments with the branch's doctors:
    what its front desk sees of them."""
    now = now or timezone.now()
    theirs = Appointment.objects.for_patient(patient).filter(doctor__branch_id=branch_id)
    theirs = theirs.with_people()
    return (
        list(theirs.upcoming(now).order_by("starts_at")),
        list(theirs.past(now).order_by("-starts_at")[:20]),
    )
