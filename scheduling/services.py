"""Scheduling rules: booking, cancelling, rescheduling, the visit's states, slots, time off.

The HTML views, Django admin, the management commands and the API all call these; none of
them re-checks a rule. Each write runs in one transaction and announces itself through
`scheduling.events.publish` inside it; one that changes a doctor's openings also calls
`availability.changed`, which retires the doctor's cached grid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import DoctorProfile, User
from scheduling import availability, clock, events, selectors
from scheduling.errors import NotAllowed, SchedulingError, SlotTaken
from scheduling.models import Appointment, Slot, TimeOff

Status = Appointment.Status


def _offering_alternatives(
    of: DoctorProfile, now: dt.datetime, write: Any, **kwargs: Any
) -> Appointment:
    """Runs the write (its own transaction); a SlotTaken it raises gets the nearest free times
    only after that transaction ended, so the locks it held (the doctor's; on SQLite, the
    whole database) are not held while a grid is computed for the loser. Under contention
    for one slot that is most of the work."""
    try:
        return write(now=now, **kwargs)
    except SlotTaken as exc:
        if exc.starts_at is not None:
            exc.alternatives = availability.nearest_free(of, exc.starts_at, now=now)
        raise


def _when(instant: dt.datetime) -> str:
    local = timezone.localtime(instant, clock.clinic_tz())
    return f"{date_format(local.date(), 'l j F Y')} at {local:%H:%M}"


# --- Who may do what -----------------------------------------------------------------------


def is_staff_for(appointment: Appointment, user: User) -> bool:
    """The appointment's doctor, or a clinic admin."""
    return user.is_active and (
        user.is_clinic_admin or (user.is_doctor and appointment.doctor.user_id == user.pk)
    )


def _require_party(appointment: Appointment, user: User) -> None:
    if not (is_staff_for(appointment, user) or appointment.patient_id == user.pk):
        raise NotAllowed


def _require_staff(appointment: Appointment, user: User) -> None:
    if not is_staff_for(appointment, user):
        raise NotAllowed


# --- Booking ------------------------------------------------------------------------------


def check_bookable(
    *,
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    now: dt.datetime,
    ignore: Appointment | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """Every booking rule but the race, which the unique constraint settles. Returns the
    aware start and end of the slot on that date."""
    if not (patient.is_active and patient.role == User.Role.PATIENT):
        raise SchedulingError("Only active patient accounts can book appointments.", "patient")
    if not doctor.user.is_active:
        raise SchedulingError("This doctor is not available for booking.", "doctor_inactive")
    if not doctor.accepting_bookings:
        raise SchedulingError(
            f"{doctor.display_name} is not taking bookings at the moment.", "not_accepting"
        )
    if slot.doctor_id != doctor.pk or not slot.is_active:
        raise SchedulingError(
            f"That time is not one of {doctor.display_name}'s consultation slots.", "bad_slot"
        )
    if date.weekday() != slot.weekday:
        raise SchedulingError(
            f"This slot is on {slot.get_weekday_display()}s, but "
            f"{date_format(date, 'j F Y')} is a {date_format(date, 'l')}.",
            "wrong_weekday",
        )
    window = clock.slot_window(date, slot.start_time, slot.end_time)
    if window is None:
        raise SchedulingError(
            "That time does not exist on this day because the clocks change.", "no_such_time"
        )
    starts_at, ends_at = window
    if starts_at <= now:
        raise SchedulingError("This time has already passed.", "past")
    if starts_at < availability.earliest_bookable(now):
        raise SchedulingError(
            f"Appointments must be booked at least {settings.BOOKING_MIN_NOTICE_MINUTES} "
            "minutes ahead.",
            "too_soon",
        )
    if date > availability.horizon_end(timezone.localdate(now, clock.clinic_tz())):
        raise SchedulingError(
            f"Appointments can be booked up to {settings.BOOKING_HORIZON_DAYS} days ahead.",
            "beyond_horizon",
        )
    if TimeOff.objects.active().filter(doctor=doctor).covering(date).exists():
        raise SchedulingError(
            f"{doctor.display_name} is not seeing patients on {date_format(date, 'j F Y')}.",
            "time_off",
        )
    clashes = Appointment.objects.open().filter(
        patient=patient, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if ignore is not None:
        clashes = clashes.exclude(pk=ignore.pk)
    clash = clashes.select_related("doctor__user").first()
    if clash is not None:
        raise SchedulingError(
            f"You already have an appointment with {clash.doctor.display_name} at that time "
            f"({_when(clash.starts_at)}).",
            "patient_overlap",
        )
    return starts_at, ends_at


def _lock_doctor(doctor_id: int) -> DoctorProfile:
    # A doctor's bookings and calendar changes run one at a time: otherwise a booking and the
    # time off over its day (or the retiring of its slot), neither seeing the other's
    # uncommitted row, both commit (PostgreSQL; SQLite already serialises every writer).
    # NO KEY UPDATE leaves the foreign key checks of rows pointing at the doctor free;
    # add_slot, deactivate_slot and add_time_off lock it FOR UPDATE, which waits for it.
    # Taken after the patient's lock and before any appointment's.
    return (
        DoctorProfile.objects.select_for_update(no_key=True, of=("self",))
        .select_related("user")
        .get(pk=doctor_id)
    )


def _lock_appointment(appointment: Appointment, *related: str) -> Appointment:
    # FOR UPDATE OF the appointment row alone. With select_related, a plain FOR UPDATE also
    # locks the joined doctor and user rows; a booking with that doctor checks its foreign key
    # to the doctor at commit (FOR KEY SHARE), so a reschedule waiting on that booking's entry
    # in the unique index while the booking waits on the doctor row deadlocked on PostgreSQL.
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=appointment.pk)
    )


def _lock_patient(patient: User) -> User:
    # One patient's bookings run one at a time, so the overlap check above cannot be raced by
    # the same patient booking two doctors at once (SQLite already serialises every writer).
    return User.objects.select_for_update().get(pk=patient.pk)


def book(
    *,
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Books the slot on that date for the patient, or raises SchedulingError / SlotTaken.

    Submitting the same booking twice returns the first appointment instead of failing.
    """
    return _offering_alternatives(
        doctor,
        now or timezone.now(),
        _book,
        patient=patient,
        doctor=doctor,
        slot=slot,
        date=date,
        reason=reason,
    )


@transaction.atomic
def _book(
    *,
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    reason: str,
    now: dt.datetime,
) -> Appointment:
    patient = _lock_patient(patient)
    doctor = _lock_doctor(doctor.pk)
    # Read again under the doctor's lock: a slot retired a moment ago is not booked.
    slot = Slot.objects.get(pk=slot.pk)
    existing = (
        Appointment.objects.filter(
            patient=patient, doctor=doctor, slot=slot, date=date, status=Status.SCHEDULED
        )
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    starts_at, ends_at = check_bookable(
        patient=patient, doctor=doctor, slot=slot, date=date, now=now
    )
    appointment = Appointment(
        patient=patient,
        doctor=doctor,
        slot=slot,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
    )
    try:
        # No savepoint of its own (two round trips fewer): nothing runs in this transaction
        # after a failed insert, which leaves it at once and rolls it back.
        appointment.save()
    except IntegrityError as exc:
        # Another patient's booking of this slot committed first: the partial unique index
        # is the guarantee, on SQLite and PostgreSQL alike.
        raise SlotTaken([], starts_at=starts_at) from exc
    availability.changed(doctor.pk)
    events.publish(events.BOOKED, appointment)
    return appointment


def reschedule(
    *,
    appointment: Appointment,
    by: User,
    slot: Slot,
    date: dt.date,
    now: dt.datetime | None = None,
) -> Appointment:
    """Moves the appointment to another free slot of the same doctor, in place (same public
    id). If the new slot is taken nothing changes: the old one is freed only by success."""
    return _offering_alternatives(
        appointment.doctor,
        now or timezone.now(),
        _reschedule,
        appointment=appointment,
        by=by,
        slot=slot,
        date=date,
    )


@transaction.atomic
def _reschedule(
    *,
    appointment: Appointment,
    by: User,
    slot: Slot,
    date: dt.date,
    now: dt.datetime,
) -> Appointment:
    _lock_patient(appointment.patient)
    _lock_doctor(appointment.doctor_id)
    appt = _lock_appointment(appointment, "doctor__user", "patient")
    slot = Slot.objects.get(pk=slot.pk)
    _require_party(appt, by)
    refusal = appt.change_refusal(now)
    if refusal == "not_scheduled":
        raise SchedulingError(
            f"A {appt.get_status_display().lower()} appointment cannot be moved.", refusal
        )
    if refusal == "started":
        raise SchedulingError("This appointment has already started.", refusal)
    if slot.pk == appt.slot_id and date == appt.date:
        raise SchedulingError("That is already the time of this appointment.", "same_time")
    if slot.doctor_id != appt.doctor_id:
        raise SchedulingError(
            "An appointment can only move to another time with the same doctor.", "bad_slot"
        )
    starts_at, ends_at = check_bookable(
        patient=appt.patient, doctor=appt.doctor, slot=slot, date=date, now=now, ignore=appt
    )
    previous_starts_at = appt.starts_at
    appt.slot, appt.date, appt.starts_at, appt.ends_at = slot, date, starts_at, ends_at
    appt.rescheduled_at = now
    appt.reminder_sent_at = None
    try:
        appt.save()  # no savepoint: as in _book, a failure ends the transaction
    except IntegrityError as exc:
        raise SlotTaken([], starts_at=starts_at) from exc
    availability.changed(appt.doctor_id)
    events.publish(events.RESCHEDULED, appt, previous_starts_at=previous_starts_at)
    return appt


@transaction.atomic
def cancel(
    *,
    appointment: Appointment,
    by: User,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Cancels before the start; the slot is free again at once. Doctors give a reason."""
    now = now or timezone.now()
    appt = _lock_appointment(appointment, "doctor__user")
    _require_party(appt, by)
    if appt.status == Status.CANCELLED:
        return appt
    refusal = appt.change_refusal(now)
    if refusal == "not_scheduled":
        raise SchedulingError(
            f"A {appt.get_status_display().lower()} appointment cannot be cancelled.", refusal
        )
    if refusal == "started":
        raise SchedulingError(
            "This appointment has already started and can no longer be cancelled.", refusal
        )
    reason = reason.strip()
    if appt.cancel_needs_reason(by) and not reason:
        raise SchedulingError("Please give the patient a reason for the cancellation.", "reason")
    appt.status = Status.CANCELLED
    appt.cancelled_at = now
    appt.cancelled_by = by
    appt.cancellation_reason = reason[:300]
    appt.save()
    availability.changed(appt.doctor_id)
    events.publish(events.CANCELLED, appt)
    return appt


# --- The visit ----------------------------------------------------------------------------


def _transition(
    appointment: Appointment,
    by: User,
    *,
    allowed_from: tuple[str, ...],
    needs_start: tuple[str, ...],
    to: str,
    stamp: str,
    event: str,
    now: dt.datetime | None,
) -> Appointment:
    now = now or timezone.now()
    appt = _lock_appointment(appointment, "doctor__user")
    _require_staff(appt, by)
    label = Status(to).label.lower()
    if appt.status not in allowed_from:
        raise SchedulingError(
            f"A {appt.get_status_display().lower()} appointment cannot be marked {label}.",
            "bad_transition",
        )
    if appt.status in needs_start and not appt.has_started(now):
        raise SchedulingError(
            f"The appointment has not started yet; it can be marked {label} from "
            f"{timezone.localtime(appt.starts_at, clock.clinic_tz()):%H:%M}.",
            "not_started",
        )
    appt.status = to
    setattr(appt, stamp, now)
    appt.save()
    events.publish(event, appt)
    return appt


@transaction.atomic
def check_in(*, appointment: Appointment, by: User, now: dt.datetime | None = None) -> Appointment:
    """The patient has arrived: on the day of the appointment only."""
    now = now or timezone.now()
    if appointment.date != timezone.localdate(now, clock.clinic_tz()):
        appt = Appointment.objects.select_related("doctor").get(pk=appointment.pk)
        _require_staff(appt, by)
        raise SchedulingError(
            "Patients can be checked in on the day of their appointment only.", "not_today"
        )
    return _transition(
        appointment,
        by,
        allowed_from=(Status.SCHEDULED,),
        needs_start=(),
        to=Status.CHECKED_IN,
        stamp="checked_in_at",
        event=events.CHECKED_IN,
        now=now,
    )


@transaction.atomic
def complete(*, appointment: Appointment, by: User, now: dt.datetime | None = None) -> Appointment:
    return _transition(
        appointment,
        by,
        allowed_from=(Status.SCHEDULED, Status.CHECKED_IN),
        needs_start=(Status.SCHEDULED,),
        to=Status.COMPLETED,
        stamp="completed_at",
        event=events.COMPLETED,
        now=now,
    )


@transaction.atomic
def mark_no_show(
    *, appointment: Appointment, by: User, now: dt.datetime | None = None
) -> Appointment:
    return _transition(
        appointment,
        by,
        allowed_from=(Status.SCHEDULED, Status.CHECKED_IN),
        needs_start=(Status.SCHEDULED, Status.CHECKED_IN),
        to=Status.NO_SHOW,
        stamp="no_show_at",
        event=events.NO_SHOW,
        now=now,
    )


# The visit's steps by the names the pages and the API give them.
VISIT_ACTIONS: dict[str, Callable[..., Appointment]] = {
    "check-in": check_in,
    "complete": complete,
    "no-show": mark_no_show,
}


# --- The doctor's calendar ----------------------------------------------------------------


@transaction.atomic
def set_accepting_bookings(*, doctor: DoctorProfile, accepting: bool) -> DoctorProfile:
    """Pauses or resumes new bookings with the doctor. A save of the one field (not a queryset
    update()), so the audit trail sees the change with its before and after."""
    profile = DoctorProfile.objects.select_for_update(of=("self",)).get(pk=doctor.pk)
    if profile.accepting_bookings != accepting:
        profile.accepting_bookings = accepting
        profile.save(update_fields=["accepting_bookings"])
        availability.changed(doctor.pk)
    doctor.accepting_bookings = accepting
    return doctor


@transaction.atomic
def add_slot(
    *, doctor: DoctorProfile, weekday: int, start_time: dt.time, end_time: dt.time
) -> Slot:
    """A new weekly slot; a doctor's active slots on one weekday never overlap."""
    # Serialises slot edits of one doctor so two overlapping adds cannot both pass the check.
    DoctorProfile.objects.select_for_update().get(pk=doctor.pk)
    if not 0 <= weekday <= 6:
        raise SchedulingError("Choose a day of the week.", "weekday")
    if end_time <= start_time:
        raise SchedulingError("The slot must end after it starts.", "order")
    length = dt.datetime.combine(dt.date.min, end_time) - dt.datetime.combine(
        dt.date.min, start_time
    )
    if length < dt.timedelta(minutes=5):
        raise SchedulingError("A slot lasts at least 5 minutes.", "too_short")
    clash = (
        Slot.objects.active()
        .filter(doctor=doctor, weekday=weekday, start_time__lt=end_time, end_time__gt=start_time)
        .first()
    )
    if clash is not None:
        raise SchedulingError(f"This overlaps your slot {clash}.", "overlap")
    slot = Slot.objects.create(
        doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time
    )
    availability.changed(doctor.pk)
    return slot


@transaction.atomic
def deactivate_slot(*, slot: Slot, now: dt.datetime | None = None) -> Slot:
    """Retires a weekly slot. One that upcoming appointments still use cannot be retired."""
    now = now or timezone.now()
    # The doctor's lock, as bookings take it: a booking of this slot either commits before
    # the count below or sees the slot retired.
    DoctorProfile.objects.select_for_update().get(pk=slot.doctor_id)
    slot = Slot.objects.select_for_update().get(pk=slot.pk)
    booked = Appointment.objects.upcoming(now).filter(slot=slot).count()
    if booked:
        raise SchedulingError(
            f"{booked} upcoming appointment(s) use this slot; cancel or move them first.",
            "slot_in_use",
        )
    if slot.is_active:
        slot.is_active = False
        slot.deactivated_at = now
        slot.save(update_fields=["is_active", "deactivated_at"])
        availability.changed(slot.doctor_id)
    return slot


@transaction.atomic
def add_time_off(
    *,
    doctor: DoctorProfile,
    start_date: dt.date,
    end_date: dt.date,
    reason: str = "",
    cancel_booked: bool = False,
    now: dt.datetime | None = None,
) -> TimeOff:
    """Blocks the days for new bookings. Appointments already booked in them are cancelled
    (the patients are told) only when `cancel_booked` says so; otherwise nothing is saved."""
    now = now or timezone.now()
    doctor = (
        DoctorProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=doctor.pk)
    )
    if end_date < start_date:
        raise SchedulingError("The last day cannot be before the first.", "order")
    if start_date < clock.today():
        raise SchedulingError("Time off cannot start in the past.", "starts_in_past")
    if (end_date - start_date).days > 365:
        raise SchedulingError("Time off can cover at most a year at a time.", "too_long")
    booked = selectors.appointments_during(doctor, start_date, end_date, now=now)
    if booked and not cancel_booked:
        raise SchedulingError(
            f"{len(booked)} appointment(s) are booked in these days. Confirm that they should "
            "be cancelled (the patients are told), or choose other days.",
            "has_bookings",
        )
    time_off = TimeOff.objects.create(
        doctor=doctor, start_date=start_date, end_date=end_date, reason=reason.strip()
    )
    availability.changed(doctor.pk)
    why = f"{doctor.display_name} is unavailable on that day."
    for appointment in booked:
        cancel(appointment=appointment, by=doctor.user, reason=why, now=now)
    return time_off


@transaction.atomic
def remove_time_off(*, time_off: TimeOff) -> TimeOff:
    """Opens the days for booking again; the row stays, inactive."""
    period = TimeOff.objects.select_for_update().get(pk=time_off.pk)
    if period.is_active:
        period.is_active = False
        period.save(update_fields=["is_active"])
        availability.changed(period.doctor_id)
    time_off.is_active = False
    return time_off


@transaction.atomic
def change_time_off_reason(*, time_off: TimeOff, reason: str) -> TimeOff:
    """The one thing about a period of time off that may change after it is saved."""
    period = TimeOff.objects.select_for_update().get(pk=time_off.pk)
    period.reason = reason.strip()[:200]
    period.save(update_fields=["reason"])
    return period


# --- Reminders ----------------------------------------------------------------------------


@transaction.atomic
def claim_reminder(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """Marks the appointment's reminder as sent. True for the one caller that marked it,
    False if it was already marked or the appointment is no longer upcoming.

    The notifications worker sends the reminder only on True, in the same transaction: the
    row is claimed under its lock, so two workers (or one run twice) never both remind. A
    reschedule clears the mark, and the new time gets its own reminder.
    """
    now = now or timezone.now()
    # SELECT ... FOR UPDATE with the conditions, then a save (which the audit trail sees; a
    # queryset update() would not be). A second claimer waits for the first one's lock; on
    # PostgreSQL the row is then checked against the conditions again, no longer matches, and
    # is not returned; on SQLite the writers already take turns.
    appt = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(
            pk=appointment.pk,
            status=Status.SCHEDULED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
        )
        .first()
    )
    if appt is None:
        return False
    appt.reminder_sent_at = now
    appt.save(update_fields=["reminder_sent_at"])
    return True
