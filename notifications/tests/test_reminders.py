"""Each appointment starting within REMINDER_HOURS is reminded exactly once, however often
the worker runs and however many run at once; one booked or moved when it was already that
close is not reminded at all (its confirmation just went out).

The scene's clock stands at Monday 10:00, 24 hours before Tuesday 10:00: tests that want a
reminder book two hours earlier (`book_early`), then come back to Monday 10:00."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connections
from django.utils import translation
from pytest_httpserver import HTTPServer
from time_machine import TimeMachineFixture

from notifications import worker
from notifications.management.commands.run_worker import pass_summary
from notifications.models import Event, EventType
from notifications.tests.conftest import (
    HOOK,
    NEXT_TUESDAY,
    NOW,
    TUESDAY,
    received,
    received_ids,
    run_worker,
)
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


@pytest.fixture
def book_early(
    book: Callable[..., Appointment], time_machine: TimeMachineFixture
) -> Callable[..., list[Appointment]]:
    """Books these (slot, date) pairs at Monday 08:00, then the clock is at Monday 10:00."""

    def _book(*wanted: tuple[int, dt.date]) -> list[Appointment]:
        time_machine.move_to(NOW - dt.timedelta(hours=2), tick=True)
        booked = [book(n, date=date) for n, date in wanted]
        time_machine.move_to(NOW + dt.timedelta(seconds=5), tick=True)
        return booked

    return _book


@pytest.mark.django_db
def test_reminded_once_however_often_the_worker_runs(
    book_early: Callable[..., list[Appointment]], time_machine: TimeMachineFixture
) -> None:
    # Tuesday 10:00 (24 hours from now), 10:30, next week, and one cancelled.
    soon, later, next_week, dropped = book_early(
        (0, TUESDAY), (1, TUESDAY), (2, NEXT_TUESDAY), (3, TUESDAY)
    )
    services.cancel(appointment=dropped, by=dropped.patient)

    first = run_worker()
    again = run_worker()
    assert reminders() == [str(soon.public_id)]
    # The operator's log line counts in words with their own plurals, never "reminder(s)".
    assert re.fullmatch(r"1 reminder recorded, (\d+) delivery attempts, \1 delivered\.\n", first)
    assert again == "0 reminders recorded, 0 delivery attempts, 0 delivered.\n"

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
    book_early: Callable[..., list[Appointment]],
    tuesday_slots: list[Slot],
    time_machine: TimeMachineFixture,
) -> None:
    [appointment] = book_early((0, TUESDAY))
    run_worker()
    # Moved at Monday 10:00 to Tuesday 10:30: the reminder's moment is still to come.
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
    book_early: Callable[..., list[Appointment]],
) -> None:
    [appointment] = book_early((0, TUESDAY))

    out = run_worker("--dry-run")

    assert f"reminder: {appointment.public_id} at 2026-06-02 10:00" in out
    assert "delivery" in out  # the confirmation e-mail, not yet sent
    assert not Event.objects.filter(type=REMINDER).exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_each_appointment_once(
    book_early: Callable[..., list[Appointment]],
    receiver: HTTPServer,
    time_machine: TimeMachineFixture,
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    due = book_early(*[(n, TUESDAY) for n in range(0, 12, 2)])  # 10:00, 11:00, ... 15:00
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


@pytest.mark.django_db
def test_booked_or_moved_inside_the_window_gets_no_separate_reminder(
    book: Callable[..., Appointment],
    book_early: Callable[..., list[Appointment]],
    tuesday_slots: list[Slot],
    receiver: HTTPServer,
    time_machine: TimeMachineFixture,
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    [moved] = book_early((4, NEXT_TUESDAY))
    # Monday 12:00: Tuesday 11:00 and 11:30 are 23 hours away, inside the 24-hour window;
    # one is booked, the other moved there.
    time_machine.shift(dt.timedelta(hours=2))
    booked = book(2, date=TUESDAY)
    services.reschedule(appointment=moved, by=moved.patient, slot=tuesday_slots[3], date=TUESDAY)

    for _ in range(3):
        run_worker()
        time_machine.shift(dt.timedelta(hours=6))

    assert reminders() == []
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 3  # two confirmations, the new time
    assert not any(s.startswith("Reminder:") for s in subjects)
    types = [json.loads(body)["type"] for _, body in received(receiver)]
    assert sorted(types) == [
        "appointment.booked",
        "appointment.booked",
        "appointment.rescheduled",
    ]
    booked.refresh_from_db()
    moved.refresh_from_db()
    assert booked.reminder_sent_at is None
    assert moved.reminder_sent_at is None


def test_the_pass_line_has_each_counts_own_plural() -> None:
    result = worker.PassResult(reminders=2, attempted=1, delivered=1)

    assert pass_summary(result) == "2 reminders recorded, 1 delivery attempt, 1 delivered."
    with translation.override("de"):
        assert pass_summary(result) == ("2 Erinnerungen erfasst, 1 Zustellversuch, 1 zugestellt.")
