"""A stateful property test: three patients and two doctors use the site in any order (book,
cancel, reschedule; add and retire slots, set the week's working hours, add extra hours on a
date, take whole or part days off) and after every step the calendar keeps its invariants:

- no doctor has two appointments holding one slot on one date;
- no patient holds two open appointments that overlap in time;
- no upcoming open appointment sits in a retired slot or inside its doctor's time off (a
  whole day, or part-day hours over its slot);
- every appointment's start and end are its slot's times on its date, an extra slot's date;
- no doctor's active slots overlap on any day.

Everything goes through the pages (the test client), as people would.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import caches
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import DoctorFactory, PatientFactory
from scheduling import clock
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.conftest import TODAY

pytestmark = pytest.mark.django_db

OPEN = Appointment.OPEN_STATUSES
days_ahead = st.integers(min_value=-1, max_value=20)


class Calendar(RuleBasedStateMachine):
    appointments = Bundle("appointments")

    def __init__(self) -> None:
        super().__init__()
        for each in caches.all():
            each.clear()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.patients = [PatientFactory() for _ in range(3)]
        self.doctors = [DoctorFactory().doctor_profile for _ in range(2)]
        # Weekdays 09:00-10:00 with one doctor and 09:30-10:30 with the other: a patient
        # booking both on one day would overlap.
        for doctor, start in zip(self.doctors, (dt.time(9), dt.time(9, 30)), strict=True):
            for weekday in range(5):
                end = (dt.datetime.combine(TODAY, start) + dt.timedelta(hours=1)).time()
                Slot.objects.create(doctor=doctor, weekday=weekday, start_time=start, end_time=end)
        self.clients = {}
        for person in [*self.patients, *(d.user for d in self.doctors)]:
            client = Client()
            client.force_login(person)
            self.clients[person.pk] = client

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _slot(self, doctor_index: int, pick: int) -> Slot | None:
        slots = list(Slot.objects.filter(doctor=self.doctors[doctor_index]).order_by("pk"))
        return slots[pick % len(slots)] if slots else None

    @staticmethod
    def _date_for(slot: Slot, ahead: int) -> dt.date:
        if slot.date is not None:
            return slot.date
        first = TODAY + dt.timedelta(days=ahead)
        return first + dt.timedelta(days=(slot.weekday - first.weekday()) % 7)

    # --- Patients --------------------------------------------------------------------------

    @rule(
        target=appointments,
        patient=st.integers(0, 2),
        doctor=st.integers(0, 1),
        pick=st.integers(0, 20),
        ahead=days_ahead,
    )
    def book(self, patient: int, doctor: int, pick: int, ahead: int) -> Any:
        slot = self._slot(doctor, pick)
        if slot is None:
            return multiple()
        date = self._date_for(slot, ahead)
        response = self.clients[self.patients[patient].pk].post(
            f"/doctors/{self.doctors[doctor].slug}/book/",
            {"date": date.isoformat(), "slot": str(slot.public_id)},
        )
        assert response.status_code in (302, 400, 409, 422)
        if response.status_code != 302:
            return multiple()
        return response["Location"].split("/")[2]

    @rule(appointment=appointments, by_doctor=st.booleans())
    def cancel(self, appointment: str, by_doctor: bool) -> None:
        appt = Appointment.objects.select_related("doctor").get(public_id=appointment)
        who = appt.doctor.user_id if by_doctor else appt.patient_id
        response = self.clients[who].post(
            f"/appointments/{appointment}/cancel/", {"reason": "Cannot make it."}
        )
        assert response.status_code in (302, 400, 409, 422)

    @rule(appointment=appointments, pick=st.integers(0, 20), ahead=days_ahead)
    def reschedule(self, appointment: str, pick: int, ahead: int) -> None:
        appt = Appointment.objects.get(public_id=appointment)
        slot = self._slot(self.doctors.index(appt.doctor), pick)
        if slot is None:
            return
        response = self.clients[appt.patient_id].post(
            f"/appointments/{appointment}/reschedule/",
            {"date": self._date_for(slot, ahead).isoformat(), "slot": str(slot.public_id)},
        )
        assert response.status_code in (302, 400, 409, 422)

    # --- Doctors ---------------------------------------------------------------------------

    @rule(
        doctor=st.integers(0, 1),
        weekday=st.integers(0, 6),
        start=st.integers(7 * 4, 17 * 4),
        quarters=st.integers(1, 6),
    )
    def add_slot(self, doctor: int, weekday: int, start: int, quarters: int) -> None:
        begin = dt.time(start // 4, start % 4 * 15)
        end_minutes = start * 15 + quarters * 15
        end = dt.time(end_minutes // 60, end_minutes % 60)
        response = self.clients[self.doctors[doctor].user_id].post(
            "/dashboard/slots/",
            {
                "weekday": weekday,
                "start_time": begin.strftime("%H:%M"),
                "end_time": end.strftime("%H:%M"),
            },
        )
        assert response.status_code in (302, 400)

    @rule(doctor=st.integers(0, 1), pick=st.integers(0, 20))
    def retire_slot(self, doctor: int, pick: int) -> None:
        slot = self._slot(doctor, pick)
        if slot is None or not slot.is_active:
            return
        response = self.clients[self.doctors[doctor].user_id].post(
            f"/dashboard/slots/{slot.public_id}/remove/"
        )
        assert response.status_code == 302

    @rule(
        doctor=st.integers(0, 1),
        ahead=st.integers(0, 20),
        length=st.integers(0, 3),
        cancel_booked=st.booleans(),
        hours=st.one_of(
            st.none(),
            st.tuples(st.integers(8, 10), st.integers(8, 11)).filter(lambda h: h[0] <= h[1]),
        ),
    )
    def take_time_off(
        self, doctor: int, ahead: int, length: int, cancel_booked: bool, hours: Any
    ) -> None:
        start = TODAY + dt.timedelta(days=ahead)
        data = {
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=length)).isoformat(),
        }
        if hours is not None:  # part of each day, from one hour to another
            data["start_time"], data["end_time"] = f"{hours[0]:02d}:00", f"{hours[1]:02d}:30"
        if cancel_booked:
            data["cancel_booked"] = "on"
        response = self.clients[self.doctors[doctor].user_id].post("/dashboard/time-off/", data)
        assert response.status_code in (302, 400, 409)

    @rule(
        doctor=st.integers(0, 1),
        days=st.lists(st.integers(0, 6), max_size=3, unique=True),
        start=st.integers(8, 10),
        hours=st.integers(1, 3),
        visit=st.sampled_from(["20", "30", "45"]),
        preview_first=st.booleans(),
    )
    def set_working_hours(
        self, doctor: int, days: list[int], start: int, hours: int, visit: str, preview_first: bool
    ) -> None:
        names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        data = {names[d]: f"{start:02d}:00-{start + hours:02d}:00" for d in days}
        client = self.clients[self.doctors[doctor].user_id]
        data["visit_minutes"] = visit
        if preview_first:
            preview = client.post("/dashboard/hours/", {**data, "action": "preview"})
            assert preview.status_code == 200
            found = re.search(r'name="plan" value="(\w+)"', preview.content.decode())
            data["plan"] = found[1] if found else ""
        response = client.post("/dashboard/hours/", {**data, "action": "save"})
        assert response.status_code in (302, 400)

    @rule(doctor=st.integers(0, 1), ahead=st.integers(-1, 20), start=st.integers(7, 18))
    def add_extra_hours(self, doctor: int, ahead: int, start: int) -> None:
        response = self.clients[self.doctors[doctor].user_id].post(
            "/dashboard/extra-hours/",
            {
                "date": (TODAY + dt.timedelta(days=ahead)).isoformat(),
                "ranges": f"{start:02d}:00-{start + 1:02d}:00",
                "visit_minutes": "30",
            },
        )
        assert response.status_code in (302, 400)

    # --- What always holds -----------------------------------------------------------------

    @invariant()
    def one_appointment_per_slot_and_date(self) -> None:
        doubled = (
            Appointment.objects.holding_slot()
            .values("doctor", "slot", "date")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
        )
        assert not doubled.exists()

    @invariant()
    def no_patient_overlaps(self) -> None:
        open_ones = list(
            Appointment.objects.open().values_list("pk", "patient_id", "starts_at", "ends_at")
        )
        for pk, patient, starts, ends in open_ones:
            for other, same_patient, other_starts, other_ends in open_ones:
                if pk < other and patient == same_patient:
                    assert not (starts < other_ends and other_starts < ends), (pk, other)

    @invariant()
    def upcoming_appointments_sit_in_active_slots_on_working_days(self) -> None:
        now = timezone.now()
        for appt in Appointment.objects.open().filter(starts_at__gt=now).select_related("slot"):
            assert appt.slot.is_active, f"{appt} is in a retired slot"
            for period in TimeOff.objects.active().filter(doctor=appt.doctor_id):
                assert not period.blocks(appt.date, appt.slot.start_time, appt.slot.end_time), (
                    f"{appt} is inside {period}"
                )

    @invariant()
    def times_match_the_slot(self) -> None:
        for appt in Appointment.objects.select_related("slot"):
            window = clock.slot_window(appt.date, appt.slot.start_time, appt.slot.end_time)
            assert window == (appt.starts_at, appt.ends_at)
            assert appt.date.weekday() == appt.slot.weekday
            assert appt.slot.date in (None, appt.date)

    @invariant()
    def no_two_active_slots_of_a_doctor_overlap(self) -> None:
        active = list(
            Slot.objects.active().filter(date__isnull=True)
            | Slot.objects.active().filter(date__gte=TODAY)
        )
        for a in active:
            for b in active:
                same_day = a.weekday == b.weekday and (
                    a.date is None or b.date is None or a.date == b.date
                )
                if a.pk < b.pk and a.doctor_id == b.doctor_id and same_day:
                    assert not a.overlaps(b.start_time, b.end_time), (a, b)


def test_any_sequence_of_bookings_and_calendar_edits_keeps_the_invariants(
    now: dt.datetime,
) -> None:
    run_state_machine_as_test(Calendar)
