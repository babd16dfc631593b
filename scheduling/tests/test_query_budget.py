"""The list pages run a fixed number of SQL queries whatever the size of the clinic.

Each page is measured twice in one test: on a small clinic (3 doctors, 30 days of bookings
either side of today, 2 slots a day for Dora) and on a large one (300 doctors, a year of
bookings, 8 slots a day), built with bulk_create. The two counts must be equal, and equal
to the page's budget below, so that a query added to every size is noticed too.

Each page is requested twice: the second request runs the same queries (nothing is cached
but the doctor's calendar version, for the grid's ETag).

Clock: Monday 1 June 2026, 10:00 Berlin.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import DoctorProfile, PatientProfile, User
from accounts.tests.factories import BranchFactory, SpecialtyFactory
from scheduling import clock
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

Status = Appointment.Status

# Queries per page; the comments say what each one is.
BUDGET = {
    # specialties, branches, count, the page of doctors (with user, specialty, branch), then
    # their next free times: slots, time off and taken times of the page's doctors for the
    # first fortnight, and again for the rest of the horizon (here some have nothing free in
    # the first: each colleague is booked out within 30 days)
    "directory": 10,
    # the doctor, then availability's slots, time off, appointments holding a slot
    "doctor-page": 4,
    "grid-fragment": 4,
    # session, user, upcoming, past (each with doctor, user, specialty, branch)
    "my-appointments": 4,
    # session, user, doctor profile, today's queue, upcoming
    "dashboard": 5,
    # session, user, doctor profile, patients with their profiles
    "my-patients": 4,
    # session, user, doctor profile, the week's slots, time off, appointments with patients
    "week": 6,
    "day-print": 6,
}


@dataclass(frozen=True)
class Size:
    doctors: int
    days_back: int
    days_ahead: int
    slots_per_day: int
    patients: int


SMALL = Size(doctors=3, days_back=30, days_ahead=30, slots_per_day=2, patients=10)
LARGE = Size(doctors=300, days_back=365, days_ahead=60, slots_per_day=8, patients=60)


def _people(prefix: str, n: int, role: str) -> list[User]:
    """Active users straight into the table (no password hashing, no rules)."""
    digit = "5" if role == User.Role.DOCTOR else "6"
    users = [
        User(
            national_id=f"{digit}{i:08d}",
            full_name=f"{prefix.title()} {i:04d}",
            email=f"{prefix}{i}@bulk.example",
            phone=f"+49305{digit}{i:06d}",
            role=role,
            is_active=True,
            activated_at=NOW,
            password="!",  # an unusable password
        )
        for i in range(n)
    ]
    return User._base_manager.bulk_create(users)


def _appointment(
    slot: Slot, date: dt.date, patient: User, status: str, n: int
) -> Appointment | None:
    window = clock.slot_window(date, slot.start_time, slot.end_time)
    if window is None:
        return None
    starts_at, ends_at = window
    if status == Status.SCHEDULED and n % 9 == 0:
        status = Status.CANCELLED
    return Appointment(
        patient=patient,
        doctor_id=slot.doctor_id,
        slot=slot,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        reason=f"Visit {n}",
        cancelled_at=NOW if status == Status.CANCELLED else None,
        checked_in_at=NOW if status == Status.CHECKED_IN else None,
    )


def _status(date: dt.date, n: int) -> str:
    if date > TODAY:
        return Status.SCHEDULED
    if date == TODAY:
        return (Status.CHECKED_IN, Status.SCHEDULED)[n % 2]
    return (Status.COMPLETED, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED)[n % 4]


def build(size: Size, *, dora: DoctorProfile, alice: User) -> int:
    """A clinic of `size` around Dora and Alice; returns the number of appointments."""
    specialties = [SpecialtyFactory() for _ in range(4)]
    branches = [BranchFactory() for _ in range(3)]
    colleagues = DoctorProfile._base_manager.bulk_create(
        DoctorProfile(
            user=user,
            slug=f"bulk-doctor-{i}",
            specialty=specialties[i % 4],
            branch=branches[i % 3],
            consultation_fee=50 + i % 40,
        )
        for i, user in enumerate(_people("doctor", size.doctors - 1, User.Role.DOCTOR))
    )
    patients = _people("patient", size.patients, User.Role.PATIENT)
    PatientProfile._base_manager.bulk_create(
        PatientProfile(user=p, medical_history=f"History of {p.full_name}") for p in patients
    )

    doras = Slot._base_manager.bulk_create(
        Slot(
            doctor=dora,
            weekday=weekday,
            start_time=dt.time(9 + i // 2, 30 * (i % 2)),
            end_time=dt.time(9 + i // 2, 29 + 30 * (i % 2)),
        )
        for weekday in range(5)
        for i in range(size.slots_per_day)
    )
    theirs = Slot._base_manager.bulk_create(
        Slot(doctor=d, weekday=i % 5, start_time=dt.time(15), end_time=dt.time(15, 30))
        for i, d in enumerate(colleagues)
    )

    first = TODAY - dt.timedelta(days=size.days_back)
    dates = [first + dt.timedelta(days=d) for d in range(size.days_back + size.days_ahead + 1)]
    pool = itertools.cycle(patients)
    counter = itertools.count()
    rows: list[Appointment | None] = []
    # Dora is fully booked; Alice holds her first slot every Monday.
    by_weekday: dict[int, list[Slot]] = {}
    for slot in doras:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    for date in dates:
        for i, slot in enumerate(by_weekday.get(date.weekday(), [])):
            n = next(counter)
            who = alice if i == 0 and date.weekday() == 0 else next(pool)
            rows.append(_appointment(slot, date, who, _status(date, n), n))
    # Alice sees a different colleague each week; the pool fills their other weeks within a
    # month of today.
    alices = {}
    for week, monday in enumerate(d for d in dates if d.weekday() == 0):
        slot = theirs[week % len(theirs)]
        alices[slot.pk, monday + dt.timedelta(days=slot.weekday)] = slot
    for (_, date), slot in alices.items():
        if date <= dates[-1]:
            n = next(counter)
            rows.append(_appointment(slot, date, alice, _status(date, n), n))
    # Colleagues sharing a weekday see different patients at 15:00: one person is never in
    # two open appointments at once (the database refuses it, scheduling.person_overlap).
    for i, slot in enumerate(theirs):
        for date in dates:
            if (
                date.weekday() == slot.weekday
                and abs((date - TODAY).days) <= 30
                and (slot.pk, date) not in alices
            ):
                n = next(counter)
                who = patients[(i // 5 + (date - first).days // 7) % len(patients)]
                rows.append(_appointment(slot, date, who, _status(date, n), n))
    made = Appointment._base_manager.bulk_create(
        [r for r in rows if r is not None], batch_size=2000
    )
    return len(made)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str | None
    htmx: bool = False


def page_for(name: str, dora: DoctorProfile) -> Page:
    return {
        "directory": Page(name, "/doctors/", None),
        "doctor-page": Page(name, f"/doctors/{dora.slug}/", None),
        "grid-fragment": Page(name, f"/doctors/{dora.slug}/availability/", None, htmx=True),
        "my-appointments": Page(name, "/appointments/", "alice"),
        "dashboard": Page(name, "/dashboard/", "dora"),
        "my-patients": Page(name, "/dashboard/patients/", "dora"),
        "week": Page(name, "/dashboard/week/", "dora"),
        "day-print": Page(name, f"/dashboard/print/?date={TODAY:%Y-%m-%d}", "dora"),
    }[name]


def measure(page: Page, users: dict[str, User]) -> tuple[int, list[str], str]:
    """Queries of the page from a cold cache; then asserts the same count and HTML again."""
    client = Client()
    if page.who:
        client.force_login(users[page.who])
    headers = {"HTTP_HX_REQUEST": "true"} if page.htmx else {}
    for each in caches.all():
        each.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.path, **headers)
    assert response.status_code == 200
    html = _without_csrf(response.content.decode())
    with CaptureQueriesContext(connection) as warm:
        again = client.get(page.path, **headers)
    assert len(warm) == BUDGET[page.name], "\n".join(q["sql"] for q in warm.captured_queries)
    assert _without_csrf(again.content.decode()) == html
    return len(queries), [q["sql"] for q in queries.captured_queries], html


def _without_csrf(html: str) -> str:
    # The page carries a fresh masked CSRF token on every request.
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.mark.parametrize("name", BUDGET)
def test_page_runs_the_same_queries_small_and_large(
    name: str, dora: DoctorProfile, doctor: User, patient: User
) -> None:
    users = {"alice": patient, "dora": doctor}
    page = page_for(name, dora)

    with transaction.atomic():
        small_count = build(SMALL, dora=dora, alice=patient)
        small, small_sql, small_html = measure(page, users)
        transaction.set_rollback(True)
    large_count = build(LARGE, dora=dora, alice=patient)
    large, large_sql, large_html = measure(page, users)

    assert large_count > 10 * small_count
    assert len(large_html) > len(small_html), "the large clinic shows no more: measure more"
    assert small == large, "\n".join(["small:", *small_sql, "large:", *large_sql])
    assert large == BUDGET[name], "\n".join(large_sql)


# A signed-in patient's booking POST, each statement named (savepoints, which stand for the
# transaction's BEGIN and COMMIT under the test's own transaction, are not counted).
BOOKING_BUDGET = [
    "session",
    "user",
    "the slot with its doctor (a 404 when the doctor is not listed)",
    "the patient, locked",
    "the slot and its doctor again, locked",
    "the time off that day and the patient's appointment at that time (resubmission, overlap)",
    "INSERT the appointment",
    "INSERT its audit entry",
    "INSERT the event (its payload from the rows already read)",
    "INSERT the deliveries, selecting the webhook endpoints that want the event",
]


def test_a_booking_runs_a_fixed_number_of_queries_in_one_transaction(
    client: Client,
    now: dt.datetime,
    dora: DoctorProfile,
    monday_9: Slot,
    patient: User,
    django_capture_on_commit_callbacks,
) -> None:
    client.force_login(patient)
    next_monday = (TODAY + dt.timedelta(days=7)).isoformat()
    # The process's first event reads the row that mirrors N8N_WEBHOOK_URL once, and after
    # its commit no event reads an endpoint (notifications.services).
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            f"/doctors/{dora.slug}/book/",
            {"date": (TODAY + dt.timedelta(days=14)).isoformat(), "slot": str(monday_9.public_id)},
        )
    assert first.status_code == 302

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/doctors/{dora.slug}/book/",
            {"date": next_monday, "slot": str(monday_9.public_id), "reason": "Check-up"},
        )

    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    savepoints = [s for s in statements if re.match(r"(RELEASE )?SAVEPOINT", s)]
    # One transaction: the booking's. The flash message rides in a cookie, so the session
    # is not saved in a second one.
    assert len(savepoints) == 2
    assert len(statements) - len(savepoints) == len(BOOKING_BUDGET), "\n".join(statements)
