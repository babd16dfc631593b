"""Input the site cannot store is refused with a clear answer, never a 500: a NUL anywhere
(PostgreSQL cannot hold one), a JSON body over the upload limit, a name on several lines."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.test_profile import profile_data
from accounts.tests.test_registration import patient_data
from notifications import emails
from notifications.models import Delivery
from scheduling import services
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "path",
    ["/doctors/?q=%00", "/doctors/?q=anna%00", "/doctors/?specialty=%00", "/?x%00=1"],
)
def test_a_nul_in_the_query_is_a_400(browser: Client, path: str) -> None:
    response = browser.get(path)

    assert response.status_code == 400
    assert "We could not read that request" in response.content.decode()


def test_a_nul_in_an_admin_search_is_a_400(browser: Client, admin_user: User) -> None:
    browser.force_login(admin_user)

    assert browser.get("/admin/accounts/user/?q=%00").status_code == 400
    assert browser.get("/admin/accounts/user/?q=ada").status_code == 200


def test_a_nul_in_a_form_is_a_400_and_in_the_api_a_422_and_writes_nothing(
    browser: Client,
) -> None:
    form = browser.post("/accounts/register/", patient_data(full_name="Nora\x00New"))
    api = browser.post(
        "/api/v1/auth/token",
        '{"national_id": "300000001", "password": "a\\u0000b"}',
        content_type="application/json",
    )
    search = browser.get("/api/v1/doctors?q=%00")

    assert form.status_code == 400
    assert not User.objects.filter(national_id="300000777").exists()
    assert (api.status_code, api.json()["code"]) == (422, "validation_error")
    assert (search.status_code, search.json()["code"]) == (422, "validation_error")


def test_a_json_body_over_the_upload_limit_is_a_413_json(
    browser: Client, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"national_id": "300000001", "password": "' + "x" * 2000 + '"}'

    response = browser.post("/api/v1/auth/token", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_name_on_two_lines_is_refused_at_registration(client: Client) -> None:
    response = client.post(
        "/accounts/register/", patient_data(full_name="Nora New\r\nBcc: all@example.com")
    )

    assert response.status_code == 400
    assert "Write the name on one line" in response.content.decode()
    assert not User.objects.filter(national_id="300000777").exists()


def test_a_name_on_two_lines_is_refused_at_profile_edit(client: Client, patient: User) -> None:
    client.force_login(patient)

    response = client.post(
        "/accounts/profile/", profile_data(patient, **{"account-full_name": "Alice\nEvil"})
    )

    assert "Write the name on one line" in response.content.decode()
    patient.refresh_from_db()
    assert patient.full_name == "Alice Patient"


def test_any_path_stores_a_name_on_one_line(patient: User) -> None:
    patient.full_name = "  Alice \r\n  Patient\t"
    patient.normalise()

    assert patient.full_name == "Alice Patient"


def test_an_event_recorded_with_a_two_line_name_still_mails(
    patient: User, dora: DoctorProfile, monday_9: Slot, settings: Settings
) -> None:
    """An event written before names were checked carries the line break in its payload:
    its e-mails still go out, with a subject on one line."""
    User._base_manager.filter(pk=patient.pk).update(full_name="Alice\r\nPatient")
    patient.refresh_from_db()
    DoctorProfile._base_manager.filter(pk=dora.pk).update(email_on_new_booking=True)
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    for delivery in Delivery.objects.filter(channel=Delivery.Channel.EMAIL):
        emails.build(delivery).send()

    assert mail.outbox
    for message in mail.outbox:
        assert "\n" not in message.subject
        assert "\r" not in message.subject
    assert any("Alice Patient" in m.subject for m in mail.outbox)
