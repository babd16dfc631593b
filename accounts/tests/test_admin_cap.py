"""At most two admins, whichever way an admin is made, guaranteed by the database."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AdminProfile, User
from accounts.tests.factories import PASSWORD, PatientFactory


def make_admin(n: int, **extra: object) -> User:
    return services.create_admin(
        national_id=f"10000000{n}",
        password=PASSWORD,
        email=f"admin{n}@example.com",
        full_name=f"Admin {n}",
        phone=f"+49 30 20000{n:02d}",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def second_admin(admin_user: User) -> User:
    return make_admin(2)


def test_two_admins_hold_the_two_seats(admin_user: User, second_admin: User) -> None:
    assert {admin_user.admin_seat, second_admin.admin_seat} == {1, 2}
    for admin in (admin_user, second_admin):
        assert admin.is_active
        assert admin.is_staff
        assert admin.activated_at is not None
        assert AdminProfile.objects.filter(user=admin).count() == 1


def test_a_third_admin_is_a_validation_error(admin_user: User, second_admin: User) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_admin(3)

    assert excinfo.value.code == "admin_cap"
    assert User.objects.admins().count() == 2
    assert not User.objects.filter(national_id="100000003").exists()


def test_a_freed_seat_can_be_taken_again(admin_user: User, second_admin: User) -> None:
    services.change_role(user=second_admin, role=User.Role.PATIENT)

    third = make_admin(3)

    assert third.admin_seat == 2
    second_admin.refresh_from_db()
    assert second_admin.admin_seat is None
    assert not second_admin.is_staff
    assert not second_admin.groups.filter(name=services.ADMIN_GROUP).exists()


def test_createsuperuser_makes_an_admin_while_a_seat_is_free(
    admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command(
        "createsuperuser",
        interactive=False,
        national_id="100 000 002",
        email="root@example.com",
        full_name="Root Admin",
        phone="+49 30 2000099",
        verbosity=0,
    )

    admin = User.objects.get(national_id="100000002")
    assert admin.role == User.Role.ADMIN
    assert admin.admin_seat == 2
    assert admin.is_superuser
    assert admin.check_password(PASSWORD)


def test_createsuperuser_fails_cleanly_when_both_seats_are_taken(
    admin_user: User, second_admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    with pytest.raises(CommandError, match="already has two admins"):
        call_command(
            "createsuperuser",
            interactive=False,
            national_id="100000003",
            email="root@example.com",
            full_name="Root Admin",
            phone="+49 30 2000099",
            verbosity=0,
        )

    assert User.objects.admins().count() == 2
    assert not User.objects.filter(national_id="100000003").exists()


def change_form_data(user: User, **overrides: str) -> dict[str, str]:
    data = {
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
    }
    data.update(overrides)
    return data


def test_admin_change_form_refuses_a_third_admin(
    client: Client, admin_user: User, second_admin: User, patient: User
) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_change", args=[patient.pk]),
        change_form_data(patient, role=User.Role.ADMIN),
    )

    assert response.status_code == 200
    assert services.ADMIN_CAP_MESSAGE in response.context["adminform"].form.errors["role"]
    patient.refresh_from_db()
    assert patient.role == User.Role.PATIENT
    assert patient.admin_seat is None
    assert not patient.is_staff


def test_admin_change_form_promotes_to_the_free_seat(
    client: Client, admin_user: User, patient: User
) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_change", args=[patient.pk]),
        change_form_data(patient, role=User.Role.ADMIN),
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.role == User.Role.ADMIN
    assert patient.admin_seat == 2
    assert patient.is_staff
    assert patient.groups.filter(name=services.ADMIN_GROUP).exists()
    assert AdminProfile.objects.filter(user=patient).count() == 1


def test_admin_change_form_saves_details_without_touching_the_role(
    client: Client, admin_user: User, patient: User
) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_change", args=[patient.pk]),
        change_form_data(patient, full_name="Alice Changed", email="ALICE@EXAMPLE.COM"),
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.full_name == "Alice Changed"
    assert patient.email == "alice@example.com"
    assert patient.role == User.Role.PATIENT


def add_form_data(**overrides: str) -> dict[str, str]:
    data = {
        "national_id": "400-000-010",
        "full_name": "Added Person",
        "email": "Added@Example.com",
        "phone": "030 9000010",
        "role": User.Role.PATIENT,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def test_admin_add_form_can_leave_an_account_pending(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)

    # "Active at once" unticked: a checkbox left out of the POST.
    response = client.post(reverse("admin:accounts_user_add"), add_form_data())

    assert response.status_code == 302
    added = User.objects.get(national_id="400000010")
    assert added.email == "added@example.com"
    assert added.phone == "+49309000010"
    assert added.is_pending
    assert added.check_password(PASSWORD)
    assert hasattr(added, "patient_profile")


def test_admin_add_form_makes_a_second_admin(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_add"), add_form_data(role="admin", active="on")
    )

    assert response.status_code == 302
    added = User.objects.get(national_id="400000010")
    assert added.admin_seat == 2
    assert added.is_active
    assert added.is_staff


def test_admin_add_form_refuses_a_third_admin(
    client: Client, admin_user: User, second_admin: User
) -> None:
    client.force_login(admin_user)

    response = client.post(reverse("admin:accounts_user_add"), add_form_data(role="admin"))

    assert response.status_code == 200
    assert services.ADMIN_CAP_MESSAGE in response.context["adminform"].form.errors["role"]
    assert not User.objects.filter(national_id="400000010").exists()


def test_admin_add_form_rejects_duplicates(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    PatientFactory(national_id="400000010", email="added@example.com")

    response = client.post(reverse("admin:accounts_user_add"), add_form_data())

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "national_id" in errors
    assert "email" in errors
    assert User.objects.filter(national_id="400000010").count() == 1


def raw_admin(n: int, seat: int | None) -> User:
    return User.objects.create(
        national_id=f"50000000{n}",
        email=f"raw{n}@example.com",
        full_name=f"Raw {n}",
        phone=f"+4930900010{n}",
        role=User.Role.ADMIN,
        admin_seat=seat,
    )


@pytest.mark.django_db
def test_database_refuses_an_admin_without_a_seat() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_admin(1, None)

    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("seat", [0, 3])
def test_database_refuses_a_seat_that_does_not_exist(seat: int) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_admin(1, seat)

    assert not User.objects.exists()


def test_database_refuses_an_admin_in_a_taken_seat(admin_user: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_admin(1, admin_user.admin_seat)

    assert User.objects.admins().count() == 1


@pytest.mark.django_db
def test_database_refuses_a_seat_for_a_non_admin() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(admin_seat=1)

    assert not User.objects.exists()


THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_admin_creation_fills_exactly_two_seats() -> None:
    barrier = threading.Barrier(THREADS)
    created: list[User] = []
    refused: list[ValidationError] = []
    unexpected: list[BaseException] = []

    def create(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            created.append(make_admin(n))
        except ValidationError as exc:
            refused.append(exc)
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(1, THREADS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert unexpected == []
    assert len(created) == 2
    assert len(refused) == THREADS - 2
    assert all(exc.code == "admin_cap" for exc in refused)
    assert sorted(User.objects.admins().values_list("admin_seat", flat=True)) == [1, 2]
    assert User.objects.count() == 2
    assert AdminProfile.objects.count() == 2
