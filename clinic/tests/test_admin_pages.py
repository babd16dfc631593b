"""What the clinic's admins see in Django admin: adding any kind of user, the panel of what
waits for them, times in 24 hours, the appointment list's coming days and the patient's
phone, and an audit trail in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import DoctorProfile, FrontDeskProfile, User
from accounts.tests.factories import (
    PASSWORD,
    BranchFactory,
    PendingPatientFactory,
    SpecialtyFactory,
    UserFactory,
)
from audit.admin import action_name, object_type_name
from clinic.models import ContactMessage
from notifications.models import Delivery, Event
from scheduling.tests.conftest import NEXT_MONDAY, TODAY, dora, monday_9, now  # noqa: F401
from scheduling.tests.view_helpers import booked, slot_at

pytestmark = pytest.mark.django_db


def add_user(client: Client, **fields: object) -> object:
    data = {
        "national_id": "200-000 050",
        "full_name": "Nadia Neu",
        "email": "nadia@example.com",
        "phone": "030 3000050",
        "role": "doctor",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "active": "on",
        **fields,
    }
    return client.post("/admin/accounts/user/add/", data)


def test_an_admin_adds_a_doctor_who_is_listed_at_once(client: Client, admin_user: User) -> None:
    specialty, branch = SpecialtyFactory(), BranchFactory()
    client.force_login(admin_user)

    form = client.get("/admin/accounts/user/add/")
    response = add_user(client, specialty=specialty.pk, branch=branch.pk)

    assert 'name="national_id"' in form.text
    assert response.status_code == 302
    nadia = User.objects.get(national_id="200000050")
    assert nadia.is_active
    assert nadia.check_password(PASSWORD)
    profile = DoctorProfile.objects.get(user=nadia)
    assert (profile.specialty, profile.branch, profile.slug) == (specialty, branch, "nadia-neu")
    assert client.get(f"/doctors/{profile.slug}/").status_code == 200


def test_an_admin_adds_a_front_desk_at_a_branch(client: Client, admin_user: User) -> None:
    branch = BranchFactory()
    client.force_login(admin_user)

    missing = add_user(client, role="front_desk")
    response = add_user(client, role="front_desk", branch=branch.pk)

    assert missing.status_code == 200
    assert "branch" in missing.context["adminform"].form.errors
    assert response.status_code == 302
    assert FrontDeskProfile.objects.get(user__national_id="200000050").branch == branch
    assert not User.objects.get(national_id="200000050").is_staff


def test_an_admin_may_leave_the_password_to_the_user(client: Client, admin_user: User) -> None:
    branch = BranchFactory()
    client.force_login(admin_user)

    once = add_user(client, role="front_desk", branch=branch.pk, password2="")
    admin = add_user(client, role="admin", password1="", password2="")
    response = add_user(client, role="front_desk", branch=branch.pk, password1="", password2="")

    assert once.context["adminform"].form.errors == {
        "password2": ["Type the password twice, or leave both empty."]
    }
    assert "password1" in admin.context["adminform"].form.errors
    assert response.status_code == 302
    fiona = User.objects.get(national_id="200000050")
    assert fiona.is_active
    assert not fiona.has_usable_password()
    # Told of the account with a link to choose the password, not a login link.
    [mail] = Delivery.objects.filter(recipient="nadia@example.com")
    assert mail.mail == Delivery.Mail.SET_PASSWORD


def test_a_users_page_leads_to_the_profile_of_their_role(
    client: Client,
    admin_user: User,
    dora: DoctorProfile,  # noqa: F811
) -> None:
    pending = UserFactory(is_active=False, activated_at=None)
    client.force_login(admin_user)

    doctors = client.get(f"/admin/accounts/user/{dora.user.pk}/change/")
    waiting = client.get(f"/admin/accounts/user/{pending.pk}/change/")

    link = f'<a href="/admin/accounts/doctorprofile/{dora.pk}/change/">Dr. Dora Doctor</a>'
    assert link in doctors.text
    assert "None yet (made when the account is activated)." in waiting.text


def test_the_add_form_shows_why_it_refuses(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)

    response = add_user(client, role="patient", password2="something-else-1")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password2"] == ["The two passwords differ."]
    assert not User.objects.filter(national_id="200000050").exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"full_name": "Nadia\nNeu"}, "full_name", "one line"),
        ({"password1": "200000050", "password2": "200000050"}, "password1", "too similar"),
        ({"national_id": "12"}, "national_id", "national ID"),
        ({"email": "PATIENT@example.com"}, "email", "already exists"),
    ],
)
def test_the_add_form_checks_what_registration_checks(
    client: Client, admin_user: User, patient: User, fields: dict[str, str], field: str, words: str
) -> None:
    """The same checks as a patient's registration (accounts.forms.AccountFields), and the
    identifiers someone already holds, by name."""
    client.force_login(admin_user)
    patient.email = "patient@example.com"
    patient.save(update_fields=["email"])

    response = add_user(client, role="patient", **fields)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert not User.objects.filter(national_id="200000050").exists()


def test_the_index_shows_what_waits_for_an_admin(
    client: Client, admin_user: User, patient: User
) -> None:
    PendingPatientFactory()
    PendingPatientFactory()
    ContactMessage.objects.create(name="V", email="v@example.com", subject="S", message="M")
    ContactMessage.objects.create(
        name="W", email="w@example.com", subject="S", message="M", handled=True
    )
    event = Event.objects.create(type="account.activated", payload={})
    Delivery.objects.create(
        event=event, channel="email", recipient="x@example.com", mail="activated", status="failed"
    )
    client.force_login(admin_user)

    response = client.get("/admin/")

    waiting = {w.label: (w.count, w.url) for w in response.context["waiting"]}
    assert waiting["accounts waiting for activation"] == (
        2,
        "/admin/accounts/user/?status=pending",
    )
    assert "<strong>1</strong> failing delivery</a>" in response.text
    assert waiting["contact message not answered"][0] == 1
    assert "/admin/accounts/user/?status=pending" in response.text
    for label, (_count, url) in waiting.items():
        assert client.get(url).status_code == 200, label


def test_appointments_in_admin_in_24_hours_with_the_coming_days_and_the_phone(
    client: Client,
    admin_user: User,
    patient: User,
    dora: DoctorProfile,  # noqa: F811
) -> None:
    today = booked(slot_at(dora, 0, dt.time(17)), TODAY, patient=patient)
    booked(slot_at(dora, 0, dt.time(9)), NEXT_MONDAY, patient=patient)
    client.force_login(admin_user)

    listed = client.get("/admin/scheduling/appointment/", {"coming": "today"})
    week = client.get("/admin/scheduling/appointment/", {"coming": "7days"})
    tomorrow = client.get("/admin/scheduling/appointment/", {"coming": "tomorrow"})

    assert [a.pk for a in listed.context["cl"].result_list] == [today.pk]
    assert len(week.context["cl"].result_list) == 1
    assert len(tomorrow.context["cl"].result_list) == 0
    assert patient.phone in listed.text
    assert "17:00" in listed.text
    assert "p.m." not in listed.text


def test_the_audit_trail_reads_in_words() -> None:
    assert action_name("appointment.checked_in") == "Appointment checked in"
    assert action_name("appointment.no_show") == "Appointment marked no-show"
    assert action_name("user.activated") == "Account activated"
    assert action_name("doctor_profile.bookings_paused") == "Doctor profile bookings paused"
    assert object_type_name("scheduling.appointment") == "Appointment"
    assert object_type_name("accounts.frontdeskprofile") == "Front-desk profile"


def test_the_audit_list_shows_names_not_codes(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    PendingPatientFactory(national_id="300000070")

    response = client.get("/admin/audit/auditentry/")

    assert "Account created" in response.text
    assert "user.created</td>" not in response.text
