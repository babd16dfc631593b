"""Part-day absences and breaks: time off with a start and end time, on each of its days.
Appointments booked in it are listed, and cancelled (the patients told) only on purpose.

Clock: Monday 1 June 2026, 10:00 Berlin (see conftest).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import DoctorProfile, User
from scheduling import availability, selectors, services
from scheduling.models import Appointment, TimeOff
from scheduling.tests.view_helpers import booked, html, slot_at

pytestmark = pytest.mark.django_db

T = dt.time
WEDNESDAY = dt.date(2026, 6, 3)
Status = Appointment.Status


@pytest.fixture
def wednesday(dora: DoctorProfile) -> dict[str, object]:
    """Dora's Wednesdays: 09:00, 14:00 and 16:00, half an hour each."""
    return {hour: slot_at(dora, 2, T(hour)) for hour in (9, 14, 16)}


def test_an_afternoon_off_blocks_the_afternoon_only(
    dora: DoctorProfile, wednesday: dict, patient: User
) -> None:
    services.add_time_off(
        doctor=dora, start_date=WEDNESDAY, end_date=WEDNESDAY, start_time=T(13), end_time=T(18)
    )

    morning = services.book(patient=patient, doctor=dora, slot=wednesday[9], date=WEDNESDAY)
    assert morning.status == Status.SCHEDULED
    with pytest.raises(services.SchedulingError) as caught:
        services.book(patient=patient, doctor=dora, slot=wednesday[14], date=WEDNESDAY)
    assert caught.value.code == "time_off"
    assert caught.value.text == (
        "Dr. Dora Doctor is not seeing patients at that time on 3 June 2026."
    )


def test_a_daily_break_over_several_days(dora: DoctorProfile, patient: User) -> None:
    tuesday_12, wednesday_12 = slot_at(dora, 1, T(12)), slot_at(dora, 2, T(12))
    services.add_time_off(
        doctor=dora,
        start_date=dt.date(2026, 6, 2),
        end_date=dt.date(2026, 6, 5),
        start_time=T(12),
        end_time=T(13),
        reason="Lunch",
    )

    for slot, date in ((tuesday_12, dt.date(2026, 6, 2)), (wednesday_12, WEDNESDAY)):
        with pytest.raises(services.SchedulingError, match="at that time"):
            services.book(patient=patient, doctor=dora, slot=slot, date=date)
    # The week after is open again.
    services.book(patient=patient, doctor=dora, slot=tuesday_12, date=dt.date(2026, 6, 9))


def test_booked_appointments_inside_are_listed_and_nothing_saved(
    dora: DoctorProfile, wednesday: dict, patient: User, other_patient: User
) -> None:
    inside = booked(wednesday[14], WEDNESDAY, patient=patient)
    outside = booked(wednesday[9], WEDNESDAY, patient=other_patient)

    with pytest.raises(services.SchedulingError) as caught:
        services.add_time_off(
            doctor=dora,
            start_date=WEDNESDAY,
            end_date=WEDNESDAY,
            start_time=T(13),
            end_time=T(18),
        )

    assert caught.value.code == "has_bookings"
    assert not TimeOff.objects.exists()
    listed = selectors.appointments_during(
        dora, WEDNESDAY, WEDNESDAY, start_time=T(13), end_time=T(18), now=dt.datetime.now(dt.UTC)
    )
    assert listed == [inside]
    assert {a.status for a in Appointment.objects.filter(pk__in=[inside.pk, outside.pk])} == {
        Status.SCHEDULED
    }


def test_cancelling_on_purpose_tells_the_patients_inside_only(
    dora: DoctorProfile,
    wednesday: dict,
    patient: User,
    other_patient: User,
    published: list,
) -> None:
    inside = booked(wednesday[14], WEDNESDAY, patient=patient)
    outside = booked(wednesday[9], WEDNESDAY, patient=other_patient)

    services.add_time_off(
        doctor=dora,
        start_date=WEDNESDAY,
        end_date=WEDNESDAY,
        start_time=T(13),
        end_time=T(18),
        cancel_booked=True,
    )

    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.status == Status.CANCELLED
    assert inside.cancellation_reason == "Dr. Dora Doctor is unavailable at that time."
    assert outside.status == Status.SCHEDULED
    assert [(kind, a.pk) for kind, a in published] == [("appointment.cancelled", inside.pk)]


@pytest.mark.parametrize(
    ("times", "code"),
    [((T(13), None), "times"), ((T(18), T(13)), "order")],
    ids=["one-time-only", "backwards"],
)
def test_impossible_part_days_are_refused(dora: DoctorProfile, times: tuple, code: str) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.add_time_off(
            doctor=dora,
            start_date=WEDNESDAY,
            end_date=WEDNESDAY,
            start_time=times[0],
            end_time=times[1],
        )
    assert caught.value.code == code
    assert not TimeOff.objects.exists()


def test_the_database_refuses_half_a_part_day(dora: DoctorProfile) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeOff.objects.create(
            doctor=dora, start_date=WEDNESDAY, end_date=WEDNESDAY, start_time=T(13)
        )


# --- The page --------------------------------------------------------------------------------


def test_the_page_lists_the_patients_booked_in_the_afternoon_then_cancels_on_purpose(
    client: Client, dora: DoctorProfile, wednesday: dict, patient: User
) -> None:
    client.force_login(dora.user)
    inside = booked(wednesday[14], WEDNESDAY, patient=patient)
    data = {"start_date": "2026-06-03", "start_time": "13:00", "end_time": "18:00"}

    refused = client.post("/dashboard/time-off/", data)

    assert refused.status_code == 409
    page = html(refused)
    assert "Alice Patient" in page
    assert f'href="tel:{patient.phone}"' in page
    assert not TimeOff.objects.exists()

    response = client.post("/dashboard/time-off/", {**data, "cancel_booked": "on"}, follow=True)

    assert response.redirect_chain == [("/dashboard/time-off/", 302)]
    page = html(response)
    assert "The booked appointments are cancelled and the patients told." in page
    assert 'Wed 3 Jun 2026, <strong dir="ltr">13:00–18:00</strong>' in page
    period = TimeOff.objects.get()
    assert (period.start_date, period.end_date, period.start_time, period.end_time) == (
        WEDNESDAY,
        WEDNESDAY,
        T(13),
        T(18),
    )
    inside.refresh_from_db()
    assert inside.status == Status.CANCELLED


def test_the_page_wants_both_times_or_neither(client: Client, dora: DoctorProfile) -> None:
    client.force_login(dora.user)

    response = client.post(
        "/dashboard/time-off/", {"start_date": "2026-06-03", "start_time": "13:00"}
    )

    assert response.status_code == 400
    assert "Give both times for part of a day, or neither." in html(response)
    assert not TimeOff.objects.exists()


def test_the_grid_hides_the_hours_off_and_keeps_the_rest_of_the_day(
    client: Client, dora: DoctorProfile, wednesday: dict
) -> None:
    services.add_time_off(
        doctor=dora, start_date=WEDNESDAY, end_date=WEDNESDAY, start_time=T(13), end_time=T(18)
    )

    (day,) = availability.days(dora, WEDNESDAY, WEDNESDAY)
    (next_week,) = availability.days(dora, WEDNESDAY + dt.timedelta(7), WEDNESDAY + dt.timedelta(7))

    assert not day.off
    assert [o.time_label for o in day.openings] == ["09:00"]
    assert [o.time_label for o in next_week.openings] == ["09:00", "14:00", "16:00"]
    page = html(client.get(f"/doctors/{dora.slug}/"))
    assert "Wednesday 3 June 09:00" in page
    assert "Wednesday 3 June 14:00" not in page
    assert "Wednesday 10 June 14:00" in page
