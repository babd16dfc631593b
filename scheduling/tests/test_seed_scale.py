"""`manage.py seed_scale` builds a valid clinic: every rule the services keep holds in the
rows it writes straight to the tables. A tiny size here; the benchmark builds a million."""

from __future__ import annotations

import collections
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import DoctorProfile, User
from scheduling import availability, clock, services
from scheduling.models import Appointment, Slot, TimeOff

pytestmark = pytest.mark.django_db

Status = Appointment.Status


def seed(**sizes: int) -> str:
    out = StringIO()
    options = {"doctors": 4, "patients": 40, "days": 90, "appointments": 1200, **sizes}
    call_command(
        "seed_scale", *[f"--{k}={v}" for k, v in options.items()], "--no-progress", stdout=out
    )
    return out.getvalue()


def test_seeds_people_calendars_and_history_that_keep_every_rule() -> None:
    out = seed()

    assert "Seeded 4 doctors, 40 patients and" in out
    doctors = DoctorProfile.objects.select_related("user")
    assert doctors.count() == 4
    assert all(d.user.is_active and d.user.role == User.Role.DOCTOR for d in doctors)
    assert User.objects.filter(role=User.Role.PATIENT, is_active=True).count() == 40
    assert Slot.objects.count() == 4 * 5 * 8
    assert TimeOff.objects.count() == 1

    rows = list(Appointment.objects.select_related("slot"))
    # 1,200 bookings of the slots, plus some cancelled times booked again.
    assert 1100 <= len(rows) <= 1500
    today = clock.today()
    by_status = collections.Counter(a.status for a in rows)
    assert set(by_status) == {Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED, Status.SCHEDULED}
    for a in rows:
        assert a.slot.doctor_id == a.doctor_id
        assert a.slot.weekday == a.date.weekday()
        assert (a.starts_at, a.ends_at) == clock.slot_window(
            a.date, a.slot.start_time, a.slot.end_time
        )
        assert a.date <= availability.horizon_end(today)
        if a.status == Status.SCHEDULED:
            assert a.date >= today
        if a.status in (Status.COMPLETED, Status.NO_SHOW):
            assert a.starts_at < timezone.now()
    holding = [a for a in rows if a.status != Status.CANCELLED]
    # One appointment holding a slot on a date; nobody in two places at once.
    assert len({(a.slot_id, a.date) for a in holding}) == len(holding)
    assert len({(a.patient_id, a.starts_at) for a in holding}) == len(holding)
    assert any(a.date < today for a in rows)
    assert any(a.date > today for a in rows)
    # Nothing scheduled while its doctor is away.
    away = TimeOff.objects.get()
    assert not any(
        a.doctor_id == away.doctor_id and away.start_date <= a.date <= away.end_date
        for a in rows
        if a.status == Status.SCHEDULED
    )


def test_a_seeded_patient_can_book_a_seeded_doctors_free_time() -> None:
    seed()
    doctor = DoctorProfile.objects.exclude(pk=TimeOff.objects.get().doctor_id).first()
    page = Client().get(f"/doctors/{doctor.slug}/")
    assert page.status_code == 200
    free = availability.free_openings(
        doctor, clock.today() + dt.timedelta(days=2), availability.horizon_end()
    )
    assert free
    patient = User.objects.filter(role=User.Role.PATIENT, email__endswith="@scale.example")[0]
    free = [
        o
        for o in free
        if not Appointment.objects.open().filter(patient=patient, starts_at=o.starts_at).exists()
    ]

    appointment = services.book(
        patient=patient, doctor=doctor, slot=free[0].slot, date=free[0].date
    )

    assert appointment.status == Status.SCHEDULED


def test_refuses_to_seed_a_database_twice() -> None:
    seed(appointments=10)

    with pytest.raises(CommandError, match="already holds the scale data"):
        seed(appointments=10)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"doctors": 10, "patients": 5}, "at least as many patients as doctors"),
        ({"days": 7, "appointments": 10_000}, "do not fit"),
    ],
)
def test_refuses_impossible_sizes(sizes: dict[str, int], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        seed(**sizes)
    assert not Appointment.objects.exists()
