"""Working hours in one go: ranges per weekday cut into visits, made in one transaction;
a change retires what no longer fits, except slots with upcoming appointments.

Clock: Monday 1 June 2026, 10:00 Berlin (see conftest).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from audit.models import AuditEntry
from scheduling import selectors, services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY
from scheduling.tests.view_helpers import booked, html

pytestmark = pytest.mark.django_db

T = dt.time
MORNINGS = {day: [(T(9), T(12))] for day in range(5)}


def weekly(doctor: DoctorProfile) -> list[tuple[int, dt.time, dt.time]]:
    return list(
        Slot.objects.active()
        .weekly()
        .filter(doctor=doctor)
        .order_by("weekday", "start_time")
        .values_list("weekday", "start_time", "end_time")
    )


def test_mornings_at_twenty_minutes_make_forty_five_slots(dora: DoctorProfile) -> None:
    plan = services.set_working_hours(doctor=dora, hours=MORNINGS, visit_minutes=20)

    assert len(plan.make) == 45
    slots = weekly(dora)
    assert len(slots) == 45
    assert slots[:3] == [(0, T(9), T(9, 20)), (0, T(9, 20), T(9, 40)), (0, T(9, 40), T(10))]
    assert slots[-1] == (4, T(11, 40), T(12))
    # Every slot is in the audit trail, as if added one by one.
    assert AuditEntry.objects.filter(action="slot.created").count() == 45


def test_several_ranges_a_day_and_leftovers(dora: DoctorProfile) -> None:
    hours = {0: [(T(14), T(16, 45)), (T(9), T(12, 30))]}

    plan = services.plan_working_hours(doctor=dora, hours=hours, visit_minutes=45)

    assert [(n.start_time, n.end_time) for n in plan.make] == [
        (T(9), T(9, 45)),
        (T(9, 45), T(10, 30)),
        (T(10, 30), T(11, 15)),
        (T(11, 15), T(12)),
        (T(14), T(14, 45)),
        (T(14, 45), T(15, 30)),
        (T(15, 30), T(16, 15)),
    ]
    assert plan.leftovers == [(0, T(12), T(12, 30)), (0, T(16, 15), T(16, 45))]
    assert plan.made_by_day() == [("Monday", 7, "09:00–12:00, 14:00–16:15")]
    assert not Slot.objects.exists(), "a plan writes nothing"


@pytest.mark.parametrize(
    ("hours", "visit", "code"),
    [
        ({0: [(T(9), T(12)), (T(11), T(13))]}, 20, "overlap"),
        ({0: [(T(12), T(9))]}, 20, "order"),
        ({0: [(T(9), T(9, 10))]}, 20, "too_short"),
        ({0: [(T(9), T(12))]}, 3, "visit_length"),
        ({7: [(T(9), T(12))]}, 20, "weekday"),
    ],
    ids=["overlap", "backwards", "shorter-than-a-visit", "tiny-visit", "no-such-day"],
)
def test_impossible_hours_are_refused_and_nothing_changes(
    dora: DoctorProfile, monday_9: Slot, hours: dict, visit: int, code: str
) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.set_working_hours(doctor=dora, hours=hours, visit_minutes=visit)

    assert caught.value.code == code
    assert weekly(dora) == [(0, T(9), T(9, 30))]


def test_changing_the_hours_retires_free_slots_and_keeps_booked_ones(
    dora: DoctorProfile, patient: User
) -> None:
    services.set_working_hours(doctor=dora, hours={0: [(T(9), T(11))]}, visit_minutes=30)
    nine, half_past_nine = Slot.objects.filter(doctor=dora).order_by("start_time")[:2]
    alices = booked(half_past_nine, NEXT_MONDAY, patient=patient)

    # Afternoons now, at 20 minutes.
    plan = services.set_working_hours(doctor=dora, hours={0: [(T(14), T(15))]}, visit_minutes=20)

    assert [s.pk for s, appts in plan.kept_booked] == [half_past_nine.pk]
    assert plan.kept_booked[0][1] == [alices]
    assert nine in plan.retire
    assert weekly(dora) == [
        (0, T(9, 30), T(10)),  # kept: Alice comes next Monday
        (0, T(14), T(14, 20)),
        (0, T(14, 20), T(14, 40)),
        (0, T(14, 40), T(15)),
    ]
    nine.refresh_from_db()
    assert not nine.is_active
    assert nine.deactivated_at is not None
    assert Appointment.objects.get(pk=alices.pk).status == Appointment.Status.SCHEDULED


def test_new_slots_overlapping_a_kept_booked_slot_are_not_made(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    booked(monday_9, NEXT_MONDAY, patient=patient)  # Mondays 09:00-09:30

    plan = services.set_working_hours(doctor=dora, hours={0: [(T(9), T(10))]}, visit_minutes=20)

    assert [str(new) for new, _ in plan.blocked] == ["Monday 09:00-09:20", "Monday 09:20-09:40"]
    assert weekly(dora) == [(0, T(9), T(9, 30)), (0, T(9, 40), T(10))]


def test_the_same_hours_again_change_nothing(dora: DoctorProfile) -> None:
    services.set_working_hours(doctor=dora, hours=MORNINGS, visit_minutes=20)
    before = set(Slot.objects.values_list("pk", "is_active"))

    plan = services.set_working_hours(doctor=dora, hours=MORNINGS, visit_minutes=20)

    assert not plan.changes_anything
    assert len(plan.keep) == 45
    assert set(Slot.objects.values_list("pk", "is_active")) == before


def test_a_save_from_a_preview_is_refused_when_a_booking_came_in_meanwhile(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    preview = services.plan_working_hours(doctor=dora, hours={1: [(T(9), T(10))]}, visit_minutes=30)
    assert preview.retire == [monday_9]
    alices = booked(monday_9, NEXT_MONDAY, patient=patient)

    with pytest.raises(services.PlanChanged) as caught:
        services.set_working_hours(
            doctor=dora,
            hours={1: [(T(9), T(10))]},
            visit_minutes=30,
            expected=preview.fingerprint,
        )

    assert caught.value.code == "plan_changed"
    assert caught.value.plan.kept_booked == [(monday_9, [alices])]
    assert weekly(dora) == [(0, T(9), T(9, 30))], "nothing was saved"


def test_extra_hours_are_left_alone_and_block_weekly_slots_over_them(
    dora: DoctorProfile,
) -> None:
    saturday = dt.date(2026, 6, 6)
    (extra,) = services.add_extra_hours(
        doctor=dora, date=saturday, ranges=[(T(9), T(9, 30))], visit_minutes=30
    )

    plan = services.set_working_hours(doctor=dora, hours={5: [(T(8), T(10))]}, visit_minutes=30)

    assert [(str(new), clash) for new, clash in plan.blocked] == [("Saturday 09:00-09:30", extra)]
    assert weekly(dora) == [(5, T(8), T(8, 30)), (5, T(8, 30), T(9)), (5, T(9, 30), T(10))]
    extra.refresh_from_db()
    assert extra.is_active


def test_current_hours_read_back_as_ranges(dora: DoctorProfile) -> None:
    services.set_working_hours(
        doctor=dora, hours={0: [(T(9), T(12, 30)), (T(14), T(17))]}, visit_minutes=30
    )

    assert selectors.current_hours(dora) == ({0: [(T(9), T(12, 30)), (T(14), T(17))]}, 30)


# --- The page --------------------------------------------------------------------------------


@pytest.fixture
def dora_in(client: Client, dora: DoctorProfile) -> DoctorProfile:
    client.force_login(dora.user)
    return dora


def _week(**days: str) -> dict[str, str]:
    return {"visit_minutes": "20", **days}


def test_the_page_previews_without_saving(client: Client, dora_in: DoctorProfile) -> None:
    data = _week(monday="09:00-12:00", tuesday="9-12", action="preview")

    response = client.post("/dashboard/hours/", data)

    assert response.status_code == 200
    page = html(response)
    assert "18 new slots" in page
    assert '<strong>Monday</strong>: 9 slots, <span dir="ltr">09:00–12:00</span>' in page
    assert not Slot.objects.exists()


def test_the_live_preview_is_a_fragment(client: Client, dora_in: DoctorProfile) -> None:
    response = client.post(
        "/dashboard/hours/", _week(friday="14-15", action="preview"), HTTP_HX_REQUEST="true"
    )

    page = html(response)
    assert page.lstrip().startswith('<section class="panel" id="preview"')
    assert "3 new slots" in page


def test_one_submit_saves_the_week(client: Client, dora_in: DoctorProfile) -> None:
    days = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), "09:00-12:00")

    response = client.post("/dashboard/hours/", _week(**days, action="save"), follow=True)

    assert response.redirect_chain == [("/dashboard/hours/", 302)]
    assert "45 slots made, 0 retired" in html(response)
    assert len(weekly(dora_in)) == 45
    # The form comes back filled with the saved hours.
    assert 'name="monday" value="09:00-12:00"' in html(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_week(monday="nine to twelve"), "Write the times like"),
        (_week(monday="25:00-26:00"), "is not a time of day"),
        (_week(monday="12-9"), "must end after it starts"),
        (_week(monday="9-12, 11-13"), "two of the times overlap"),
        ({"monday": "9-12", "visit_minutes": "7"}, "Select a valid choice"),
    ],
    ids=["words", "bad-hour", "backwards", "overlap", "bad-visit"],
)
def test_bad_hours_are_refused_inline(
    client: Client, dora_in: DoctorProfile, data: dict[str, str], message: str
) -> None:
    response = client.post("/dashboard/hours/", {**data, "action": "save"})

    assert response.status_code == 400
    assert message in html(response)
    assert not Slot.objects.exists()


def test_a_stale_preview_answers_409_with_the_new_plan(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    preview = services.plan_working_hours(doctor=dora_in, hours={}, visit_minutes=20)
    booked(monday_9, NEXT_MONDAY, patient=patient)

    response = client.post("/dashboard/hours/", _week(action="save", plan=preview.fingerprint))

    assert response.status_code == 409
    page = html(response)
    assert "A patient booked one of the slots" in page
    assert "Kept, because patients are booked on them" in page
    assert "Alice Patient on Mon 8 Jun" in page
    monday_9.refresh_from_db()
    assert monday_9.is_active
