"""Every way the services change a tracked row is in the audit trail, with its before and
after, named for what happened, by the actor and never by a database id alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from accounts import services as accounts
from accounts.models import DoctorProfile, User
from accounts.tests.factories import PendingPatientFactory, SpecialtyFactory
from audit.models import AuditEntry
from audit.tests.conftest import entries, only
from scheduling import services
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

NEXT_WEDNESDAY = NEXT_MONDAY + dt.timedelta(days=2)


@pytest.fixture
def booked(monday_9: Slot, patient: User) -> Appointment:
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


def test_booking_records_the_new_appointment_with_every_field(
    monday_9: Slot, patient: User, dora: DoctorProfile
) -> None:
    appt = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    entry = only(action="appointment.created")
    assert entry.object_type == "scheduling.appointment"
    assert entry.object_key == str(appt.public_id)
    assert entry.before is None
    # Foreign keys by their public names: the patient's national ID, the doctor's slug, the
    # slot's public id.
    assert entry.after["patient"] == "300000001"
    assert entry.after["doctor"] == dora.slug
    assert entry.after["slot"] == str(monday_9.public_id)
    assert entry.after["status"] == "scheduled"
    assert entry.after["date"] == "2026-06-08"
    assert entry.after["starts_at"] == "2026-06-08T07:00:00+00:00"
    assert "id" not in entry.after
    # Outside a request and a command: the system.
    assert (entry.actor, entry.actor_label, entry.source) == (None, "system", "system")


def test_cancel_records_the_status_change_and_who_cancelled(
    booked: Appointment, patient: User
) -> None:
    services.cancel(appointment=booked, by=patient, reason="Feeling better")

    entry = only(action="appointment.cancelled")
    assert entry.object_key == str(booked.public_id)
    assert entry.before["status"] == "scheduled"
    assert entry.after["status"] == "cancelled"
    assert entry.before["cancelled_by"] is None
    assert entry.after["cancelled_by"] == patient.national_id
    assert entry.after["cancellation_reason"] == "Feeling better"
    assert set(entry.before) == set(entry.after)


def test_reschedule_records_the_old_and_new_time(
    booked: Appointment, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    wednesday = SlotFactory(doctor=dora, weekday=2, start_time=dt.time(14), end_time=dt.time(15))

    services.reschedule(appointment=booked, by=patient, slot=wednesday, date=NEXT_WEDNESDAY)

    entry = only(action="appointment.rescheduled")
    assert entry.before["slot"] == str(monday_9.public_id)
    assert entry.after["slot"] == str(wednesday.public_id)
    assert (entry.before["date"], entry.after["date"]) == ("2026-06-08", "2026-06-10")
    assert entry.before["starts_at"] == "2026-06-08T07:00:00+00:00"
    assert entry.after["starts_at"] == "2026-06-10T12:00:00+00:00"


@pytest.mark.parametrize(
    ("transition", "clock", "action"),
    [
        (services.check_in, dt.datetime(2026, 6, 1, 13, 50), "appointment.checked_in"),
        (services.complete, dt.datetime(2026, 6, 1, 14, 10), "appointment.completed"),
        (services.mark_no_show, dt.datetime(2026, 6, 1, 14, 10), "appointment.no_show"),
    ],
)
def test_each_visit_transition_is_recorded(
    dora: DoctorProfile, patient: User, doctor: User, transition, clock, action
) -> None:
    import time_machine

    from scheduling.tests.conftest import BERLIN

    slot = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(14), end_time=dt.time(14, 30))
    appt = AppointmentFactory(patient=patient, slot=slot, date=TODAY)

    with time_machine.travel(clock.replace(tzinfo=BERLIN), tick=False):
        transition(appointment=appt, by=doctor)

    entry = only(action=action)
    assert entry.before["status"] == "scheduled"
    assert entry.after["status"] == action.split(".")[1]
    stamp = {"checked_in": "checked_in_at", "completed": "completed_at", "no_show": "no_show_at"}
    assert entry.before[stamp[entry.after["status"]]] is None
    assert entry.after[stamp[entry.after["status"]]] is not None


def test_slot_added_and_retired(dora: DoctorProfile) -> None:
    slot = services.add_slot(doctor=dora, weekday=3, start_time=dt.time(8), end_time=dt.time(9))
    services.deactivate_slot(slot=slot)

    created, retired = entries(object_key=str(slot.public_id))
    assert created.action == "slot.created"
    assert created.after["doctor"] == dora.slug
    assert created.after["start_time"] == "08:00:00"
    assert retired.action == "slot.retired"
    assert (retired.before["is_active"], retired.after["is_active"]) == (True, False)


def test_time_off_added_cancels_booked_appointments_each_recorded(
    booked: Appointment, dora: DoctorProfile
) -> None:
    period = services.add_time_off(
        doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY, cancel_booked=True
    )

    assert only(action="time_off.created").object_key == str(period.public_id)
    cancelled = only(action="appointment.cancelled")
    assert cancelled.object_key == str(booked.public_id)
    assert cancelled.after["cancelled_by"] == dora.user.national_id


def test_time_off_removed_and_its_reason_changed(dora: DoctorProfile) -> None:
    period = TimeOffFactory(doctor=dora, reason="Conference")

    services.change_time_off_reason(time_off=period, reason="Congress")
    services.remove_time_off(time_off=period)

    changed = only(action="time_off.changed")
    assert (changed.before, changed.after) == ({"reason": "Conference"}, {"reason": "Congress"})
    removed = only(action="time_off.removed")
    assert removed.after == {"is_active": False}
    assert TimeOff.objects.get().is_active is False


def test_accepting_toggle_both_ways(dora: DoctorProfile) -> None:
    services.set_accepting_bookings(doctor=dora, accepting=False)
    services.set_accepting_bookings(doctor=dora, accepting=False)  # no change: no entry
    services.set_accepting_bookings(doctor=dora, accepting=True)

    paused, resumed = entries(object_key=dora.slug, action__contains="bookings")
    assert paused.action == "doctor_profile.bookings_paused"
    assert paused.object_key == dora.slug
    assert (paused.before, paused.after) == (
        {"accepting_bookings": True},
        {"accepting_bookings": False},
    )
    assert resumed.action == "doctor_profile.bookings_resumed"
    assert DoctorProfile.objects.get(pk=dora.pk).accepting_bookings is True


def test_reminder_claim_is_recorded_once(booked: Appointment) -> None:
    assert services.claim_reminder(appointment=booked) is True
    assert services.claim_reminder(appointment=booked) is False

    entry = only(action="appointment.reminder_sent")
    assert entry.before == {"reminder_sent_at": None}
    assert entry.after["reminder_sent_at"].startswith("2026-06-01T08:00")


def test_registration_activation_deactivation_and_roles(admin_user: User) -> None:
    user = accounts.register_patient(
        national_id="400 000-001",
        password="a-long-pass-phrase",
        email="Paula@Example.com",
        full_name="Paula Pending",
        phone="+49 30 7654321",
        date_of_birth=dt.date(1990, 1, 2),
        medical_history="Asthma",
    )
    accounts.activate(user=user)
    accounts.change_role(user=user, role=User.Role.DOCTOR)
    accounts.deactivate(user=user)

    trail = entries(object_type="accounts.user", object_key="400000001")
    assert [e.action for e in trail] == [
        "user.created",
        "user.activated",
        "user.role_changed",
        "user.deactivated",
    ]
    created = trail[0]
    assert created.after["email"] == "paula@example.com"
    # The password hash is never copied into the trail, only that one is set.
    assert created.after["password"] == "(set)"
    assert (trail[2].before["role"], trail[2].after["role"]) == ("patient", "doctor")
    assert trail[3].after["is_active"] is False
    # The patient profile was created too; its medical history stays out of the trail.
    profile = only(action="patient_profile.created")
    assert profile.object_key == "400000001"
    assert profile.after["medical_history"] == "(set)"


def test_role_change_to_admin_records_the_seat_and_staff_flag(patient: User) -> None:
    accounts.change_role(user=patient, role=User.Role.ADMIN)

    entry = only(action="user.role_changed")
    assert entry.before == {"role": "patient", "admin_seat": None, "is_staff": False}
    assert entry.after == {"role": "admin", "admin_seat": 1, "is_staff": True}
    assert Group.objects.get(name=accounts.ADMIN_GROUP).user_set.filter(pk=patient.pk).exists()


def test_password_change_is_recorded_without_the_hash(patient: User) -> None:
    patient.set_password("another-long-pass-phrase")
    patient.save()

    entry = only(action="user.password_changed")
    assert entry.before == {"password": "(hidden)"}
    assert entry.after == {"password": "(changed)"}
    assert "md5$" not in str(entry.after)
    assert "argon2" not in str(entry.after)


def test_doctor_application_records_user_and_profile(db: None) -> None:
    specialty = SpecialtyFactory(slug="dentist", name="Dentist")
    accounts.apply_as_doctor(
        national_id="500000001",
        password="a-long-pass-phrase",
        email="dee@example.com",
        full_name="Dee Dentist",
        phone="+49 30 7654399",
        specialty=specialty,
        branch=None,
        consultation_fee=60,
    )

    profile = only(action="doctor_profile.created")
    assert profile.object_key == "dee-dentist"
    assert profile.after["specialty"] == "dentist"
    assert profile.after["user"] == "500000001"


def test_pending_user_activated_through_the_service_is_one_entry(db: None) -> None:
    pending = PendingPatientFactory(national_id="600000001")
    recorded = AuditEntry.objects.count()

    accounts.activate(user=pending)
    accounts.activate(user=pending)  # already active: nothing changes, nothing recorded

    new = list(AuditEntry.objects.order_by("pk")[recorded:])
    assert [e.action for e in new] == ["user.activated"]
    # Only what changed: the user was never deactivated, so deactivated_at stays as it was.
    assert new[0].before == {"is_active": False, "activated_at": None}
