"""Reminders: each appointment starting within REMINDER_HOURS is reminded exactly once."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications import services
from notifications.models import EventType
from scheduling import services as scheduling
from scheduling.models import Appointment


def due(now: dt.datetime | None = None) -> QuerySet[Appointment]:
    now = now or timezone.now()
    return Appointment.objects.filter(
        status=Appointment.Status.SCHEDULED,
        reminder_sent_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(hours=settings.REMINDER_HOURS),
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
