"""Admins activate and deactivate accounts in Django admin; nothing is ever deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AdminProfile, DoctorProfile, PatientProfile, User
from accounts.tests.factories import (
    PatientFactory,
    PendingDoctorFactory,
    PendingPatientFactory,
)

CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def run_action(client: Client, action: str, *users: User):  # type: ignore[no-untyped-def]
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [u.pk for u in users], "index": 0},
        follow=True,
    )


def test_changelist_lists_pending_accounts_first(admin_client: Client, admin_user: User) -> None:
    now = timezone.now()
    old_pending = PendingPatientFactory(date_joined=now - dt.timedelta(days=3))
    active = PatientFactory(date_joined=now - dt.timedelta(days=1))
    new_pending = PendingDoctorFactory(date_joined=now - dt.timedelta(days=2))
    deactivated = PatientFactory(date_joined=now)
    services.deactivate(user=deactivated)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert listed[:2] == [new_pending, old_pending]
    assert set(listed[2:]) == {active, deactivated, admin_user}


def test_pending_filter_shows_only_accounts_waiting_for_activation(
    admin_client: Client, patient: User
) -> None:
    pending = PendingPatientFactory()
    deactivated = PatientFactory()
    services.deactivate(user=deactivated)

    response = admin_client.get(CHANGELIST, {"status": "pending"})

    assert list(response.context["cl"].result_list) == [pending]


def test_activating_one_account(admin_client: Client) -> None:
    pending = PendingPatientFactory()

    response = run_action(admin_client, "activate_accounts", pending)

    assert response.status_code == 200
    assert "1 account activated." in response.content.decode()
    pending.refresh_from_db()
    assert pending.is_active
    assert pending.activated_at is not None
    assert PatientProfile.objects.filter(user=pending).count() == 1


def test_activating_in_bulk_and_twice_changes_each_account_once(admin_client: Client) -> None:
    users = [PendingPatientFactory(), PendingDoctorFactory(), PendingPatientFactory()]

    run_action(admin_client, "activate_accounts", *users)
    first = {u.pk: u.activated_at for u in User.objects.filter(pk__in=[u.pk for u in users])}
    response = run_action(admin_client, "activate_accounts", *users)

    assert "0 accounts activated." in response.content.decode()
    assert User.objects.filter(pk__in=[u.pk for u in users], is_active=True).count() == 3
    assert {u.pk: u.activated_at for u in User.objects.filter(pk__in=first)} == first
    assert PatientProfile.objects.filter(user__in=users).count() == 2
    assert DoctorProfile.objects.filter(user__in=users).count() == 1


@pytest.mark.parametrize(
    ("role", "profile_model", "others"),
    [
        (User.Role.PATIENT, PatientProfile, (DoctorProfile, AdminProfile)),
        (User.Role.DOCTOR, DoctorProfile, (PatientProfile, AdminProfile)),
    ],
)
def test_activation_gives_a_user_without_profile_exactly_one_of_their_role(
    admin_client: Client, role: str, profile_model: type, others: tuple[type, ...]
) -> None:
    user = User.objects.create_user(
        "400000001",
        "some-pass-7781",
        email="bare@example.com",
        full_name="Bare User",
        phone="+49 30 9000001",
        role=role,
    )

    run_action(admin_client, "activate_accounts", user)
    run_action(admin_client, "activate_accounts", user)

    assert profile_model.objects.filter(user=user).count() == 1
    for other in others:
        assert not other.objects.filter(user=user).exists()


def test_activated_doctor_without_profile_gets_a_slug_and_is_not_bookable_yet(
    admin_client: Client,
) -> None:
    user = User.objects.create_user(
        "400000002",
        "some-pass-7781",
        email="doc@example.com",
        full_name="Zoe Zed",
        phone="+49 30 9000002",
        role=User.Role.DOCTOR,
    )

    run_action(admin_client, "activate_accounts", user)

    profile = DoctorProfile.objects.get(user=user)
    assert profile.slug == "zoe-zed"
    assert not profile.accepting_bookings


def test_activation_of_a_raw_admin_row_gives_an_admin_profile(admin_client: Client) -> None:
    # An admin row made outside services (a seat taken by hand) still gets its profile.
    raw = User.objects.create_user(
        "100000002",
        "some-pass-7781",
        email="raw@example.com",
        full_name="Raw Admin",
        phone="+49 30 9000003",
        role=User.Role.ADMIN,
        admin_seat=2,
    )

    run_action(admin_client, "activate_accounts", raw)
    run_action(admin_client, "activate_accounts", raw)

    raw.refresh_from_db()
    assert raw.is_active
    assert AdminProfile.objects.filter(user=raw).count() == 1
    assert not PatientProfile.objects.filter(user=raw).exists()
    assert not DoctorProfile.objects.filter(user=raw).exists()


def test_activated_user_can_log_in(admin_client: Client, password: str) -> None:
    pending = PendingPatientFactory()
    run_action(admin_client, "activate_accounts", pending)
    visitor = Client()

    response = visitor.post(
        reverse("accounts:login"), {"username": pending.national_id, "password": password}
    )

    assert response.status_code == 302


def test_deactivation_keeps_every_row_and_ends_the_users_sessions(
    admin_client: Client, patient: User, doctor: User
) -> None:
    patient_client, doctor_client = Client(), Client()
    patient_client.force_login(patient)
    doctor_client.force_login(doctor)
    assert patient_client.get(reverse("accounts:profile")).status_code == 200
    rows_before = (
        User.objects.count(),
        PatientProfile.objects.count(),
        DoctorProfile.objects.count(),
    )

    response = run_action(admin_client, "deactivate_accounts", patient, doctor)

    assert "2 accounts deactivated." in response.content.decode()
    assert rows_before == (
        User.objects.count(),
        PatientProfile.objects.count(),
        DoctorProfile.objects.count(),
    )
    for user, user_client in ((patient, patient_client), (doctor, doctor_client)):
        user.refresh_from_db()
        assert not user.is_active
        assert user.deactivated_at is not None
        assert not user.is_pending
        response = user_client.get(reverse("accounts:profile"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_deactivated_user_can_be_activated_again(admin_client: Client, patient: User) -> None:
    run_action(admin_client, "deactivate_accounts", patient)
    run_action(admin_client, "activate_accounts", patient)

    patient.refresh_from_db()
    assert patient.is_active
    assert patient.deactivated_at is None
    assert PatientProfile.objects.filter(user=patient).count() == 1


def test_admin_cannot_deactivate_themselves(admin_client: Client, admin_user: User) -> None:
    response = run_action(admin_client, "deactivate_accounts", admin_user)

    assert "You cannot deactivate your own account." in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert Session.objects.count() == 1


def test_admin_offers_no_delete(admin_client: Client, patient: User) -> None:
    changelist = admin_client.get(CHANGELIST)
    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "activate_accounts" in actions
    assert "deactivate_accounts" in actions
    assert "delete_selected" not in actions

    delete_url = reverse("admin:accounts_user_delete", args=[patient.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403

    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [patient.pk]}
    )
    # Django admin answers an action it does not offer by going back to the list.
    assert response.status_code == 302
    assert response.url == CHANGELIST
    assert User.objects.filter(pk=patient.pk).exists()


@pytest.mark.parametrize("model", ["patientprofile", "doctorprofile", "adminprofile"])
def test_profiles_cannot_be_deleted_in_admin(
    admin_client: Client, patient: User, doctor: User, admin_user: User, model: str
) -> None:
    owner = {"patientprofile": patient, "doctorprofile": doctor, "adminprofile": admin_user}
    profile = getattr(owner[model], model.replace("profile", "_profile"))

    response = admin_client.get(reverse(f"admin:accounts_{model}_delete", args=[profile.pk]))

    assert response.status_code == 403


def test_a_signed_in_patient_gets_a_plain_404_from_admin(client: Client, patient: User) -> None:
    client.force_login(patient)

    pages = [client.get(CHANGELIST), client.get("/admin/"), client.get(reverse("admin:login"))]

    assert [p.status_code for p in pages] == [404, 404, 404]
    assert all(patient.national_id not in p.content.decode() for p in pages)


def test_anonymous_visitors_are_sent_to_the_admin_login(client: Client) -> None:
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
