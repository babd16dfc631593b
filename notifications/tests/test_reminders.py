"""Each appointment starting within REMINDER_HOURS is reminded exactly once, however often
the worker runs and however many run at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connections
from pytest_httpserver import HTTPServer
from time_machine import TimeMachineFixture

from notifications.models import Event, EventType
from notifications.tests.conftest import HOOK, TUESDAY, received_ids, run_worker
from scheduling import services
from scheduling.models import Appointment, Slot

REMINDER = EventType.APPOINTMENT_REMINDER


def reminders() -> list[str]:
    return sorted(
        str(pk)
        for pk in Event.objects.filter(type=REMINDER).values_list(
            "appointment_public_id", flat=True
        )
    )


@pytest.mark.django_db
def test_reminded_once_however_often_the_worker_runs(
    book: Callable[..., Appointment], time_machine: TimeMachineFixture
) -> None:
    soon = book(0, date=TUESDAY)  # Tuesday 10:00: 24 hours from now
    later = book(1, date=TUESDAY)  # Tuesday 10:30
    next_week = book(2)
    dropped = book(3, date=TUESDAY)
    services.cancel(appointment=dropped, by=dropped.patient)
    time_machine.shift(dt.timedelta(seconds=5))

    run_worker()
    run_worker()
    assert reminders() == [str(soon.public_id)]

    time_machine.shift(dt.timedelta(hours=1))
    run_worker()
    run_worker()
    assert reminders() == sorted([str(soon.public_id), str(later.public_id)])

    reminder_mails = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert len(reminder_mails) == 2
    assert sorted(m.subject for m in reminder_mails) == [
        "Reminder: your appointment with Dr. Dora Doctor on Tuesday 2 June 2026 at 10:00",
        "Reminder: your appointment with Dr. Dora Doctor on Tuesday 2 June 2026 at 10:30",
    ]
    soon.refresh_from_db()
    assert soon.reminder_sent_at is not None
    next_week.refresh_from_db()
    assert next_week.reminder_sent_at is None


@pytest.mark.django_db
def test_a_moved_appointment_is_reminded_of_its_new_time(
    book: Callable[..., Appointment],
    tuesday_slots: list[Slot],
    time_machine: TimeMachineFixture,
) -> None:
    appointment = book(0, date=TUESDAY)
    time_machine.shift(dt.timedelta(seconds=5))
    run_worker()
    services.reschedule(
        appointment=appointment, by=appointment.patient, slot=tuesday_slots[1], date=TUESDAY
    )
    time_machine.shift(dt.timedelta(hours=1))

    run_worker()
    run_worker()

    events = Event.objects.filter(type=REMINDER).order_by("created_at")
    assert [e.payload["data"]["appointment"]["starts_at"] for e in events] == [
        "2026-06-02T10:00:00+02:00",
        "2026-06-02T10:30:00+02:00",
    ]
    # The second reminder's invitation is the moved entry's version, not a new entry.
    assert [e.sequence for e in events] == [0, 1]


@pytest.mark.django_db
def test_dry_run_lists_what_is_due_and_changes_nothing(
    book: Callable[..., Appointment], time_machine: TimeMachineFixture
) -> None:
    appointment = book(0, date=TUESDAY)
    time_machine.shift(dt.timedelta(seconds=5))

    out = run_worker("--dry-run")

    assert f"reminder: {appointment.public_id} at 2026-06-02 10:00" in out
    assert "delivery" in out  # the confirmation e-mail, not yet sent
    assert not Event.objects.filter(type=REMINDER).exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_each_appointment_once(
    book: Callable[..., Appointment], receiver: HTTPServer, time_machine: TimeMachineFixture
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    due = [book(n, date=TUESDAY) for n in range(0, 12, 2)]  # 10:00, 11:00, ... 15:00
    time_machine.shift(dt.timedelta(hours=6))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            run_worker()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert reminders() == sorted(str(a.public_id) for a in due)
    reminder_mails = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert len(reminder_mails) == len(due)
    ids = received_ids(receiver)
    assert len(ids) == len(set(ids)) == 2 * len(due)  # booked + reminder, each once
