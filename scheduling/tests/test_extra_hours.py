"""Extra hours on one date (a one-off Saturday clinic): slots bookable on that date only,
under the same unique constraint as the weekly ones.

Clock: Monday 1 June 2026, 10:00 Berlin (see conftest).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import DoctorProfile, User
from scheduling import availability, services
from scheduling.models import Appointment, Slot
from scheduling.tests.view_helpers import html

pytestmark = pytest.mark.django_db

T = dt.time
SATURDAY = dt.date(2026, 6, 6)


def test_a_saturday_morning_makes_slots_on_that_date_only(dora: DoctorProfile) -> None:
    made = services.add_extra_hours(
        doctor=dora, date=SATURDAY, ranges=[(T(9), T(12))], visit_minutes=20
    )

    assert len(made) == 9
    assert {(s.date, s.weekday) for s in made} == {(SATURDAY, 5)}
    assert str(made[0]) == "Sat 06 Jun 2026 09:00-09:20"
    assert not Slot.objects.weekly().exists()


def test_an_extra_slot_is_booked_on_its_date_and_only_there(
    dora: DoctorProfile, patient: User, other_patient: User
) -> None:
    (slot,) = services.add_extra_hours(
        doctor=dora, date=SATURDAY, ranges=[(T(9), T(9, 30))], visit_minutes=30
    )

    appointment = services.book(patient=patient, doctor=dora, slot=slot, date=SATURDAY)
    assert appointment.starts_at.isoformat() == "2026-06-06T09:00:00+02:00"

    with pytest.raises(services.SchedulingError) as caught:
        services.book(patient=patient, doctor=dora, slot=slot, date=SATURDAY + dt.timedelta(7))
    assert caught.value.code == "wrong_date"
    with pytest.raises(services.SlotTaken):
        services.book(patient=other_patient, doctor=dora, slot=slot, date=SATURDAY)


def test_the_unique_constraint_holds_for_extra_slots(dora: DoctorProfile, patient: User) -> None:
    (slot,) = services.add_extra_hours(
        doctor=dora, date=SATURDAY, ranges=[(T(9), T(9, 30))], visit_minutes=30
    )
    services.book(patient=patient, doctor=dora, slot=slot, date=SATURDAY)
    first = Appointment.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            patient=first.patient,
            doctor=dora,
            slot=slot,
            date=SATURDAY,
            starts_at=first.starts_at,
            ends_at=first.ends_at,
        )
    # Two active extra slots of one doctor cannot start at the same time on one date.
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.create(
            doctor=dora, weekday=5, date=SATURDAY, start_time=T(9), end_time=T(9, 10)
        )


@pytest.mark.parametrize(
    ("date", "ranges", "code"),
    [
        (dt.date(2026, 5, 30), [(T(9), T(12))], "past"),
        (SATURDAY, [(T(8), T(10))], "overlap"),  # the weekly Saturday 09:00 slot
        (SATURDAY, [], "no_hours"),
        (SATURDAY, [(T(9), T(9, 10))], "too_short"),
    ],
    ids=["past", "overlaps-weekly", "no-hours", "shorter-than-a-visit"],
)
def test_impossible_extra_hours_are_refused_whole(
    dora: DoctorProfile, date: dt.date, ranges: list, code: str
) -> None:
    services.add_slot(doctor=dora, weekday=5, start_time=T(9), end_time=T(9, 30))

    with pytest.raises(services.SchedulingError) as caught:
        services.add_extra_hours(doctor=dora, date=date, ranges=ranges, visit_minutes=20)

    assert caught.value.code == code
    assert not Slot.objects.extra_dates().exists()


def test_a_weekly_slot_over_coming_extra_hours_is_refused(dora: DoctorProfile) -> None:
    services.add_extra_hours(doctor=dora, date=SATURDAY, ranges=[(T(9), T(10))], visit_minutes=30)

    with pytest.raises(services.SchedulingError) as caught:
        services.add_slot(doctor=dora, weekday=5, start_time=T(9, 15), end_time=T(9, 45))

    assert caught.value.code == "overlap"
    assert "Sat 06 Jun 2026 09:00-09:30" in caught.value.text


def test_the_page_adds_and_lists_extra_hours(client: Client, dora: DoctorProfile) -> None:
    client.force_login(dora.user)

    response = client.post(
        "/dashboard/extra-hours/",
        {"date": "2026-06-06", "ranges": "09:00-12:00", "visit_minutes": "20"},
        follow=True,
    )

    page = html(response)
    assert "9 extra slots added on Saturday 6 June 2026." in page
    assert "Saturday 6 June 2026" in page
    assert Slot.objects.extra_dates().filter(date=SATURDAY).count() == 9


def test_the_page_refuses_bad_extra_hours_inline(client: Client, dora: DoctorProfile) -> None:
    client.force_login(dora.user)

    response = client.post(
        "/dashboard/extra-hours/",
        {"date": "2026-05-30", "ranges": "09:00-12:00", "visit_minutes": "20"},
    )

    assert response.status_code == 400
    assert "Extra hours cannot be in the past." in html(response)
    assert not Slot.objects.exists()


def test_an_admin_adds_an_extra_slot_by_its_date(
    client: Client, admin_user: User, dora: DoctorProfile
) -> None:
    client.force_login(admin_user)

    response = client.post(
        "/admin/scheduling/slot/add/",
        {"doctor": dora.pk, "date": "2026-06-06", "start_time": "09:00", "end_time": "09:30"},
    )
    refused = client.post(
        "/admin/scheduling/slot/add/",
        {"doctor": dora.pk, "start_time": "10:00", "end_time": "10:30"},
    )

    assert response.status_code == 302
    slot = Slot.objects.get()
    assert (slot.date, slot.weekday, slot.start_time) == (SATURDAY, 5, T(9))
    assert refused.status_code == 200
    assert "Choose a day of the week, or a date." in html(refused)
    assert Slot.objects.count() == 1


def test_the_grid_offers_extra_slots_on_their_date_only(
    client: Client, dora: DoctorProfile
) -> None:
    services.add_slot(doctor=dora, weekday=5, start_time=T(8), end_time=T(8, 30))
    services.add_extra_hours(doctor=dora, date=SATURDAY, ranges=[(T(9), T(10))], visit_minutes=30)

    days = {d.date: d for d in availability.days(dora, SATURDAY, SATURDAY + dt.timedelta(7))}

    assert [o.time_label for o in days[SATURDAY].openings] == ["08:00", "09:00", "09:30"]
    assert [o.time_label for o in days[SATURDAY + dt.timedelta(7)].openings] == ["08:00"]
    page = html(client.get(f"/doctors/{dora.slug}/"))
    assert "Saturday 6 June 09:30" in page
    assert "Saturday 13 June 09:30" not in page
