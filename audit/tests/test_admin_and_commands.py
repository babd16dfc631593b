"""Changes made in Django admin and by management commands are in the audit trail: who, from
which address and browser, with the before and after."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PendingPatientFactory
from audit.tests.conftest import entries, only
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

BROWSER = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Firefox/140 (audit test)"}


@pytest.fixture
def booked(monday_9: Slot, patient: User) -> Appointment:
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_admins_reschedule_in_django_admin_is_in_the_trail_with_before_and_after(
    admin_client: Client, admin_user: User, booked: Appointment, dora: DoctorProfile
) -> None:
    wednesday = SlotFactory(doctor=dora, weekday=2, start_time=dt.time(11), end_time=dt.time(12))
    url = f"/admin/scheduling/appointment/{booked.pk}/change/"

    response = admin_client.post(
        url, {"slot": wednesday.pk, "date": "2026-06-10", "_save": "Save"}, **BROWSER
    )

    assert response.status_code == 302
    entry = only(action="appointment.rescheduled")
    assert entry.object_key == str(booked.public_id)
    assert (entry.before["date"], entry.after["date"]) == ("2026-06-08", "2026-06-10")
    assert entry.after["slot"] == str(wednesday.public_id)
    assert entry.actor == admin_user
    assert entry.actor_label == "Ada Admin (100000001)"
    assert (entry.source, entry.ip, entry.user_agent) == (
        "web",
        "203.0.113.9",
        BROWSER["HTTP_USER_AGENT"],
    )
    assert entry.request == f"POST {url}"
    # The admin reads it in Django admin, before and after included.
    listing = admin_client.get("/admin/audit/auditentry/", {"q": str(booked.public_id)})
    assert "appointment.rescheduled" in listing.content.decode()
    page = admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/").content.decode()
    assert "2026-06-08" in page
    assert "2026-06-10" in page


def test_admin_actions_cancel_and_check_in_are_recorded(
    admin_client: Client, admin_user: User, booked: Appointment, dora: DoctorProfile, patient: User
) -> None:
    today = AppointmentFactory(
        patient=patient,
        slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(14), end_time=dt.time(15)),
        date=TODAY,
    )
    changelist = "/admin/scheduling/appointment/"

    admin_client.post(
        changelist, {"action": "cancel_appointments", "_selected_action": [booked.pk]}
    )
    admin_client.post(changelist, {"action": "check_in", "_selected_action": [today.pk]})

    cancelled = only(action="appointment.cancelled")
    assert cancelled.after["cancelled_by"] == admin_user.national_id
    assert cancelled.actor == admin_user
    checked_in = only(action="appointment.checked_in")
    assert checked_in.object_key == str(today.public_id)
    assert checked_in.actor == admin_user


def test_admin_activates_deactivates_and_changes_a_role(
    admin_client: Client, admin_user: User
) -> None:
    pending = PendingPatientFactory(national_id="700000001", full_name="Pia Pending")
    users = "/admin/accounts/user/"

    admin_client.post(users, {"action": "activate_accounts", "_selected_action": [pending.pk]})
    admin_client.post(
        f"{users}{pending.pk}/change/",
        {
            "full_name": "Pia Pending",
            "email": pending.email,
            "phone": pending.phone,
            "role": "doctor",
            "_save": "Save",
        },
    )
    admin_client.post(users, {"action": "deactivate_accounts", "_selected_action": [pending.pk]})

    trail = entries(object_key="700000001", object_type="accounts.user")
    assert [e.action for e in trail] == [
        "user.created",
        "user.activated",
        "user.role_changed",
        "user.deactivated",
    ]
    # The factory made the account; the admin did the rest.
    assert [e.actor for e in trail] == [None, admin_user, admin_user, admin_user]


def test_admin_slot_time_off_and_doctor_profile_changes(
    admin_client: Client, admin_user: User, dora: DoctorProfile
) -> None:
    admin_client.post(
        "/admin/scheduling/slot/add/",
        {"doctor": dora.pk, "weekday": 3, "start_time": "08:00", "end_time": "08:30"},
    )
    period = TimeOffFactory(doctor=dora, reason="Conference")
    admin_client.post(
        f"/admin/scheduling/timeoff/{period.pk}/change/", {"reason": "Congress", "_save": "Save"}
    )
    admin_client.post(
        "/admin/scheduling/timeoff/", {"action": "end_time_off", "_selected_action": [period.pk]}
    )
    admin_client.post(
        f"/admin/accounts/doctorprofile/{dora.pk}/change/",
        {
            "user": dora.user_id,
            "slug": dora.slug,
            "specialty": dora.specialty_id,
            "branch": dora.branch_id,
            "bio": dora.bio,
            "consultation_fee": "95.00",
            "emergency_contact": dora.emergency_contact,
            # "accepting_bookings" unticked: paused
            "_save": "Save",
        },
    )

    slot = Slot.objects.get(weekday=3)
    assert only(action="slot.created").object_key == str(slot.public_id)
    assert only(action="time_off.changed").after == {"reason": "Congress"}
    assert only(action="time_off.removed").object_key == str(period.public_id)
    profile = only(object_key=dora.slug, action="doctor_profile.changed")
    assert profile.before == {"consultation_fee": "80.00"}
    assert profile.after == {"consultation_fee": "95.00"}
    # The switch goes through scheduling's service, as on the dashboard.
    paused = only(object_key=dora.slug, action="doctor_profile.bookings_paused")
    assert (paused.before, paused.after) == (
        {"accepting_bookings": True},
        {"accepting_bookings": False},
    )
    assert {e.actor for e in entries(actor__isnull=False)} == {admin_user}


def test_a_management_command_is_the_actor_of_its_changes(db: None) -> None:
    call_command("seed_demo", verbosity=0)

    created = entries(action="user.created")
    assert created, "seed_demo creates the demo accounts"
    assert {(e.actor_label, e.source) for e in created} == {
        ("command:seed_demo", "command:seed_demo")
    }
    assert all(e.ip is None and e.actor is None for e in created)


def test_the_worker_records_the_reminders_it_claims(dora: DoctorProfile, patient: User) -> None:
    today = AppointmentFactory(
        patient=patient,
        slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(14), end_time=dt.time(15)),
        date=TODAY,
    )
    # Booked the day before: its reminder is due (one booked inside the reminder window
    # gets none, its confirmation being news enough).
    Appointment._base_manager.filter(pk=today.pk).update(
        created_at=today.starts_at - dt.timedelta(days=2)
    )

    call_command("run_worker", "--once", verbosity=0)

    entry = only(action="appointment.reminder_sent")
    assert entry.object_key == str(today.public_id)
    assert entry.actor_label == "command:run_worker"
