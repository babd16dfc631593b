"""Admins are staff in the "Clinic admins" group: view, add and change, never delete."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction

from accounts import services
from accounts.models import User
from accounts.tests.factories import DoctorFactory, PatientFactory

OUR_APPS = ("accounts", "directory", "scheduling", "notifications", "clinic")


def test_admin_is_staff_in_the_clinic_admins_group(admin_user: User) -> None:
    assert admin_user.is_staff
    assert not admin_user.is_superuser
    assert list(admin_user.groups.values_list("name", flat=True)) == [services.ADMIN_GROUP]


def test_clinic_admins_may_view_add_and_change_our_models_but_never_delete(
    admin_user: User,
) -> None:
    group = Group.objects.get(name=services.ADMIN_GROUP)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    ours = set(
        Permission.objects.filter(content_type__app_label__in=OUR_APPS).values_list(
            "content_type__app_label", "codename"
        )
    )

    assert granted == {p for p in ours if not p[1].startswith("delete_")}
    assert not any(codename.startswith("delete_") for _, codename in granted)
    for action in ("view", "add", "change"):
        assert admin_user.has_perm(f"accounts.{action}_user")
        assert admin_user.has_perm(f"directory.{action}_specialty")
    assert not admin_user.has_perm("accounts.delete_user")
    assert not admin_user.has_perm("directory.delete_branch")
    # Nothing outside the clinic's own apps (e.g. editing groups and their permissions).
    assert not admin_user.has_perm("auth.change_group")


def test_admin_group_is_repaired_when_an_admin_is_created(db: None) -> None:
    group, _ = Group.objects.get_or_create(name=services.ADMIN_GROUP)
    group.permissions.set(Permission.objects.filter(codename="delete_user"))

    admin = services.create_admin(
        national_id="100000001",
        password="sturdy-lantern-417",
        email="a@example.com",
        full_name="A Admin",
        phone="+49 30 2000001",
    )

    assert admin.has_perm("accounts.change_user")
    assert not admin.has_perm("accounts.delete_user")


@pytest.mark.django_db
@pytest.mark.parametrize("factory", [PatientFactory, DoctorFactory])
@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_database_refuses_staff_flags_for_non_admins(factory: type, flag: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**{flag: True})

    assert not User.objects.exists()


def test_database_refuses_making_an_existing_patient_staff(patient: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User._base_manager.filter(pk=patient.pk).update(is_staff=True)

    patient.refresh_from_db()
    assert not patient.is_staff


def test_demoted_admin_loses_staff_and_group(admin_user: User) -> None:
    services.change_role(user=admin_user, role=User.Role.DOCTOR)

    admin_user.refresh_from_db()
    assert not admin_user.is_staff
    assert not admin_user.is_superuser
    assert admin_user.admin_seat is None
    assert not admin_user.groups.exists()
    assert admin_user.doctor_profile.slug
