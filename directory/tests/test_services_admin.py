"""Admins keep a branch's services in Django admin: only that branch's doctors offer them."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory
from directory.models import Service

pytestmark = pytest.mark.django_db


def _post(client: Client, dora: DoctorProfile, offered_by: list[DoctorProfile]):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/directory/service/add/",
        {
            "branch": dora.branch_id,
            "name": "Check-up",
            "description": "",
            "price": "40.00",
            "specialty": "",
            "doctors": [d.pk for d in offered_by],
            "is_active": "on",
        },
    )


def test_an_admin_adds_a_service_offered_by_a_doctor_of_its_branch(
    client: Client, admin_user: User, doctor: User
) -> None:
    dora = doctor.doctor_profile
    client.force_login(admin_user)

    response = _post(client, dora, [dora])

    assert response.status_code == 302
    service = Service.objects.get()
    assert list(service.doctors.all()) == [dora]


def test_a_doctor_of_another_branch_cannot_offer_it(
    client: Client, admin_user: User, doctor: User
) -> None:
    dora = doctor.doctor_profile
    otto = DoctorFactory(full_name="Otto Other", national_id="200000002").doctor_profile
    assert otto.branch_id != dora.branch_id
    client.force_login(admin_user)

    response = _post(client, dora, [dora, otto])

    assert response.status_code == 200
    assert "Only doctors of" in response.content.decode()
    assert not Service.objects.exists()
