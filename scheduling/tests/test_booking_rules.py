"""Every rule `services.book` enforces refuses with its own code, and refuses without a trace:
no appointment row, no event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory, PendingPatientFactory
from scheduling import services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory, TimeOffFactory

pytestmark = pytest.mark.django_db


def refused(code: str, **booking: object) -> services.SchedulingError:
    with pytest.raises(services.SchedulingError) as caught:
        services.book(**booking)
    assert caught.value.code == code, caught.value.text
    assert caught.value.text
    return caught.value


@pytest.fixture
def nothing_booked(published: list) -> Iterator[None]:
    """Checked after each test that uses it: a refusal left no row and told no one."""
    yield
    assert not Appointment.objects.exists()
    assert published == []


@pytest.mark.usefixtures("nothing_booked")
class TestRefusals:
    def test_inactive_patient_cannot_book(self, dora: DoctorProfile, monday_9: Slot) -> None:
        pending = PendingPatientFactory()
        refused("patient", patient=pending, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_deactivated_patient_cannot_book(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        User._base_manager.filter(pk=patient.pk).update(is_active=False)
        refused("patient", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_doctor_cannot_book_as_a_patient(
        self, dora: DoctorProfile, monday_9: Slot, other_doctor: User
    ) -> None:
        refused("patient", patient=other_doctor, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_admin_cannot_book_as_a_patient(
        self, dora: DoctorProfile, monday_9: Slot, admin_user: User
    ) -> None:
        refused("patient", patient=admin_user, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_inactive_doctor_cannot_be_booked(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        User._base_manager.filter(pk=dora.user_id).update(is_active=False)
        refused("doctor_inactive", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_doctor_not_accepting_bookings_cannot_be_booked(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        services.set_accepting_bookings(doctor=dora, accepting=False)
        error = refused(
            "not_accepting", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY
        )
        assert "Dora Doctor" in error.text

    def test_slot_of_another_doctor_is_refused(
        self, dora: DoctorProfile, patient: User, other_doctor: User
    ) -> None:
        ottos_slot = SlotFactory(doctor=other_doctor.doctor_profile, weekday=0)
        refused("bad_slot", patient=patient, doctor=dora, slot=ottos_slot, date=NEXT_MONDAY)

    def test_retired_slot_is_refused(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        services.deactivate_slot(slot=monday_9)
        monday_9.refresh_from_db()
        refused("bad_slot", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_date_on_another_weekday_is_refused(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        tuesday = NEXT_MONDAY + dt.timedelta(days=1)
        error = refused("wrong_weekday", patient=patient, doctor=dora, slot=monday_9, date=tuesday)
        assert "Monday" in error.text
        assert "Tuesday" in error.text

    def test_earlier_today_is_refused(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        # It is 10:00 on a Monday: today's 09:00 has passed.
        refused("past", patient=patient, doctor=dora, slot=monday_9, date=TODAY)

    def test_a_past_date_is_refused(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        last_monday = TODAY - dt.timedelta(days=7)
        refused("past", patient=patient, doctor=dora, slot=monday_9, date=last_monday)

    def test_less_than_the_minimum_notice_is_refused(
        self, dora: DoctorProfile, patient: User
    ) -> None:
        in_59_minutes = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(10, 59))
        refused("too_soon", patient=patient, doctor=dora, slot=in_59_minutes, date=TODAY)

    def test_minimum_notice_follows_the_setting(
        self, dora: DoctorProfile, patient: User, settings: Settings
    ) -> None:
        settings.BOOKING_MIN_NOTICE_MINUTES = 180
        in_two_hours = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(12))
        error = refused("too_soon", patient=patient, doctor=dora, slot=in_two_hours, date=TODAY)
        assert "180 minutes" in error.text

    def test_beyond_the_horizon_is_refused(self, dora: DoctorProfile, patient: User) -> None:
        # 60 days after Monday 1 June 2026 is Friday 31 July; the Friday after is too far.
        friday = SlotFactory(doctor=dora, weekday=4)
        refused(
            "beyond_horizon", patient=patient, doctor=dora, slot=friday, date=dt.date(2026, 8, 7)
        )

    def test_horizon_follows_the_setting(
        self, dora: DoctorProfile, monday_9: Slot, patient: User, settings: Settings
    ) -> None:
        settings.BOOKING_HORIZON_DAYS = 6
        refused("beyond_horizon", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_day_off_is_refused(self, dora: DoctorProfile, monday_9: Slot, patient: User) -> None:
        TimeOffFactory(
            doctor=dora,
            start_date=NEXT_MONDAY - dt.timedelta(days=2),
            end_date=NEXT_MONDAY + dt.timedelta(days=2),
        )
        refused("time_off", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    def test_first_and_last_day_off_are_refused(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        TimeOffFactory(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)
        refused("time_off", patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)


class TestPatientOverlap:
    def test_patient_cannot_hold_two_overlapping_appointments_with_two_doctors(
        self, dora: DoctorProfile, monday_9: Slot, patient: User, other_doctor: User
    ) -> None:
        otto = other_doctor.doctor_profile
        AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
        ottos_915 = SlotFactory(
            doctor=otto, weekday=0, start_time=dt.time(9, 15), end_time=dt.time(9, 45)
        )

        error = refused(
            "patient_overlap", patient=patient, doctor=otto, slot=ottos_915, date=NEXT_MONDAY
        )

        assert "Dora Doctor" in error.text
        assert list(Appointment.objects.values_list("doctor", flat=True)) == [dora.pk]

    def test_patient_cannot_hold_a_slot_inside_another_appointment(
        self, dora: DoctorProfile, patient: User, other_doctor: User
    ) -> None:
        otto = other_doctor.doctor_profile
        long_visit = SlotFactory(
            doctor=dora, weekday=0, start_time=dt.time(9), end_time=dt.time(11)
        )
        AppointmentFactory(patient=patient, slot=long_visit, date=NEXT_MONDAY)
        inside = SlotFactory(doctor=otto, weekday=0, start_time=dt.time(10))

        refused("patient_overlap", patient=patient, doctor=otto, slot=inside, date=NEXT_MONDAY)
        assert Appointment.objects.count() == 1

    def test_back_to_back_appointments_do_not_overlap(
        self, dora: DoctorProfile, monday_9: Slot, patient: User, other_doctor: User
    ) -> None:
        otto = other_doctor.doctor_profile
        AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
        ottos_930 = SlotFactory(doctor=otto, weekday=0, start_time=dt.time(9, 30))

        services.book(patient=patient, doctor=otto, slot=ottos_930, date=NEXT_MONDAY)

        assert Appointment.objects.filter(patient=patient).count() == 2

    def test_a_cancelled_appointment_does_not_overlap(
        self, dora: DoctorProfile, monday_9: Slot, patient: User, other_doctor: User
    ) -> None:
        otto = other_doctor.doctor_profile
        mine = AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
        services.cancel(appointment=mine, by=patient)
        ottos_9 = SlotFactory(doctor=otto, weekday=0, start_time=dt.time(9))

        services.book(patient=patient, doctor=otto, slot=ottos_9, date=NEXT_MONDAY)

        assert Appointment.objects.open().get(patient=patient).doctor == otto

    def test_another_patients_appointment_is_no_overlap(
        self, dora: DoctorProfile, monday_9: Slot, patient: User, other_doctor: User
    ) -> None:
        otto = other_doctor.doctor_profile
        AppointmentFactory(patient=PatientFactory(), slot=monday_9, date=NEXT_MONDAY)
        ottos_9 = SlotFactory(doctor=otto, weekday=0, start_time=dt.time(9))

        services.book(patient=patient, doctor=otto, slot=ottos_9, date=NEXT_MONDAY)

        assert Appointment.objects.filter(patient=patient, doctor=otto).exists()


class TestBoundaries:
    """The last moment a rule allows is allowed."""

    def test_exactly_the_minimum_notice_is_enough(self, dora: DoctorProfile, patient: User) -> None:
        in_an_hour = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(11))

        services.book(patient=patient, doctor=dora, slot=in_an_hour, date=TODAY)

        assert Appointment.objects.filter(slot=in_an_hour, date=TODAY).exists()

    def test_last_day_of_the_horizon_can_be_booked(
        self, dora: DoctorProfile, patient: User
    ) -> None:
        friday = SlotFactory(doctor=dora, weekday=4)

        services.book(patient=patient, doctor=dora, slot=friday, date=dt.date(2026, 7, 31))

        assert Appointment.objects.filter(slot=friday, date=dt.date(2026, 7, 31)).exists()

    def test_day_after_time_off_can_be_booked(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        TimeOffFactory(doctor=dora, start_date=TODAY, end_date=NEXT_MONDAY - dt.timedelta(days=1))

        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

        assert Appointment.objects.filter(slot=monday_9, date=NEXT_MONDAY).exists()

    def test_removed_time_off_no_longer_blocks(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        off = TimeOffFactory(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)
        services.remove_time_off(time_off=off)

        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

        assert Appointment.objects.filter(slot=monday_9, date=NEXT_MONDAY).exists()
