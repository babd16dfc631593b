from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Dependant, DoctorProfile, User
from common.i18n import date_format_for
from common.kept import KeptForever, KeptQuerySet, NeverDeletedQuerySet


def _day(value: dt.date, fmt: str) -> str:
    """A date in the active language (day and month names, their order)."""
    return formats.date_format(value, date_format_for(fmt))


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SlotQuerySet(KeptQuerySet["Slot"]):
    def active(self) -> SlotQuerySet:
        return self.filter(is_active=True)

    def weekly(self) -> SlotQuerySet:
        return self.filter(date__isnull=True)

    def extra_dates(self) -> SlotQuerySet:
        """Extra slots: those that exist on one date only."""
        return self.filter(date__isnull=False)

    def on_dates(self, start: dt.date, end: dt.date) -> SlotQuerySet:
        """Every slot that may happen between start and end: the weekly ones and the extra
        ones dated in the range."""
        return self.filter(Q(date__isnull=True) | Q(date__gte=start, date__lte=end))


class Slot(KeptForever, models.Model):
    """One of a doctor's times (clinic time): weekly, e.g. Mondays 09:00-09:30, or, with a
    `date`, an extra time on that date only (a one-off Saturday clinic). An extra slot's
    `weekday` is its date's, so every rule about weekdays holds for both."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    doctor = models.ForeignKey(
        DoctorProfile, on_delete=models.PROTECT, related_name="slots", verbose_name=_("doctor")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    date = models.DateField(
        _("date"),
        null=True,
        blank=True,
        help_text=_("Only on this date (extra hours); empty: every week."),
    )
    # Retired slots are deactivated, never deleted: past appointments point at them.
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["doctor", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="scheduling_slot_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="scheduling_slot_weekday_valid"
            ),
            models.UniqueConstraint(
                fields=["doctor", "weekday", "start_time"],
                condition=Q(is_active=True, date__isnull=True),
                name="scheduling_slot_unique_active_start",
            ),
            models.UniqueConstraint(
                fields=["doctor", "date", "start_time"],
                condition=Q(is_active=True, date__isnull=False),
                name="scheduling_slot_unique_active_dated_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["doctor", "is_active", "weekday"], name="scheduling_slot_doctor_idx"
            ),
        ]

    def __str__(self) -> str:
        day = _day(self.date, "D d M Y") if self.date else self.get_weekday_display()
        return (
            f"{day} {self.start_time:%H:%M}-{self.end_time:%H:%M}"
            f"{'' if self.is_active else gettext(' (retired)')}"
        )

    @property
    def is_extra(self) -> bool:
        return self.date is not None

    def happens_on(self, date: dt.date) -> bool:
        """Whether the slot is one of the doctor's times on that date (active or not)."""
        return date == self.date if self.date is not None else date.weekday() == self.weekday

    def overlaps(self, start: dt.time, end: dt.time) -> bool:
        return self.start_time < end and start < self.end_time

    @property
    def duration(self) -> dt.timedelta:
        return dt.datetime.combine(dt.date.min, self.end_time) - dt.datetime.combine(
            dt.date.min, self.start_time
        )


class TimeOffQuerySet(KeptQuerySet["TimeOff"]):
    def active(self) -> TimeOffQuerySet:
        return self.filter(is_active=True)

    def covering(self, date: dt.date) -> TimeOffQuerySet:
        return self.filter(start_date__lte=date, end_date__gte=date)

    def over(self, start: dt.time, end: dt.time) -> TimeOffQuerySet:
        """Whole days, and part days whose hours overlap start-end."""
        return self.filter(Q(start_time__isnull=True) | Q(start_time__lt=end, end_time__gt=start))


class TimeOff(KeptForever, models.Model):
    """A doctor's absence: whole days from start_date to end_date (inclusive), or, with
    start and end times, those hours on each of those days (a part-day absence, a break)."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    doctor = models.ForeignKey(
        DoctorProfile, on_delete=models.PROTECT, related_name="time_off", verbose_name=_("doctor")
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    end_time = models.TimeField(_("end time"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = TimeOffQuerySet.as_manager()

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["doctor", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="scheduling_timeoff_ends_after_start",
            ),
            # Whole days (no times) or a part of each day (both times, in order).
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True)
                | Q(
                    start_time__isnull=False,
                    end_time__isnull=False,
                    end_time__gt=models.F("start_time"),
                ),
                name="scheduling_timeoff_part_day_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "end_date"], name="scheduling_timeoff_doctor_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(doctor)s: off %(period)s") % {
            "doctor": self.doctor,
            "period": self.period_label,
        }

    @property
    def is_part_day(self) -> bool:
        return self.start_time is not None

    @property
    def period_label(self) -> str:
        """E.g. "Wed 03 Jun 2026, 14:00–18:00" or "Mon 08 Jun – Fri 12 Jun 2026"."""
        if self.start_date == self.end_date:
            days = _day(self.start_date, "D d M Y")
        else:
            days = f"{_day(self.start_date, 'D d M')} – {_day(self.end_date, 'D d M Y')}"
        if self.start_time is None or self.end_time is None:
            return days
        return f"{days}, {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def blocks(self, date: dt.date, start: dt.time, end: dt.time) -> bool:
        """Whether a time from start to end on that date falls in this absence."""
        if not self.start_date <= date <= self.end_date:
            return False
        if self.start_time is None or self.end_time is None:
            return True
        return self.start_time < end and start < self.end_time


class AppointmentQuerySet(KeptQuerySet["Appointment"]):
    def holding_slot(self) -> AppointmentQuerySet:
        """Appointments that occupy their slot: every one but the cancelled."""
        return self.exclude(status=Appointment.Status.CANCELLED)

    def open(self) -> AppointmentQuerySet:
        return self.filter(status__in=Appointment.OPEN_STATUSES)

    def upcoming(self, now: dt.datetime | None = None) -> AppointmentQuerySet:
        """Open and not over. These keep their slot in use: it cannot be retired."""
        return self.open().filter(ends_at__gt=now or timezone.now())

    def past(self, now: dt.datetime | None = None) -> AppointmentQuerySet:
        now = now or timezone.now()
        return self.filter(Q(ends_at__lte=now) | ~Q(status__in=Appointment.OPEN_STATUSES))

    def for_doctor(self, doctor: DoctorProfile) -> AppointmentQuerySet:
        return self.filter(doctor=doctor)

    def for_patient(self, patient: User) -> AppointmentQuerySet:
        return self.filter(patient=patient)

    def on(self, date: dt.date) -> AppointmentQuerySet:
        return self.filter(date=date)

    def with_people(self) -> AppointmentQuerySet:
        return self.select_related(
            "patient",
            "dependant",
            "doctor__user",
            "doctor__specialty",
            "doctor__branch",
            "slot",
            "service",
        )


class Appointment(KeptForever, models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CHECKED_IN = "checked_in", _("Checked in")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    OPEN_STATUSES = (Status.SCHEDULED, Status.CHECKED_IN)
    FINAL_STATUSES = (Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW)

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("patient"),
    )
    # The person seen when it is not the patient: a family member the patient booked for.
    # The patient (the account holder) still holds the appointment and gets the e-mails.
    dependant = models.ForeignKey(
        Dependant,
        on_delete=models.PROTECT,
        related_name="appointments",
        null=True,
        blank=True,
        verbose_name=_("for"),
    )
    doctor = models.ForeignKey(
        DoctorProfile,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("doctor"),
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("slot")
    )
    date = models.DateField(_("date"))
    # Aware instants of the slot on that date in the clinic's time zone (DST included).
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    reason = models.TextField(_("reason for the visit"), blank=True, max_length=1000)
    # The doctor's own notes: shown to the doctor and admins only, never sent anywhere
    # (e-mails, webhooks, calendar feeds, the patient's pages); the audit trail records that
    # they changed, not what they say.
    doctor_notes = models.TextField(_("doctor's notes"), blank=True, max_length=5000)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("no-show"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("cancelled by"),
    )
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    # Who made the booking: the patient, or the front desk on their behalf (a walk-in, a
    # phone call). Empty on appointments booked before this was recorded.
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("booked by"),
    )
    rescheduled_at = models.DateTimeField(_("rescheduled"), null=True, blank=True)
    # The service booked and its price at that moment (in CLINIC_CURRENCY): a later change of
    # the service's price or of the doctor's fee rewrites no history. Without a service, the
    # price is the doctor's consultation fee. Both empty on appointments booked before prices
    # were kept.
    service = models.ForeignKey(
        "directory.Service",
        on_delete=models.PROTECT,
        related_name="appointments",
        null=True,
        blank=True,
        verbose_name=_("service"),
    )
    price = models.DecimalField(
        _("price"), max_digits=8, decimal_places=2, null=True, blank=True, editable=False
    )
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    # Not a column: the patient's place in the day's queue, where a read has numbered it
    # (selectors.todays_queue, selectors.queue_number).
    queue_number: int | None = None

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at"]
        constraints = [
            # The last word on double booking: one slot, one date, one appointment that holds
            # it. Cancelled ones free the slot; the same slot exists on other dates.
            models.UniqueConstraint(
                fields=["doctor", "slot", "date"],
                condition=~Q(status="cancelled"),
                name="scheduling_appointment_unique_active_slot",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="scheduling_appointment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["scheduled", "checked_in", "completed", "cancelled", "no_show"]
                ),
                name="scheduling_appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="scheduling_appointment_cancel_has_time",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="scheduling_appointment_price_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "date", "status"], name="scheduling_appt_doctor_day"),
            models.Index(fields=["patient", "starts_at"], name="scheduling_appt_patient"),
            models.Index(fields=["status", "starts_at"], name="scheduling_appt_status_start"),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{_day(local, 'd M Y H:i')} {self.doctor} – {self.patient.full_name}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def person_name(self) -> str:
        """Who is seen: the dependant booked for, else the patient."""
        if self.dependant_id is not None and self.dependant is not None:
            return self.dependant.full_name
        return self.patient.full_name

    def has_started(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.starts_at

    def change_refusal(self, now: dt.datetime) -> str | None:
        """Why the appointment can no longer be cancelled or moved (a SchedulingError code),
        or None while it can: scheduled, and not started."""
        if self.status != self.Status.SCHEDULED:
            return "not_scheduled"
        if self.has_started(now):
            return "started"
        return None

    def can_change(self, now: dt.datetime) -> bool:
        """Can still be cancelled or moved (by its patient, its doctor or an admin)."""
        return self.change_refusal(now) is None

    def cancel_needs_reason(self, by: models.Model) -> bool:
        """Anyone but the patient who cancels tells the patient why."""
        return by.pk != self.patient_id


class WaitlistEntryQuerySet(KeptQuerySet["WaitlistEntry"]):
    def current(self) -> WaitlistEntryQuerySet:
        """Still on the list: waiting, or holding an offer (neither booked nor left)."""
        return self.filter(status=WaitlistEntry.Status.WAITING)

    def in_line(self, now: dt.datetime) -> WaitlistEntryQuerySet:
        """Waiting for a time to be offered: on the list and holding no offer now. An offer
        whose hold ran out holds nothing, so its patient is back in line at that instant,
        with no job run (the clock decides, as for the time itself)."""
        return self.current().exclude(Exists(_holding_for_entry(now)))

    def with_offer_held(self, now: dt.datetime) -> WaitlistEntryQuerySet:
        """Each entry with `offer_held`: whether an offer holds a time for it now."""
        return self.annotate(offer_held=Exists(_holding_for_entry(now)))

    def for_patient(self, patient: User) -> WaitlistEntryQuerySet:
        return self.filter(patient=patient)


class WaitlistEntry(KeptForever, models.Model):
    """A patient waiting for a doctor's time between two dates (and, optionally, between two
    times of day), for themself or a family member. A time that frees up in that range is
    offered to the first waiting patient it suits (WaitlistOffer)."""

    class Status(models.TextChoices):
        # "Offered a time" is not stored: it is what an offer holding a time now says (see
        # `shown_status`), and a stored copy went stale the moment the hold ran out.
        WAITING = "waiting", _("Waiting")
        BOOKED = "booked", _("Booked")
        LEFT = "left", _("Left the waitlist")

    OFFERED = "offered"
    OFFERED_LABEL = _("Offered a time")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        verbose_name=_("patient"),
    )
    dependant = models.ForeignKey(
        Dependant,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        null=True,
        blank=True,
        verbose_name=_("for"),
    )
    doctor = models.ForeignKey(
        DoctorProfile,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        verbose_name=_("doctor"),
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    earliest = models.TimeField(_("not before"), null=True, blank=True)
    latest = models.TimeField(_("ending by"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    booked_at = models.DateTimeField(_("booked"), null=True, blank=True)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="scheduling_waitlist_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(earliest__isnull=True)
                | Q(latest__isnull=True)
                | Q(latest__gt=models.F("earliest")),
                name="scheduling_waitlist_times_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "booked", "left"]),
                name="scheduling_waitlist_status_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["doctor", "status", "start_date"], name="scheduling_waitlist_doctor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient.full_name} waits for {self.doctor} {self.start_date}–{self.end_date}"

    @property
    def person_name(self) -> str:
        return self.dependant.full_name if self.dependant is not None else self.patient.full_name

    @property
    def is_current(self) -> bool:
        return self.status == self.Status.WAITING

    def shown_status(self, offer_held: bool) -> str:
        """The status as the patient reads it: "offered" while an offer holds a time for a
        waiting entry (`offer_held`, from WaitlistOffer.holding or `with_offer_held`)."""
        return self.OFFERED if offer_held and self.is_current else self.status

    def shown_status_label(self, offer_held: bool) -> str:
        if self.shown_status(offer_held) == self.OFFERED:
            return str(self.OFFERED_LABEL)
        return self.get_status_display()

    def suits(self, date: dt.date, start: dt.time, end: dt.time) -> bool:
        """Whether a time on that date falls in the range and the times of day asked for."""
        return (
            self.start_date <= date <= self.end_date
            and (self.earliest is None or start >= self.earliest)
            and (self.latest is None or end <= self.latest)
        )


# Not in the audit trail (audit.tracked): an offer's record is its outbox event,
# waitlist.offered, written in the same transaction. Its rows are never deleted, and are
# written in bulk when new hours open many times at once (scheduling.services._offer_times).
class WaitlistOfferQuerySet(NeverDeletedQuerySet["WaitlistOffer"]):
    def holding(self, now: dt.datetime) -> WaitlistOfferQuerySet:
        """Offers that hold their time now: open and not run out."""
        return self.filter(status=WaitlistOffer.Status.OPEN, expires_at__gt=now)


def _holding_for_entry(now: dt.datetime) -> WaitlistOfferQuerySet:
    return WaitlistOffer.objects.holding(now).filter(entry=OuterRef("pk"))


class WaitlistOffer(KeptForever, models.Model):
    """A freed time held for one waiting patient until `expires_at`. While it holds, nobody
    else can book the time (the booking reads the hold under the doctor's lock); at most one
    open offer per time (a partial unique index); once it runs out, the time is free for
    anyone at once (the booking compares `expires_at` with the clock: no job has to run for
    that), and the worker offers it to the next waiting patient."""

    class Status(models.TextChoices):
        OPEN = "open", _("Held")
        BOOKED = "booked", _("Booked")
        PASSED = "passed", _("Passed on")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.PROTECT, related_name="offers", verbose_name=_("entry")
    )
    doctor = models.ForeignKey(
        DoctorProfile, on_delete=models.PROTECT, related_name="+", verbose_name=_("doctor")
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="waitlist_offers", verbose_name=_("slot")
    )
    date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="waitlist_offer",
        null=True,
        blank=True,
        verbose_name=_("appointment"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = WaitlistOfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        constraints = [
            # Exactly one holder: one open offer per time (doctor, slot, date).
            models.UniqueConstraint(
                fields=["doctor", "slot", "date"],
                condition=Q(status="open"),
                name="scheduling_waitlistoffer_one_holder",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "booked", "passed"]),
                name="scheduling_waitlistoffer_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False),
                name="scheduling_waitlistoffer_booked_has_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slot} on {self.date} held for {self.entry.patient.full_name}"

    def is_holding(self, now: dt.datetime) -> bool:
        return self.status == self.Status.OPEN and self.expires_at > now
