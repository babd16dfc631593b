"""Scheduling rules: booking, cancelling, rescheduling, the visit's states, slots, time off.

The HTML views, Django admin, the management commands and the API all call these; none of
them re-checks a rule. Each write runs in one transaction and announces itself through
`scheduling.events.publish` inside it; one that changes a doctor's openings also calls
`availability.changed`, which replaces the doctor's calendar version (the grid's ETag).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

from accounts.models import Dependant, DoctorProfile, User
from accounts.selectors import front_desk_branch_id
from common.i18n import date_format_for
from directory.models import Service
from scheduling import availability, clock, events, person_overlap, selectors
from scheduling.errors import NotAllowed, SchedulingError, SlotTaken
from scheduling.models import (
    Appointment,
    Slot,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    Weekday,
)

Status = Appointment.Status


def _offering_alternatives(
    of: DoctorProfile, now: dt.datetime, write: Callable[..., Appointment], **kwargs: Any
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
    return _("%(day)s at %(time)s") % {
        "day": date_format(local.date(), date_format_for("l j F Y")),
        "time": f"{local:%H:%M}",
    }


# --- Who may do what -----------------------------------------------------------------------


def is_staff_for(appointment: Appointment, user: User) -> bool:
    """The appointment's doctor, or a clinic admin."""
    return user.is_active and (
        user.is_clinic_admin or (user.is_doctor and appointment.doctor.user_id == user.pk)
    )


def is_front_desk_for(appointment: Appointment, user: User) -> bool:
    """The front desk of the branch where the appointment's doctor works."""
    return is_front_desk_of(appointment.doctor, user)


def is_front_desk_of(doctor: DoctorProfile, user: User) -> bool:
    """An active front-desk user of the doctor's branch."""
    branch_id = front_desk_branch_id(user)
    return branch_id is not None and branch_id == doctor.branch_id


def _may_book_for_others(doctor: DoctorProfile, user: User) -> bool:
    return (user.is_active and user.is_clinic_admin) or is_front_desk_of(doctor, user)


def _require_party(appointment: Appointment, user: User) -> None:
    if not (
        is_staff_for(appointment, user)
        or appointment.patient_id == user.pk
        or is_front_desk_for(appointment, user)
    ):
        raise NotAllowed


def _require_staff(appointment: Appointment, user: User) -> None:
    if not is_staff_for(appointment, user):
        raise NotAllowed


# --- Booking ------------------------------------------------------------------------------


def _not_a_slot_of(doctor: DoctorProfile) -> SchedulingError:
    return SchedulingError(
        _("That time is not one of the consultation slots of %(doctor)s.")
        % {"doctor": doctor.display_name},
        "bad_slot",
    )


def _is_bookable_patient(patient: User) -> bool:
    """Who may book, join a waitlist or be offered a time: an active patient account."""
    return patient.is_active and patient.role == User.Role.PATIENT


def _is_their_family_member(patient: User, dependant: Dependant | None) -> bool:
    """Whom the patient may book for besides themselves: an active family member on their
    profile who has no account of their own (a linked one books for themselves)."""
    return dependant is None or (
        dependant.guardian_id == patient.pk and dependant.is_active and dependant.user_id is None
    )


def _opening_rules(
    *, patient: User, doctor: DoctorProfile, slot: Slot, date: dt.date, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The booking rules that need no query (the rows are loaded). Returns the aware start
    and end of the slot on that date."""
    if not _is_bookable_patient(patient):
        raise SchedulingError(_("Only active patient accounts can book appointments."), "patient")
    if not doctor.user.is_active:
        raise SchedulingError(_("This doctor is not available for booking."), "doctor_inactive")
    if not doctor.accepting_bookings:
        raise SchedulingError(
            _("%(doctor)s is not taking bookings at the moment.") % {"doctor": doctor.display_name},
            "not_accepting",
        )
    if slot.doctor_id != doctor.pk or not slot.is_active:
        raise _not_a_slot_of(doctor)
    if slot.date is not None and slot.date != date:
        raise SchedulingError(
            _("This time is on %(day)s only.")
            % {"day": date_format(slot.date, date_format_for("l j F Y"))},
            "wrong_date",
        )
    if date.weekday() != slot.weekday:
        raise SchedulingError(
            _("This slot is on %(slot_weekday)ss, but %(date)s is a %(weekday)s.")
            % {
                "slot_weekday": slot.get_weekday_display(),
                "date": date_format(date, date_format_for("j F Y")),
                "weekday": date_format(date, "l"),
            },
            "wrong_weekday",
        )
    window = clock.slot_window(date, slot.start_time, slot.end_time)
    if window is None:
        raise SchedulingError(
            _("That time does not exist on this day because the clocks change."), "no_such_time"
        )
    starts_at, ends_at = window
    if starts_at <= now:
        raise SchedulingError(_("This time has already passed."), "past")
    if starts_at < availability.earliest_bookable(now):
        raise SchedulingError(
            ngettext(
                "Appointments must be booked at least %(minutes)s minute ahead.",
                "Appointments must be booked at least %(minutes)s minutes ahead.",
                settings.BOOKING_MIN_NOTICE_MINUTES,
            )
            % {"minutes": settings.BOOKING_MIN_NOTICE_MINUTES},
            "too_soon",
        )
    if date > availability.horizon_end(timezone.localdate(now, clock.clinic_tz())):
        raise SchedulingError(
            ngettext(
                "Appointments can be booked up to %(days)s day ahead.",
                "Appointments can be booked up to %(days)s days ahead.",
                settings.BOOKING_HORIZON_DAYS,
            )
            % {"days": settings.BOOKING_HORIZON_DAYS},
            "beyond_horizon",
        )
    return starts_at, ends_at


# What keeps the doctor away at a time: a whole day off, some hours off, or nothing.
DAY_OFF, HOURS_OFF = "day", "hours"


def _calendar_rules(
    *,
    doctor: DoctorProfile,
    date: dt.date,
    absent: str | None,
    clash: Appointment | None,
    dependant: Dependant | None = None,
) -> None:
    """The rules that read other rows: the doctor's time off, the patient's overlaps."""
    if absent:
        message = (
            _("%(doctor)s is not seeing patients at that time on %(date)s.")
            if absent == HOURS_OFF
            else _("%(doctor)s is not seeing patients on %(date)s.")
        )
        raise SchedulingError(
            message
            % {"doctor": doctor.display_name, "date": date_format(date, date_format_for("j F Y"))},
            "time_off",
        )
    if clash is not None and dependant is not None:
        raise SchedulingError(
            gettext("%(name)s already has an appointment with %(doctor)s at that time (%(when)s).")
            % {
                "name": dependant.full_name,
                "doctor": clash.doctor.display_name,
                "when": _when(clash.starts_at),
            },
            "patient_overlap",
        )
    if clash is not None:
        raise SchedulingError(
            _("You already have an appointment with %(doctor)s at that time (%(when)s).")
            % {"doctor": clash.doctor.display_name, "when": _when(clash.starts_at)},
            "patient_overlap",
        )


def _overlap_refused(exc: IntegrityError, dependant: Dependant | None) -> SchedulingError:
    """The database's refusal of a second open appointment of one person at one time (see
    scheduling.person_overlap), for a race the patient's lock did not cover."""
    name = dependant.full_name if dependant is not None else None
    return SchedulingError(
        gettext("%(name)s already has an appointment at that time.") % {"name": name}
        if name
        else gettext("You already have an appointment at that time."),
        "patient_overlap",
    )


def _check_dependant(patient: User, dependant: Dependant | None) -> None:
    if not _is_their_family_member(patient, dependant):
        raise SchedulingError(
            gettext("You can book only for the family members on your profile."), "dependant"
        )


def _clashes(
    patient: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    ignore: Appointment | None,
    dependant: Dependant | None = None,
) -> Any:
    """The person's open appointments overlapping the time: the patient's own, or those of
    the family member booked for."""
    clashes = Appointment.objects.open().filter(
        patient=patient, dependant=dependant, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    return clashes.exclude(pk=ignore.pk) if ignore is not None else clashes


def check_bookable(
    *,
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    now: dt.datetime,
    ignore: Appointment | None = None,
    dependant: Dependant | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """Every booking rule but the race, which the unique constraint settles. Returns the
    aware start and end of the slot on that date."""
    starts_at, ends_at = _opening_rules(
        patient=patient, doctor=doctor, slot=slot, date=date, now=now
    )
    _check_dependant(patient, dependant)
    absence = (
        TimeOff.objects.active()
        .filter(doctor=doctor)
        .covering(date)
        .over(slot.start_time, slot.end_time)
        .order_by()
        .values_list("start_time")
        .first()
    )
    _calendar_rules(
        doctor=doctor,
        date=date,
        absent=None if absence is None else DAY_OFF if absence[0] is None else HOURS_OFF,
        clash=_clashes(patient, starts_at, ends_at, ignore, dependant)
        .select_related("doctor__user")
        .first(),
        dependant=dependant,
    )
    held_for_another = (
        WaitlistOffer.objects.holding(now)
        .filter(doctor=doctor, slot=slot, date=date)
        .exclude(entry__patient=patient)
    )
    if held_for_another.exists():
        raise _held()
    return starts_at, ends_at


def _held() -> SchedulingError:
    return SchedulingError(
        gettext(
            "This time is held for a patient on the waitlist for a little while. "
            "Please choose another time."
        ),
        "held",
    )


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
    return selectors.user_locked(patient.pk)


def book(
    *,
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    reason: str = "",
    by: User | None = None,
    service: Service | None = None,
    dependant: Dependant | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Books the slot on that date for the patient, or raises SchedulingError / SlotTaken.

    `dependant`, one of the patient's family members, is the person seen: the overlap rule
    applies to them (a parent may book two children at one time, not one child twice); the
    patient holds the appointment and gets the e-mails.

    `service`, one the doctor offers, sets the price the appointment keeps; without one it
    keeps the doctor's consultation fee.

    `by` is who books: the patient (the default), or on the patient's behalf an admin or the
    front desk of the doctor's branch; the appointment records it. Submitting the same booking twice
    returns the first appointment instead of failing.
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
        by=by,
        service=service,
        dependant=dependant,
    )


def _lock_opening(slot: Slot, doctor: DoctorProfile) -> Slot:
    """The doctor's slot with the doctor (user, specialty and branch: what the outbox's
    payload needs), the doctor locked as `_lock_doctor` does. Not the slot: the calendar's
    changes lock the doctor, then the slots, and locking both here deadlocked with them.
    After a wait for the lock PostgreSQL re-reads the locked row, not the slot, so whether
    the slot is still active is read again by the next statement (`_absence_and_clash`)."""
    locked = selectors.slot_locking_doctor(slot.pk, doctor.pk)
    if locked is None:
        raise _not_a_slot_of(doctor)
    return locked


# After the doctor's lock, in a statement of its own (so that it sees what committed while
# the lock was awaited): whether the slot is still active, the doctor's absence at that time
# (a whole day off first, then some hours off), and the patient's open appointment at that
# time, if any: the same booking posted again first (it is returned as it is), else the first
# that overlaps; and the price of the service chosen, if the doctor offers it (read under the
# lock: the price the appointment keeps is the one of this moment); and the waitlist offer
# holding the time, if one does, with the patient it is held for (a hold that ran out holds
# nothing: the clock decides, no job has to close it first). Plain SQL: through the
# ORM (three subqueries, one ordered by a Case) building it cost ten times running it. The
# absence is the one of TimeOff.covering().over(), the overlap the one of `_clashes`.
_ABSENCE_AND_CLASH = """
SELECT
  (SELECT is_active FROM scheduling_slot WHERE id = %s),
  (
    SELECT CASE WHEN start_time IS NULL THEN 'day' ELSE 'hours' END
    FROM scheduling_timeoff
    WHERE doctor_id = %s AND is_active AND start_date <= %s AND end_date >= %s
      AND (start_time IS NULL OR (start_time < %s AND end_time > %s))
    ORDER BY CASE WHEN start_time IS NULL THEN 0 ELSE 1 END
    LIMIT 1
  ),
  (
    SELECT id FROM scheduling_appointment
    WHERE patient_id = %s AND COALESCE(dependant_id, 0) = %s
      AND status IN ('scheduled', 'checked_in')
      AND starts_at < %s AND ends_at > %s
    ORDER BY
      CASE WHEN doctor_id = %s AND slot_id = %s AND date = %s AND status = 'scheduled'
        THEN 0 ELSE 1 END,
      id
    LIMIT 1
  ),
  (
    SELECT price FROM directory_service
    WHERE id = %s AND is_active AND EXISTS (
      SELECT 1 FROM directory_service_doctors
      WHERE service_id = directory_service.id AND doctorprofile_id = %s
    )
  ),
  (
    SELECT o.id FROM scheduling_waitlistoffer o
    WHERE o.doctor_id = %s AND o.slot_id = %s AND o.date = %s AND o.status = 'open'
      AND o.expires_at > %s
  ),
  (
    SELECT e.patient_id FROM scheduling_waitlistoffer o
    JOIN scheduling_waitlistentry e ON e.id = o.entry_id
    WHERE o.doctor_id = %s AND o.slot_id = %s AND o.date = %s AND o.status = 'open'
      AND o.expires_at > %s
  )
"""


def _absence_and_clash(
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    window: tuple[dt.datetime, dt.datetime] | None,
    service: Service | None = None,
    dependant: Dependant | None = None,
    now: dt.datetime | None = None,
) -> tuple[bool, str | None, int | None, Decimal | None, int | None, int | None]:
    ops = connection.ops
    day = ops.adapt_datefield_value(date)
    start, end = (
        ops.adapt_timefield_value(slot.start_time),
        ops.adapt_timefield_value(slot.end_time),
    )
    # A time the clocks skip has no window (and no clash): the rules refuse it below.
    starts_at, ends_at = (ops.adapt_datetimefield_value(v) for v in window or (None, None))
    with connection.cursor() as cursor:
        cursor.execute(
            _ABSENCE_AND_CLASH,
            [
                slot.pk,
                *(doctor.pk, day, day, end, start),
                *(patient.pk, dependant.pk if dependant is not None else 0),
                *(ends_at, starts_at, doctor.pk, slot.pk, day),
                *(service.pk if service is not None else None, doctor.pk),
                *(doctor.pk, slot.pk, day, ops.adapt_datetimefield_value(now)) * 2,
            ],
        )
        active, absent, clash_pk, price, held_by_offer, holder = cursor.fetchone()
    if price is not None:
        # SQLite hands back a float or a string; the price has two decimals.
        price = Decimal(str(price)).quantize(Decimal("0.01"))
    return bool(active), absent, clash_pk, price, held_by_offer, holder


@transaction.atomic
def _book(
    *,
    patient: User,
    doctor: DoctorProfile,
    slot: Slot,
    date: dt.date,
    reason: str,
    by: User | None,
    now: dt.datetime,
    service: Service | None = None,
    dependant: Dependant | None = None,
) -> Appointment:
    patient = _lock_patient(patient)
    # Read again under the locks: a paused doctor or a retired slot is not booked.
    slot = _lock_opening(slot, doctor)
    doctor = slot.doctor
    if by is not None and by.pk != patient.pk and not _may_book_for_others(doctor, by):
        raise NotAllowed
    window = clock.slot_window(date, slot.start_time, slot.end_time)
    slot.is_active, absent, clash_pk, service_price, offer_pk, holder_pk = _absence_and_clash(
        patient, doctor, slot, date, window, service, dependant, now
    )
    clash = None
    if clash_pk is not None:
        clash = Appointment.objects.select_related("doctor__user").get(pk=clash_pk)
        if (clash.doctor_id, clash.slot_id, clash.date, clash.status) == (
            doctor.pk,
            slot.pk,
            date,
            Status.SCHEDULED,
        ):
            return clash
    starts_at, ends_at = _opening_rules(
        patient=patient, doctor=doctor, slot=slot, date=date, now=now
    )
    _check_dependant(patient, dependant)
    _calendar_rules(doctor=doctor, date=date, absent=absent, clash=clash, dependant=dependant)
    if offer_pk is not None and holder_pk != patient.pk:
        raise _held()
    if service is not None and service_price is None:
        raise SchedulingError(
            gettext("%(doctor)s does not offer %(service)s.")
            % {"doctor": doctor.display_name, "service": service.name},
            "service_not_offered",
        )
    appointment = Appointment(
        patient=patient,
        doctor=doctor,
        slot=slot,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        booked_by=by if by is not None else patient,
        service=service,
        price=service_price if service is not None else doctor.consultation_fee,
        dependant=dependant,
    )
    try:
        # No savepoint of its own (two round trips fewer): nothing runs in this transaction
        # after a failed insert, which leaves it at once and rolls it back.
        appointment.save()
    except IntegrityError as exc:
        if person_overlap.refused(exc):
            raise _overlap_refused(exc, dependant) from exc
        # Another patient's booking of this slot committed first: the partial unique index
        # is the guarantee, on SQLite and PostgreSQL alike.
        raise SlotTaken([], starts_at=starts_at) from exc
    if offer_pk is not None:
        _claimed(offer_pk, appointment, now)
    availability.changed(doctor)
    events.publish(events.BOOKED, appointment)
    return appointment


def _claimed(offer_pk: int, appointment: Appointment, now: dt.datetime) -> None:
    """The patient a time was held for booked it (through the offer's link or the page)."""
    offer = WaitlistOffer.objects.select_for_update(of=("self",)).get(pk=offer_pk)
    _close_offer(offer, WaitlistOffer.Status.BOOKED, now, appointment)
    entry = WaitlistEntry.objects.select_for_update().get(pk=offer.entry_id)
    entry.status, entry.booked_at = WaitlistEntry.Status.BOOKED, now
    entry.save(update_fields=["status", "booked_at"])


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
    appt = _lock_appointment(appointment, "doctor__user", "patient", "dependant")
    slot = Slot.objects.get(pk=slot.pk)
    _require_party(appt, by)
    refusal = appt.change_refusal(now)
    if refusal == "not_scheduled":
        raise SchedulingError(
            _("A %(status)s appointment cannot be moved.")
            % {"status": appt.get_status_display().lower()},
            refusal,
        )
    if refusal == "started":
        raise SchedulingError(_("This appointment has already started."), refusal)
    if slot.pk == appt.slot_id and date == appt.date:
        raise SchedulingError(_("That is already the time of this appointment."), "same_time")
    if slot.doctor_id != appt.doctor_id:
        raise SchedulingError(
            _("An appointment can only move to another time with the same doctor."), "bad_slot"
        )
    starts_at, ends_at = check_bookable(
        patient=appt.patient,
        doctor=appt.doctor,
        slot=slot,
        date=date,
        now=now,
        ignore=appt,
        dependant=appt.dependant,
    )
    previous_starts_at = appt.starts_at
    appt.slot, appt.date, appt.starts_at, appt.ends_at = slot, date, starts_at, ends_at
    appt.rescheduled_at = now
    appt.reminder_sent_at = None
    try:
        appt.save()  # no savepoint: as in _book, a failure ends the transaction
    except IntegrityError as exc:
        if person_overlap.refused(exc):
            raise _overlap_refused(exc, appt.dependant) from exc
        raise SlotTaken([], starts_at=starts_at) from exc
    availability.changed(appt.doctor)
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
    # The doctor's lock before the appointment's, as bookings take them: the freed time is
    # offered from the waitlist below, and no booking may slip in between.
    doctor = _lock_doctor(appointment.doctor_id)
    appt = _lock_appointment(appointment, "doctor__user")
    _require_party(appt, by)
    if appt.status == Status.CANCELLED:
        return appt
    refusal = appt.change_refusal(now)
    if refusal == "not_scheduled":
        raise SchedulingError(
            _("A %(status)s appointment cannot be cancelled.")
            % {"status": appt.get_status_display().lower()},
            refusal,
        )
    if refusal == "started":
        raise SchedulingError(
            _("This appointment has already started and can no longer be cancelled."), refusal
        )
    reason = reason.strip()
    if appt.cancel_needs_reason(by) and not reason:
        raise SchedulingError(_("Please give the patient a reason for the cancellation."), "reason")
    appt.status = Status.CANCELLED
    appt.cancelled_at = now
    appt.cancelled_by = by
    appt.cancellation_reason = reason[:300]
    appt.save()
    availability.changed(appt.doctor)
    events.publish(events.CANCELLED, appt)
    _offer_freed(doctor, appt.slot_id, appt.date, now)
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
    front_desk: bool = False,
) -> Appointment:
    now = now or timezone.now()
    appt = _lock_appointment(appointment, "doctor__user")
    if not (front_desk and is_front_desk_for(appt, by)):
        _require_staff(appt, by)
    label = Status(to).label.lower()
    if appt.status not in allowed_from:
        raise SchedulingError(
            _("A %(status)s appointment cannot be marked %(label)s.")
            % {"status": appt.get_status_display().lower(), "label": label},
            "bad_transition",
        )
    if appt.status in needs_start and not appt.has_started(now):
        raise SchedulingError(
            _("The appointment has not started yet; it can be marked %(label)s from %(time)s.")
            % {
                "label": label,
                "time": f"{timezone.localtime(appt.starts_at, clock.clinic_tz()):%H:%M}",
            },
            "not_started",
        )
    appt.status = to
    setattr(appt, stamp, now)
    appt.save()
    events.publish(event, appt)
    return appt


@transaction.atomic
def check_in(*, appointment: Appointment, by: User, now: dt.datetime | None = None) -> Appointment:
    """The patient has arrived: on the day of the appointment only. Their doctor, an admin
    or the front desk of the doctor's branch."""
    now = now or timezone.now()
    if appointment.date != timezone.localdate(now, clock.clinic_tz()):
        appt = Appointment.objects.select_related("doctor").get(pk=appointment.pk)
        if not is_front_desk_for(appt, by):
            _require_staff(appt, by)
        raise SchedulingError(
            _("Patients can be checked in on the day of their appointment only."), "not_today"
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
        front_desk=True,
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
    """The patient did not come: after the start. Their doctor, an admin or the front desk
    of the doctor's branch."""
    return _transition(
        appointment,
        by,
        allowed_from=(Status.SCHEDULED, Status.CHECKED_IN),
        needs_start=(Status.SCHEDULED, Status.CHECKED_IN),
        to=Status.NO_SHOW,
        stamp="no_show_at",
        event=events.NO_SHOW,
        now=now,
        front_desk=True,
    )


# The visit's steps by the names the pages and the API give them.
VISIT_ACTIONS: dict[str, Callable[..., Appointment]] = {
    "check-in": check_in,
    "complete": complete,
    "no-show": mark_no_show,
}


@transaction.atomic
def set_doctor_notes(*, appointment: Appointment, by: User, notes: str) -> Appointment:
    """The doctor's private notes on the appointment (its doctor, or an admin), whatever its
    state. The audit trail records the change, not the text."""
    appt = _lock_appointment(appointment, "doctor__user")
    _require_staff(appt, by)
    notes = notes.strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise SchedulingError(
            _("Notes can be at most %(count)s characters long.") % {"count": NOTES_MAX_LENGTH},
            "notes_too_long",
        )
    if appt.doctor_notes != notes:
        appt.doctor_notes = notes
        appt.save(update_fields=["doctor_notes", "updated_at"])
    appointment.doctor_notes = notes
    return appt


NOTES_MAX_LENGTH = 5000


# --- The doctor's calendar ----------------------------------------------------------------


@transaction.atomic
def set_accepting_bookings(*, doctor: DoctorProfile, accepting: bool) -> DoctorProfile:
    """Pauses or resumes new bookings with the doctor. A save of the one field (not a queryset
    update()), so the audit trail sees the change with its before and after."""
    profile = DoctorProfile.objects.select_for_update(of=("self",)).get(pk=doctor.pk)
    if profile.accepting_bookings != accepting:
        profile.accepting_bookings = accepting
        profile.save(update_fields=["accepting_bookings"])
        availability.changed(doctor)
    doctor.accepting_bookings = accepting
    return doctor


def _lock_doctor_calendar(doctor_id: int) -> DoctorProfile:
    # FOR UPDATE waits for (and makes wait) every booking's FOR NO KEY UPDATE of the doctor
    # (see _lock_doctor): a calendar change and a booking of the same doctor never interleave,
    # so a booking either commits before the change reads the appointments or sees its result.
    return (
        DoctorProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=doctor_id)
    )


def _minutes(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def _clashing_slot(
    doctor: DoctorProfile,
    *,
    weekday: int,
    date: dt.date | None,
    start_time: dt.time,
    end_time: dt.time,
    today: dt.date,
) -> Slot | None:
    """An active slot of the doctor that would overlap the new one: for a weekly slot, the
    weekly ones on that weekday and the extra ones to come on it; for an extra one, the
    weekly ones on its weekday and the extra ones on its date."""
    same_day = Q(date__isnull=True, weekday=weekday)
    same_day |= Q(date=date) if date is not None else Q(date__gte=today, weekday=weekday)
    return (
        Slot.objects.active()
        .filter(same_day, doctor=doctor, start_time__lt=end_time, end_time__gt=start_time)
        .order_by("date", "start_time")
        .first()
    )


def _check_slot_times(start_time: dt.time, end_time: dt.time) -> None:
    if end_time <= start_time:
        raise SchedulingError(_("The slot must end after it starts."), "order")
    if _minutes(start_time, end_time) < MIN_VISIT_MINUTES:
        raise SchedulingError(
            _("A slot lasts at least %(minutes)s minutes.") % {"minutes": MIN_VISIT_MINUTES},
            "too_short",
        )


@transaction.atomic
def add_slot(
    *,
    doctor: DoctorProfile,
    weekday: int | None = None,
    start_time: dt.time,
    end_time: dt.time,
    date: dt.date | None = None,
) -> Slot:
    """A new slot: weekly on `weekday`, or on `date` only (an extra time). A doctor's
    active slots never overlap."""
    # Serialises slot edits of one doctor so two overlapping adds cannot both pass the check.
    locked = _lock_doctor_calendar(doctor.pk)
    today = clock.today()
    if date is not None:
        if date < today:
            raise SchedulingError(_("Extra hours cannot be in the past."), "past")
        weekday = date.weekday()
    if weekday is None or not 0 <= weekday <= 6:
        raise SchedulingError(_("Choose a day of the week."), "weekday")
    _check_slot_times(start_time, end_time)
    clash = _clashing_slot(
        doctor, weekday=weekday, date=date, start_time=start_time, end_time=end_time, today=today
    )
    if clash is not None:
        raise SchedulingError(_("This overlaps your slot %(slot)s.") % {"slot": clash}, "overlap")
    slot = Slot.objects.create(
        doctor=doctor, weekday=weekday, date=date, start_time=start_time, end_time=end_time
    )
    availability.changed(doctor)
    _offer_new_slots(locked, [slot], timezone.now())
    return slot


def _upcoming_on_slots(slot_ids: list[int], now: dt.datetime) -> dict[int, list[Appointment]]:
    """The open appointments still to come on each of the slots, with their patients."""
    booked: dict[int, list[Appointment]] = {}
    if not slot_ids:
        return booked
    for appt in (
        Appointment.objects.upcoming(now)
        .filter(slot_id__in=slot_ids)
        .select_related("patient")
        .order_by("starts_at")
    ):
        booked.setdefault(appt.slot_id, []).append(appt)
    return booked


def _retire(slot: Slot, now: dt.datetime) -> None:
    slot.is_active = False
    slot.deactivated_at = now
    slot.save(update_fields=["is_active", "deactivated_at"])


@transaction.atomic
def deactivate_slot(*, slot: Slot, now: dt.datetime | None = None) -> Slot:
    """Retires a slot. One that upcoming appointments still use cannot be retired."""
    now = now or timezone.now()
    # The doctor's lock, as bookings take it: a booking of this slot either commits before
    # the count below or sees the slot retired.
    doctor = _lock_doctor_calendar(slot.doctor_id)
    slot = Slot.objects.select_for_update().get(pk=slot.pk)
    booked = Appointment.objects.upcoming(now).filter(slot=slot).count()
    if booked:
        raise SchedulingError(
            ngettext(
                "%(count)s upcoming appointment uses this slot; cancel or move it first.",
                "%(count)s upcoming appointments use this slot; cancel or move them first.",
                booked,
            )
            % {"count": booked},
            "slot_in_use",
        )
    if slot.is_active:
        _retire(slot, now)
        availability.changed(doctor)
    return slot


# --- Working hours: every weekly slot made in one go ---------------------------------------

MIN_VISIT_MINUTES = 5
MAX_VISIT_MINUTES = 240

TimeRange = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class NewSlot:
    weekday: int
    start_time: dt.time
    end_time: dt.time

    def __str__(self) -> str:
        return f"{Weekday(self.weekday).label} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


@dataclass
class HoursPlan:
    """What saving a set of working hours does to the doctor's weekly slots."""

    visit_minutes: int
    make: list[NewSlot] = field(default_factory=list)
    keep: list[Slot] = field(default_factory=list)
    retire: list[Slot] = field(default_factory=list)
    # Slots outside the new hours that upcoming appointments use: they stay, with those
    # appointments listed, until the appointments are over, cancelled or moved.
    kept_booked: list[tuple[Slot, list[Appointment]]] = field(default_factory=list)
    # New slots not made: they would overlap a slot that stays (booked, or extra hours).
    blocked: list[tuple[NewSlot, Slot]] = field(default_factory=list)
    # Ranges whose last minutes are too short for a visit.
    leftovers: list[tuple[int, dt.time, dt.time]] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """Names the slots this plan must keep for their bookings. A save made from a preview
        passes it back: if a booking came in meanwhile on a slot the preview retired, the
        plan is no longer the one the doctor saw, and the save is refused (not half done)."""
        kept = sorted(str(slot.public_id) for slot, _booked in self.kept_booked)
        return hashlib.sha256(",".join(kept).encode()).hexdigest()[:20]

    @property
    def changes_anything(self) -> bool:
        return bool(self.make or self.retire)

    def made_by_day(self) -> list[tuple[str, int, str]]:
        """Per weekday: its name, how many slots are made, and their times as ranges."""
        return _summary_by_day(self.make)

    def retired_by_day(self) -> list[tuple[str, int, str]]:
        return _summary_by_day(self.retire)


def _summary_by_day(slots: Sequence[NewSlot | Slot]) -> list[tuple[str, int, str]]:
    by_day: dict[int, list[NewSlot | Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.weekday, []).append(slot)
    summary = []
    for day in sorted(by_day):
        ranges: list[list[dt.time]] = []
        for slot in sorted(by_day[day], key=lambda s: s.start_time):
            if ranges and ranges[-1][1] == slot.start_time:
                ranges[-1][1] = slot.end_time
            else:
                ranges.append([slot.start_time, slot.end_time])
        text = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in ranges)
        summary.append((str(Weekday(day).label), len(by_day[day]), text))
    return summary


def _validate_hours(hours: Mapping[int, Sequence[TimeRange]], visit_minutes: int) -> None:
    if not MIN_VISIT_MINUTES <= visit_minutes <= MAX_VISIT_MINUTES:
        raise SchedulingError(
            _("A visit lasts from %(min)s to %(max)s minutes.")
            % {"min": MIN_VISIT_MINUTES, "max": MAX_VISIT_MINUTES},
            "visit_length",
        )
    for weekday, ranges in hours.items():
        if not 0 <= weekday <= 6:
            raise SchedulingError(_("Choose a day of the week."), "weekday")
        day = Weekday(weekday).label
        ordered = sorted(ranges)
        for start, end in ordered:
            if end <= start:
                raise SchedulingError(
                    _("%(day)s: %(start)s–%(end)s must end after it starts.")
                    % {"day": day, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                    "order",
                )
            if _minutes(start, end) < visit_minutes:
                raise SchedulingError(
                    _("%(day)s: %(start)s–%(end)s is shorter than one visit (%(minutes)s minutes).")
                    % {
                        "day": day,
                        "start": f"{start:%H:%M}",
                        "end": f"{end:%H:%M}",
                        "minutes": visit_minutes,
                    },
                    "too_short",
                )
        for (_start, end), (start, _end) in itertools.pairwise(ordered):
            if start < end:
                raise SchedulingError(
                    _("%(day)s: two of the times overlap.") % {"day": day}, "overlap"
                )


def _cut(
    hours: Mapping[int, Sequence[TimeRange]], visit_minutes: int, plan: HoursPlan
) -> list[NewSlot]:
    wanted = []
    for weekday in sorted(hours):
        for start, end in sorted(hours[weekday]):
            at = start.hour * 60 + start.minute
            stop = end.hour * 60 + end.minute
            while at + visit_minutes <= stop:
                wanted.append(
                    NewSlot(
                        weekday,
                        dt.time(at // 60, at % 60),
                        dt.time((at + visit_minutes) // 60, (at + visit_minutes) % 60),
                    )
                )
                at += visit_minutes
            if at < stop:
                plan.leftovers.append((weekday, dt.time(at // 60, at % 60), end))
    return wanted


def plan_working_hours(
    *,
    doctor: DoctorProfile,
    hours: Mapping[int, Sequence[TimeRange]],
    visit_minutes: int,
    now: dt.datetime | None = None,
) -> HoursPlan:
    """What `set_working_hours` would do now: the weekly slots it makes, keeps and retires.

    `hours` maps a weekday (0 = Monday) to its ranges (a day left out has no hours); each
    range is cut into visits of `visit_minutes`. A slot that no longer fits is retired,
    unless upcoming appointments use it: it stays, and they are listed. Extra hours on
    dates are not touched.
    """
    now = now or timezone.now()
    _validate_hours(hours, visit_minutes)
    plan = HoursPlan(visit_minutes=visit_minutes)
    wanted = _cut(hours, visit_minutes, plan)
    existing = list(
        Slot.objects.active().weekly().filter(doctor=doctor).order_by("weekday", "start_time")
    )
    by_times = {(s.weekday, s.start_time, s.end_time): s for s in existing}
    wanted_keys = {(n.weekday, n.start_time, n.end_time) for n in wanted}
    leaving = [s for s in existing if (s.weekday, s.start_time, s.end_time) not in wanted_keys]
    booked = _upcoming_on_slots([s.pk for s in leaving], now)
    for slot in leaving:
        if slot.pk in booked:
            plan.kept_booked.append((slot, booked[slot.pk]))
        else:
            plan.retire.append(slot)
    staying = [s for s, _booked in plan.kept_booked]
    staying += (
        Slot.objects.active()
        .extra_dates()
        .filter(doctor=doctor, date__gte=timezone.localdate(now, clock.clinic_tz()))
    )
    for new in wanted:
        same = by_times.get((new.weekday, new.start_time, new.end_time))
        if same is not None:
            plan.keep.append(same)
            continue
        clash = next(
            (
                s
                for s in staying
                if s.weekday == new.weekday and s.overlaps(new.start_time, new.end_time)
            ),
            None,
        )
        if clash is None:
            plan.make.append(new)
        else:
            plan.blocked.append((new, clash))
    return plan


class PlanChanged(SchedulingError):
    def __init__(self, plan: HoursPlan) -> None:
        super().__init__(
            _(
                "A patient booked one of the slots these hours retire since the preview; that "
                "slot now stays. Check the new plan and save again."
            ),
            "plan_changed",
        )
        self.plan = plan


@transaction.atomic
def set_working_hours(
    *,
    doctor: DoctorProfile,
    hours: Mapping[int, Sequence[TimeRange]],
    visit_minutes: int,
    expected: str | None = None,
    now: dt.datetime | None = None,
) -> HoursPlan:
    """Sets the doctor's weekly hours in one transaction: makes the new slots and retires
    those that no longer fit (see `plan_working_hours`). With `expected` (the fingerprint
    of a preview), raises PlanChanged instead when the plan is no longer that one."""
    now = now or timezone.now()
    locked = _lock_doctor_calendar(doctor.pk)
    plan = plan_working_hours(doctor=doctor, hours=hours, visit_minutes=visit_minutes, now=now)
    if expected is not None and expected != plan.fingerprint:
        raise PlanChanged(plan)
    for slot in plan.retire:
        _retire(slot, now)
    made = [
        # One save per row (not bulk_create): the audit trail records each slot.
        Slot.objects.create(
            doctor=doctor, weekday=new.weekday, start_time=new.start_time, end_time=new.end_time
        )
        for new in plan.make
    ]
    if plan.changes_anything:
        availability.changed(doctor)
    _offer_new_slots(locked, made, now)
    return plan


@transaction.atomic
def add_extra_hours(
    *,
    doctor: DoctorProfile,
    date: dt.date,
    ranges: Sequence[TimeRange],
    visit_minutes: int,
) -> list[Slot]:
    """Slots on one date only (a one-off Saturday clinic), each range cut into visits, all
    made or none. They are booked like weekly slots, under the same unique constraint."""
    locked = _lock_doctor_calendar(doctor.pk)
    today = clock.today()
    if date < today:
        raise SchedulingError(_("Extra hours cannot be in the past."), "past")
    if date > availability.horizon_end(today) + dt.timedelta(days=365):
        raise SchedulingError(_("Extra hours can be added up to a year ahead."), "too_far")
    if not ranges:
        raise SchedulingError(_("Give at least one time range."), "no_hours")
    hours = {date.weekday(): list(ranges)}
    _validate_hours(hours, visit_minutes)
    made = []
    for new in _cut(hours, visit_minutes, HoursPlan(visit_minutes=visit_minutes)):
        clash = _clashing_slot(
            doctor,
            weekday=new.weekday,
            date=date,
            start_time=new.start_time,
            end_time=new.end_time,
            today=today,
        )
        if clash is not None:
            raise SchedulingError(
                _("%(start)s–%(end)s overlaps your slot %(slot)s.")
                % {
                    "start": f"{new.start_time:%H:%M}",
                    "end": f"{new.end_time:%H:%M}",
                    "slot": clash,
                },
                "overlap",
            )
        made.append(
            Slot.objects.create(
                doctor=doctor,
                weekday=new.weekday,
                date=date,
                start_time=new.start_time,
                end_time=new.end_time,
            )
        )
    availability.changed(doctor)
    _offer_new_slots(locked, made, timezone.now())
    return made


# --- Time off ------------------------------------------------------------------------------


@transaction.atomic
def add_time_off(
    *,
    doctor: DoctorProfile,
    start_date: dt.date,
    end_date: dt.date,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    reason: str = "",
    cancel_booked: bool = False,
    now: dt.datetime | None = None,
) -> TimeOff:
    """Blocks the days (or, with times, those hours of each day) for new bookings.
    Appointments already booked in them are cancelled (the patients are told) only when
    `cancel_booked` says so; otherwise nothing is saved."""
    now = now or timezone.now()
    doctor = _lock_doctor_calendar(doctor.pk)
    if end_date < start_date:
        raise SchedulingError(_("The last day cannot be before the first."), "order")
    if start_date < clock.today():
        raise SchedulingError(_("Time off cannot start in the past."), "starts_in_past")
    if (end_date - start_date).days > 365:
        raise SchedulingError(_("Time off can cover at most a year at a time."), "too_long")
    if (start_time is None) != (end_time is None):
        raise SchedulingError(
            _("Give both times for part of a day, or neither for whole days."), "times"
        )
    if start_time is not None and end_time is not None and end_time <= start_time:
        raise SchedulingError(_("The time off must end after it starts."), "order")
    booked = selectors.appointments_during(
        doctor, start_date, end_date, now=now, start_time=start_time, end_time=end_time
    )
    if booked and not cancel_booked:
        raise SchedulingError(
            ngettext(
                "%(count)s appointment is booked in this time. Confirm that it should be "
                "cancelled (the patient is told), or choose another time.",
                "%(count)s appointments are booked in this time. Confirm that they should be "
                "cancelled (the patients are told), or choose another time.",
                len(booked),
            )
            % {"count": len(booked)},
            "has_bookings",
        )
    time_off = TimeOff.objects.create(
        doctor=doctor,
        start_date=start_date,
        end_date=end_date,
        start_time=start_time,
        end_time=end_time,
        reason=reason.strip(),
    )
    availability.changed(doctor)
    when = "at that time" if start_time is not None else "on that day"
    why = f"{doctor.display_name} is unavailable {when}."
    for appointment in booked:
        cancel(appointment=appointment, by=doctor.user, reason=why, now=now)
    return time_off


@transaction.atomic
def remove_time_off(*, time_off: TimeOff, now: dt.datetime | None = None) -> TimeOff:
    """Opens the days for booking again; the row stays, inactive. The times it opens are
    offered to the doctor's waitlist."""
    now = now or timezone.now()
    # The doctor first, as every calendar change locks it: the times opened are offered
    # with no booking slipping in between.
    doctor = _lock_doctor_calendar(time_off.doctor_id)
    period = TimeOff.objects.select_for_update(of=("self",)).get(pk=time_off.pk)
    if period.is_active:
        period.is_active = False
        period.save(update_fields=["is_active"])
        availability.changed(doctor)
        start_time, end_time = period.start_time, period.end_time
        _offer_times(
            doctor,
            now,
            start=period.start_date,
            end=period.end_date,
            wanted=lambda o: (
                start_time is None
                or end_time is None
                or (o.slot.start_time < end_time and start_time < o.slot.end_time)
            ),
        )
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


# --- Family members who registered -----------------------------------------------------------


@transaction.atomic
def link_dependant(
    *, dependant: Dependant, user: User, by: User, now: dt.datetime | None = None
) -> Dependant:
    """An admin links a family member who has since registered to their own account (the
    same national ID proves it is them). Their appointments, past and to come, become the
    account's: its holder sees them and gets the e-mails from now on; `booked_by` still names
    the guardian who booked. Refused, nothing changed, if one of them would overlap an
    appointment the account already holds."""
    now = now or timezone.now()
    if not (by.is_active and by.is_clinic_admin):
        raise NotAllowed
    _lock_patient(user)
    locked = Dependant.objects.select_for_update(of=("self",)).get(pk=dependant.pk)
    if locked.user_id is not None:
        raise SchedulingError(gettext("This family member is already linked."), "linked")
    if not (user.is_active and user.role == User.Role.PATIENT):
        raise SchedulingError(gettext("Link to an active patient account."), "patient")
    if user.pk == locked.guardian_id or not locked.national_id:
        raise SchedulingError(
            gettext("Only a family member with a national ID can be linked to an account."),
            "no_national_id",
        )
    if locked.national_id != user.national_id:
        raise SchedulingError(
            gettext("The account's national ID is not the family member's."), "other_person"
        )
    try:
        # A savepoint: a refusal leaves the caller's transaction usable (an admin action
        # links several in one request).
        with transaction.atomic():
            for appt in Appointment.objects.filter(dependant=locked).order_by("starts_at"):
                appt.patient, appt.dependant = user, None
                appt.save(update_fields=["patient", "dependant", "updated_at"])
    except IntegrityError as exc:
        if not person_overlap.refused(exc):
            raise
        raise SchedulingError(
            gettext(
                "One of %(name)s's appointments overlaps one the account already holds: "
                "cancel one of them first."
            )
            % {"name": locked.full_name},
            "patient_overlap",
        ) from exc
    locked.user, locked.linked_at = user, now
    locked.save(update_fields=["user", "linked_at"])
    return locked


# --- The waitlist ----------------------------------------------------------------------------

MAX_WAITLIST_DAYS = 92


def _hold_until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(minutes=settings.WAITLIST_HOLD_MINUTES)


@transaction.atomic
def join_waitlist(
    *,
    patient: User,
    doctor: DoctorProfile,
    start_date: dt.date,
    end_date: dt.date,
    earliest: dt.time | None = None,
    latest: dt.time | None = None,
    dependant: Dependant | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Puts the patient (or a family member of theirs) on the doctor's waitlist for the dates
    from start to end (and, optionally, times of day from `earliest`, ending by `latest`). A
    time that frees up in that range is offered to the first waiting patient it suits."""
    now = now or timezone.now()
    patient = _lock_patient(patient)
    if not _is_bookable_patient(patient):
        raise SchedulingError(
            gettext("Only active patient accounts can join a waitlist."), "patient"
        )
    _check_dependant(patient, dependant)
    if not (doctor.is_listed and doctor.accepting_bookings):
        raise SchedulingError(
            gettext("%(doctor)s is not taking bookings at the moment.")
            % {"doctor": doctor.display_name},
            "not_accepting",
        )
    today = timezone.localdate(now, clock.clinic_tz())
    if end_date < start_date:
        raise SchedulingError(gettext("The last day cannot be before the first."), "order")
    if start_date < today:
        raise SchedulingError(gettext("The dates cannot be in the past."), "past")
    if end_date > availability.horizon_end(today):
        raise SchedulingError(
            gettext("Appointments can be booked up to %(days)d days ahead.")
            % {"days": settings.BOOKING_HORIZON_DAYS},
            "beyond_horizon",
        )
    if earliest is not None and latest is not None and latest <= earliest:
        raise SchedulingError(gettext("The times of day must be in order."), "order")
    already = WaitlistEntry.objects.current().filter(
        patient=patient, dependant=dependant, doctor=doctor
    )
    if already.exists():
        raise SchedulingError(
            gettext("You are already on %(doctor)s's waitlist for this person.")
            % {"doctor": doctor.display_name},
            "already_waiting",
        )
    return WaitlistEntry.objects.create(
        patient=patient,
        dependant=dependant,
        doctor=doctor,
        start_date=start_date,
        end_date=end_date,
        earliest=earliest,
        latest=latest,
    )


@transaction.atomic
def leave_waitlist(*, entry: WaitlistEntry, by: User, now: dt.datetime | None = None) -> None:
    """Takes the patient off the waitlist; a time held for them goes to the next patient."""
    now = now or timezone.now()
    if entry.patient_id != by.pk:
        raise NotAllowed
    doctor = _lock_doctor(entry.doctor_id)
    locked = WaitlistEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if not locked.is_current:
        return
    held = list(
        WaitlistOffer.objects.select_for_update(of=("self",)).filter(
            entry=locked, status=WaitlistOffer.Status.OPEN
        )
    )
    locked.status, locked.left_at = WaitlistEntry.Status.LEFT, now
    locked.save(update_fields=["status", "left_at"])
    for offer in held:
        _close_offer(offer, WaitlistOffer.Status.PASSED, now)
    if held:
        freed = {(o.slot_id, o.date) for o in held}
        _offer_times(
            doctor,
            now,
            start=min(o.date for o in held),
            end=max(o.date for o in held),
            wanted=lambda o: (o.slot.pk, o.date) in freed,
        )


def _close_offer(
    offer: WaitlistOffer, status: str, now: dt.datetime, appointment: Appointment | None = None
) -> None:
    offer.status, offer.closed_at, offer.appointment = status, now, appointment
    offer.save(update_fields=["status", "closed_at", "appointment"])


def _may_wait(entry: WaitlistEntry) -> bool:
    """Whether the entry's patient may still be offered a time (the booking's rules of the
    person: an active patient account; a family member still theirs and unlinked)."""
    return _is_bookable_patient(entry.patient) and _is_their_family_member(
        entry.patient, entry.dependant
    )


def _offer_times(
    doctor: DoctorProfile,
    now: dt.datetime,
    *,
    start: dt.date,
    end: dt.date,
    wanted: Callable[[availability.Opening], bool],
) -> list[WaitlistOffer]:
    """Offers the doctor's free times from `start` to `end` that `wanted` picks (the ones
    just opened) to the patients in line on the doctor's waitlist, holding each for its
    patient for WAITLIST_HOLD_MINUTES: the times in order, each to the first patient in line
    (by joining time) whom it suits and who may book it, each patient one time at most.

    Runs in the transaction that opened the times, the doctor locked: bookings take the same
    lock, so none slips in between these reads and the holds, and the partial unique index
    on open offers is the last word on "one holder". A fixed number of queries whatever the
    number of times and patients (a doctor's new weekly hours open hundreds of times up to
    the horizon): the patients in line, the doctor's calendar (availability's three reads),
    the offers made before for those times, the persons' own appointments at those times;
    then the writes, each one statement for all the offers (the offers, the outbox's events
    and their deliveries). Returns the offers made."""
    today = timezone.localdate(now, clock.clinic_tz())
    start, end = max(start, today), min(end, availability.horizon_end(today))
    if start > end or not (doctor.accepting_bookings and doctor.user.is_active):
        return []
    line = [
        entry
        for entry in WaitlistEntry.objects.in_line(now)
        .filter(doctor=doctor, start_date__lte=end, end_date__gte=start)
        .select_related("patient", "dependant")
        .order_by("created_at", "pk")
        if _may_wait(entry)
    ]
    if not line:
        return []
    start = max(start, min(entry.start_date for entry in line))
    end = min(end, max(entry.end_date for entry in line))
    times = [
        opening
        for day in availability.calendar(doctor, start, end, now=now)
        for opening in day.openings
        if opening.is_free and wanted(opening)
    ]
    if not times:
        return []
    # The offers made before for these times: one still holding keeps its time; one that ran
    # out is closed as the time goes to the next patient; a patient offered a time once is
    # not offered it again.
    keys = {(o.slot.pk, o.date) for o in times}
    held: set[tuple[int, dt.date]] = set()
    ran_out: dict[tuple[int, dt.date], int] = {}
    tried: dict[tuple[int, dt.date], set[int]] = {}
    for pk, entry_id, slot_id, date, status, expires_at in WaitlistOffer.objects.filter(
        doctor=doctor, date__gte=start, date__lte=end, slot_id__in={k[0] for k in keys}
    ).values_list("pk", "entry_id", "slot_id", "date", "status", "expires_at"):
        key = (slot_id, date)
        tried.setdefault(key, set()).add(entry_id)
        if status == WaitlistOffer.Status.OPEN:
            if expires_at > now:
                held.add(key)
            else:
                ran_out[key] = pk
    # Each person's open appointments over the span of the times (the overlap rule).
    busy: dict[tuple[int, int | None], list[tuple[dt.datetime, dt.datetime]]] = {}
    for patient_id, dependant_id, starts_at, ends_at in (
        Appointment.objects.open()
        .filter(
            patient_id__in={entry.patient_id for entry in line},
            starts_at__lt=max(o.ends_at for o in times),
            ends_at__gt=times[0].starts_at,
        )
        .values_list("patient_id", "dependant_id", "starts_at", "ends_at")
    ):
        busy.setdefault((patient_id, dependant_id), []).append((starts_at, ends_at))

    offers: list[WaitlistOffer] = []
    passed: list[int] = []
    hold_until = _hold_until(now)
    for opening in times:
        key = (opening.slot.pk, opening.date)
        if key in held:
            continue
        for entry in line:
            if (
                entry.pk in tried.get(key, ())
                or not entry.suits(opening.date, opening.slot.start_time, opening.slot.end_time)
                or any(
                    s < opening.ends_at and e > opening.starts_at
                    for s, e in busy.get((entry.patient_id, entry.dependant_id), ())
                )
            ):
                continue
            offers.append(
                WaitlistOffer(
                    entry=entry,
                    doctor=doctor,
                    slot_id=opening.slot.pk,
                    date=opening.date,
                    starts_at=opening.starts_at,
                    ends_at=opening.ends_at,
                    expires_at=hold_until,
                )
            )
            if key in ran_out:
                passed.append(ran_out[key])
            line.remove(entry)
            break
        if not line:
            break
    if passed:
        WaitlistOffer.objects.filter(pk__in=passed, status=WaitlistOffer.Status.OPEN).update(
            status=WaitlistOffer.Status.PASSED, closed_at=now
        )
    if offers:
        WaitlistOffer.objects.bulk_create(offers)
        events.publish_offers(events.WAITLIST_OFFERED, offers)
    return offers


def _offer_freed(doctor: DoctorProfile, slot_id: int, date: dt.date, now: dt.datetime) -> None:
    """One time of the doctor's came free (a cancellation, an offer passed on)."""
    _offer_times(doctor, now, start=date, end=date, wanted=lambda o: o.slot.pk == slot_id)


def _offer_new_slots(doctor: DoctorProfile, slots: Sequence[Slot], now: dt.datetime) -> None:
    """New times of the doctor (extra hours, new weekly slots), up to the booking horizon:
    each patient in line is offered the first one that suits them."""
    if not slots:
        return
    new = {slot.pk for slot in slots}
    today = timezone.localdate(now, clock.clinic_tz())
    _offer_times(
        doctor,
        now,
        start=min((slot.date or today) for slot in slots),
        end=availability.horizon_end(today),
        wanted=lambda o: o.slot.pk in new,
    )


def claim_offer(
    *, offer: WaitlistOffer, by: User, reason: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Books the held time for the patient it is held for (their family member, if the entry
    is for one). Claiming again returns the same appointment; an offer that ran out, or was
    passed on, is refused (the time may be anyone's by then)."""
    return _offering_alternatives(
        offer.doctor, now or timezone.now(), _claim, offer=offer, by=by, reason=reason
    )


@transaction.atomic
def _claim(*, offer: WaitlistOffer, by: User, reason: str, now: dt.datetime) -> Appointment:
    entry = WaitlistEntry.objects.select_related("dependant").get(pk=offer.entry_id)
    if entry.patient_id != by.pk:
        raise NotAllowed
    # The booking's lock order: the patient, then the doctor, then the offer.
    _lock_patient(by)
    _lock_doctor(offer.doctor_id)
    locked = (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("appointment", "slot")
        .get(pk=offer.pk)
    )
    if locked.status == WaitlistOffer.Status.BOOKED and locked.appointment is not None:
        return locked.appointment
    if not locked.is_holding(now):
        raise SchedulingError(
            gettext(
                "This offer has run out, so the time was passed on. You are still on the "
                "waitlist for other times."
            ),
            "offer_expired",
        )
    return _book(
        patient=by,
        doctor=offer.doctor,
        slot=locked.slot,
        date=locked.date,
        reason=reason,
        by=by,
        now=now,
        dependant=entry.dependant,
    )


def pass_on_expired_offers(*, now: dt.datetime | None = None) -> int:
    """Offers that ran out go to the next waiting patient. Not needed for correctness (a
    time whose hold ran out is bookable by anyone at once, and its patient is back in line
    at once: WaitlistEntryQuerySet.in_line); the worker runs it so that the next patient
    hears of it. Returns how many were passed on."""
    now = now or timezone.now()
    passed = 0
    expired = WaitlistOffer.objects.filter(status=WaitlistOffer.Status.OPEN, expires_at__lte=now)
    for offer_id, doctor_id in expired.values_list("pk", "doctor_id"):
        with transaction.atomic():
            doctor = _lock_doctor(doctor_id)
            offer = (
                WaitlistOffer.objects.select_for_update(of=("self",))
                .select_related("entry", "slot")
                .get(pk=offer_id)
            )
            if offer.status != WaitlistOffer.Status.OPEN or offer.expires_at > now:
                continue
            _close_offer(offer, WaitlistOffer.Status.PASSED, now)
            passed += 1
            _offer_freed(doctor, offer.slot_id, offer.date, now)
    return passed
