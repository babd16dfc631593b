"""Reminders: each appointment starting within REMINDER_HOURS is reminded exactly once.

One booked (or moved) when it was already that close gets no reminder: its confirmation (or
new-time message) has just told the patient when, and a "coming up" two seconds after it says
nothing new. The rule is in `due()`, so e-mail and webhook alike follow it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from notifications import services
from notifications.models import EventType
from scheduling import services as scheduling
from scheduling.models import Appointment


def due(now: dt.datetime | None = None) -> QuerySet[Appointment]:
    now = now or timezone.now()
    window = dt.timedelta(hours=settings.REMINDER_HOURS)
    # When the reminder's moment came, the patient had already been told of this time.
    told_in_time = Q(created_at__lte=F("starts_at") - window) & (
        Q(rescheduled_at__isnull=True) | Q(rescheduled_at__lte=F("starts_at") - window)
    )
    return Appointment.objects.filter(
        told_in_time,
        status=Appointment.Status.SCHEDULED,
        reminder_sent_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + window,
    ).order_by("starts_at")


def send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Records an `appointment.reminder` event (and its e-mail) for each due appointment;
    returns how many. Safe to run anywhere, any number of times, at once."""
    sent = 0
    for appointment in due(now)[:limit]:
        with transaction.atomic():
            # The claim and the event commit together: a reminder is marked sent if and only
            # if its event is in the outbox, and only one claimer gets True.
            if scheduling.claim_reminder(appointment=appointment, now=now):
                services.record_appointment_event(
                    event_type=EventType.APPOINTMENT_REMINDER,
                    appointment=appointment,
                    # The worker sends the deliveries itself, next in its pass.
                    hand_off=False,
                )
                sent += 1
    return sent
