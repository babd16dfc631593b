"""Nothing is hard-deleted in Django admin, superusers included: no delete action on any list,
every delete page is a 403. Users, doctor profiles, appointments, slots and time off also
refuse delete() in code: they are deactivated, cancelled or retired."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from accounts.models import User
from common.kept import NeverDeleted
from scheduling.tests.factories import AppointmentFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(
        "100000002",
        "sturdy-lantern-417",
        email="root@clinic.example",
        full_name="Sam Super",
        phone="+49 30 2000002",
    )


def test_every_model_of_ours_is_covered() -> None:
    labels = {model._meta.label for model, _ in MODEL_ADMINS}
    assert {"scheduling.Appointment", "accounts.User", "audit.AuditEntry"} <= labels


@pytest.mark.parametrize(("model", "model_admin"), MODEL_ADMINS, ids=lambda v: str(v))
def test_no_delete_action_and_no_delete_page(
    client: Client, superuser: User, model, model_admin
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    client.force_login(superuser)
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    assert model_admin.has_delete_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)
    # Django checks the permission before it looks for the object: any id is refused.
    assert client.get(f"{base}1/delete/").status_code == 403
    assert client.post(f"{base}1/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("kind", ["user", "doctor_profile", "appointment", "slot", "time_off"])
def test_kept_rows_refuse_delete_in_code(db: None, kind: str) -> None:
    appointment = AppointmentFactory()
    row = {
        "user": appointment.patient,
        "doctor_profile": appointment.doctor,
        "appointment": appointment,
        "slot": appointment.slot,
        "time_off": TimeOffFactory(doctor=appointment.doctor),
    }[kind]

    with pytest.raises(NeverDeleted):
        row.delete()
    with pytest.raises(NeverDeleted):
        type(row).objects.filter(pk=row.pk).delete()

    assert type(row).objects.filter(pk=row.pk).exists()
