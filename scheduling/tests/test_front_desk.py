"""The front desk at its branch: registering a walk-in patient, finding patients, booking
for them with the branch's doctors, and the branch's day (check-in, no-show). Every rule is a
service's: a desk of another branch, or none, is refused whatever the path."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import unquote_plus

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from accounts.models import DoctorProfile, FrontDeskProfile, User
from accounts.tests.factories import front_desk
from audit.models import AuditEntry
from notifications.models import Delivery
from scheduling import services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.view_helpers import booked, slot_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def fay(dora: DoctorProfile) -> User:
    """The front desk of Dora's branch (Otto works at another)."""
    return front_desk(dora.branch)


@pytest.fixture
def otto(other_doctor: User) -> DoctorProfile:
    return other_doctor.doctor_profile


WALK_IN = {
    "national_id": "300-000 077",
    "full_name": "Walter Walkin",
    "email": "Walter@Example.com",
    "phone": "030 7000077",
    "date_of_birth": "1970-03-04",
    "medical_history": "Diabetic",
}


def send_mail() -> None:
    call_command("run_worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115


def desk(client: Client, fay: User) -> Client:
    client.force_login(fay)
    return client


def test_walk_in_patient_is_active_at_once_and_chooses_a_password_by_mail(
    client: Client, fay: User, settings: object
) -> None:
    response = desk(client, fay).post("/front-desk/patients/new/", WALK_IN)

    walter = User.objects.get(national_id="300000077")
    assert response.status_code == 302
    assert response["Location"] == f"/front-desk/patients/{walter.public_id}/"
    assert walter.is_active
    assert walter.is_patient
    assert not walter.has_usable_password()
    assert walter.patient_profile.medical_history == "Diabetic"
    assert walter.email == "walter@example.com"
    assert walter.phone == "+49307000077"
    # Registered by the desk, in the audit trail.
    created = AuditEntry.objects.get(action="user.created", object_key="300000077")
    assert created.actor == fay

    send_mail()
    [message] = [m for m in mail.outbox if m.to == ["walter@example.com"]]
    assert "choose your password" in message.subject
    link = re.search(r"https?://\S+/accounts/reset/\S+/", message.body)
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]
    visitor = Client()
    form = visitor.get(path, follow=True)
    assert form.status_code == 200
    done = visitor.post(
        form.redirect_chain[-1][0],
        {"new_password1": "walters-own-pass-42", "new_password2": "walters-own-pass-42"},
    )
    assert done.status_code == 302
    assert visitor.login(username="300000077", password="walters-own-pass-42")


def test_walk_in_form_shows_each_mistake_next_to_its_field(
    client: Client, fay: User, patient: User
) -> None:
    data = {**WALK_IN, "national_id": patient.national_id, "email": "not-an-address"}

    response = desk(client, fay).post("/front-desk/patients/new/", data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"national_id", "email"}
    assert not User.objects.filter(full_name="Walter Walkin").exists()
    # Registered already: the desk is led to their page instead.
    assert f'<a href="/front-desk/patients/{patient.public_id}/">open their page</a>' in (
        response.text
    )


def test_a_mistyped_national_id_leads_to_nobody(client: Client, fay: User) -> None:
    response = desk(client, fay).post("/front-desk/patients/new/", {**WALK_IN, "national_id": "1"})

    assert response.status_code == 400
    assert "national_id" in response.context["form"].errors
    assert response.context["registered"] is None


@pytest.mark.parametrize(
    "query", ["alice", "300-000 001", "030 7000001", "+49307000001", "ALICE.P@EXAMPLE"]
)
def test_the_desk_finds_a_patient_by_name_id_phone_or_email(
    client: Client, fay: User, query: str, other_patient: User
) -> None:
    alice = User.objects.create_user(
        "300000001",
        "x",
        full_name="Alice Patient",
        email="alice.p@example.com",
        phone="+49 30 7000001",
        is_active=True,
    )

    posted = desk(client, fay).post("/front-desk/patients/", {"q": query})
    response = client.get(posted["Location"])
    reloaded = client.get(posted["Location"])

    assert posted.status_code == 302
    assert [p.pk for p in response.context["found"]] == [alice.pk]
    assert [p.pk for p in reloaded.context["found"]] == [alice.pk]
    # What was typed stays in the page (the form and the results), not in the URL.
    assert f'value="{query}"' in response.text
    assert_no_personal_data(posted["Location"], query, alice)


def assert_no_personal_data(url: str, query: str, person: User) -> None:
    """Neither the query in any spelling nor any of the person's identifiers."""
    found = unquote_plus(url).lower()
    for said in (query, person.full_name, person.national_id, person.phone, person.email):
        for spelling in (said, said.replace(" ", ""), said.split(" ")[0]):
            assert spelling.lower() not in found, (spelling, url)


def test_the_search_is_posted_from_the_day_and_its_page_and_a_get_searches_nothing(
    client: Client, fay: User, patient: User
) -> None:
    desk(client, fay)
    day, page = client.get("/front-desk/").text, client.get("/front-desk/patients/").text
    by_url = client.get("/front-desk/patients/", {"q": patient.full_name})

    for html in (day, page):
        form = re.search(r'<form method="(\w+)" action="/front-desk/patients/"', html)
        assert form is not None
        assert form.group(1) == "post"
    # A query in the URL (an old bookmark) is not run: the URL should not have carried it.
    assert by_url.status_code == 200
    assert by_url.context["found"] == []


def test_a_search_is_kept_for_its_session_only(client: Client, fay: User, patient: User) -> None:
    posted = desk(client, fay).post("/front-desk/patients/", {"q": "Alice"})
    other = Client()
    other.force_login(fay)  # the same desk on another computer: another session

    mine = client.get(posted["Location"])
    theirs = other.get(posted["Location"])

    assert [p.pk for p in mine.context["found"]] == [patient.pk]
    assert theirs.status_code == 200
    assert theirs.context["found"] == []


@pytest.mark.parametrize("query", ["", "a", " a "])
def test_a_search_too_short_to_find_anyone_says_so(
    client: Client, fay: User, patient: User, query: str
) -> None:
    response = desk(client, fay).post("/front-desk/patients/", {"q": query})

    assert response.status_code == 400
    assert response.context["found"] == []
    assert response.context["form"].errors["q"]
    assert "Nobody matches" not in response.text


def test_books_for_the_patient_with_a_doctor_of_the_branch(
    client: Client, fay: User, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    url = f"/front-desk/patients/{patient.public_id}/book/{dora.slug}/"
    when = {"date": NEXT_MONDAY.isoformat(), "slot": str(monday_9.public_id)}

    grid = desk(client, fay).get(url)
    confirm = client.get(url, when)
    response = client.post(url, {**when, "reason": "Called in: chest pain"})

    assert grid.status_code == 200
    assert f"{url}?date={NEXT_MONDAY:%Y-%m-%d}&amp;slot={monday_9.public_id}" in grid.text
    assert confirm.status_code == 200
    assert "Book for Alice Patient" in confirm.text
    # The confirm page the patients use, worded for the desk: it books at the desk's address.
    assert confirm.templates[0].name == "scheduling/book_confirm.html"
    assert f'<form method="post" action="{url}"' in confirm.text
    assert "Confirm your appointment" not in confirm.text
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=patient)
    assert (appointment.doctor, appointment.booked_by) == (dora, fay)
    entry = AuditEntry.objects.get(action="appointment.created")
    assert entry.actor == fay
    assert entry.after["booked_by"] == fay.national_id
    # The patient gets the usual confirmation.
    assert Delivery.objects.filter(recipient=patient.email, mail="booked").exists()


def test_a_patients_own_booking_records_them_as_its_booker(
    patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    appointment = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert appointment.booked_by == patient


def test_the_desk_cannot_book_with_another_branchs_doctor(
    client: Client, fay: User, patient: User, otto: DoctorProfile
) -> None:
    otto_9 = slot_at(otto, 0, dt.time(9))

    page = desk(client, fay).get(f"/front-desk/patients/{patient.public_id}/book/{otto.slug}/")
    with pytest.raises(services.NotAllowed):
        services.book(patient=patient, doctor=otto, slot=otto_9, date=NEXT_MONDAY, by=fay)

    assert page.status_code == 404
    assert not Appointment.objects.exists()


def test_no_one_but_an_admin_or_the_desk_books_for_someone_else(
    patient: User, other_patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    with pytest.raises(services.NotAllowed):
        services.book(
            patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, by=other_patient
        )
    with pytest.raises(services.NotAllowed):
        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, by=dora.user)

    assert not Appointment.objects.exists()


def test_the_desk_reschedules_and_cancels_through_the_patients_pages(
    client: Client, fay: User, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
    later = slot_at(dora, 0, dt.time(11))
    base = f"/appointments/{appointment.public_id}"

    moved = desk(client, fay).post(
        f"{base}/reschedule/", {"date": NEXT_MONDAY.isoformat(), "slot": str(later.public_id)}
    )
    refused = client.post(f"{base}/cancel/", {"reason": ""})
    cancelled = client.post(f"{base}/cancel/", {"reason": "The patient called to cancel."})

    assert (moved.status_code, refused.status_code, cancelled.status_code) == (302, 400, 302)
    appointment.refresh_from_db()
    assert appointment.slot == later
    assert appointment.status == "cancelled"
    assert appointment.cancelled_by == fay


def test_the_shared_appointment_pages_speak_to_the_desk_of_the_patient(
    client: Client, fay: User, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
    later = slot_at(dora, 0, dt.time(11))
    base = f"/appointments/{appointment.public_id}"
    name = patient.full_name

    desk(client, fay)
    detail = client.get(f"{base}/")
    cancel = client.get(f"{base}/cancel/")
    choose = client.get(
        f"{base}/reschedule/", {"date": NEXT_MONDAY.isoformat(), "slot": str(later.public_id)}
    )
    moved = client.post(
        f"{base}/reschedule/",
        {"date": NEXT_MONDAY.isoformat(), "slot": str(later.public_id)},
        follow=True,
    )
    cancelled = client.post(f"{base}/cancel/", {"reason": "Called to cancel."}, follow=True)

    assert f"{name}'s appointment with {dora.display_name}" in unescape(detail.text)
    # The desk's own part of the site is marked in the menu, not a patient's "My appointments".
    assert 'href="/front-desk/" aria-current="page"' in detail.text
    assert f'href="/front-desk/patients/{patient.public_id}/">← Back to {name}' in unescape(
        detail.text
    )
    assert patient.phone in unescape(detail.text)
    assert "Medical history" not in unescape(detail.text)
    assert "Move to another time" in unescape(detail.text)
    assert f"Cancel {name}'s appointment?" in unescape(cancel.text)
    assert f"{name} is told by e-mail" in unescape(cancel.text)
    assert f"Move {name}'s appointment to this time" in unescape(choose.text)
    assert f"{name}'s current time stays booked" in unescape(choose.text)
    assert f"{name}'s appointment is moved to the new time." in unescape(moved.text)
    assert f"{name}'s appointment is cancelled" in unescape(cancelled.text)
    # Once cancelled, the desk books again from its own pages, not the patient's.
    book_again = f"/front-desk/patients/{patient.public_id}/book/{dora.slug}/"
    assert f'href="{book_again}"' in unescape(cancelled.text)
    for page in (detail, cancel, choose, moved, cancelled):
        assert "Your" not in unescape(page.text).replace("Your account", "")
        assert "my appointment" not in unescape(page.text).lower()


def test_the_patient_still_reads_your_appointment(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
    later = slot_at(dora, 0, dt.time(11))
    base = f"/appointments/{appointment.public_id}"
    client.force_login(patient)

    choose = client.get(
        f"{base}/reschedule/", {"date": NEXT_MONDAY.isoformat(), "slot": str(later.public_id)}
    )
    cancel = client.get(f"{base}/cancel/")
    moved = client.post(
        f"{base}/reschedule/",
        {"date": NEXT_MONDAY.isoformat(), "slot": str(later.public_id)},
        follow=True,
    )

    assert "Your current time stays booked" in unescape(choose.text)
    assert "Move my appointment to this time" in unescape(choose.text)
    assert "Cancel the appointment?" in unescape(cancel.text)
    assert patient.full_name not in unescape(cancel.text).split("<main", 1)[-1].split("</h1>")[0]
    assert "Your appointment is moved to the new time." in unescape(moved.text)
    assert "Back to my appointments" in unescape(moved.text)


def test_another_branchs_desk_sees_none_of_it(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot, otto: DoctorProfile
) -> None:
    elsewhere = front_desk(
        otto.branch,
        national_id="400000002",
        email="erin@clinic.example",
        full_name="Erin Elsewhere",
        phone="+49 30 2000010",
    )
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
    client.force_login(elsewhere)

    pages = [
        client.get(f"/appointments/{appointment.public_id}/"),
        client.post(f"/appointments/{appointment.public_id}/cancel/", {"reason": "No"}),
    ]
    with pytest.raises(services.NotAllowed):
        services.cancel(appointment=appointment, by=elsewhere, reason="No")

    assert [p.status_code for p in pages] == [404, 404]
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"


def test_the_branchs_day_shows_every_doctor_and_checks_patients_in(
    client: Client,
    fay: User,
    patient: User,
    other_patient: User,
    dora: DoctorProfile,
    django_assert_max_num_queries: object,
) -> None:
    colleague = DoctorProfile.objects.create(
        user=User.objects.create_user(
            "200000005",
            "x",
            full_name="Cora Colleague",
            email="cora@example.com",
            phone="+49 30 7100005",
            role="doctor",
            is_active=True,
        ),
        slug="cora-colleague",
        specialty=dora.specialty,
        branch=dora.branch,
    )
    alices = booked(slot_at(dora, 0, dt.time(14)), TODAY, patient=patient)
    bobs = booked(slot_at(colleague, 0, dt.time(15)), TODAY, patient=other_patient)
    desk(client, fay)

    with django_assert_max_num_queries(8):  # type: ignore[operator]
        day = client.get("/front-desk/")
    checked = client.post(f"/front-desk/appointments/{bobs.public_id}/check-in/")
    early = client.post(f"/front-desk/appointments/{alices.public_id}/no-show/", follow=True)

    assert day.status_code == 200
    assert [d.doctor for d in day.context["days"]] == [colleague, dora]
    assert "Alice Patient" in day.text
    assert "Bob Patient" in day.text
    assert checked.status_code == 302
    bobs.refresh_from_db()
    alices.refresh_from_db()
    assert bobs.status == "checked_in"
    assert alices.status == "scheduled"
    assert "has not started yet" in early.text
    assert AuditEntry.objects.get(action="appointment.checked_in").actor == fay


def test_the_desk_cannot_mark_a_visit_completed(fay: User, patient: User, monday_9: Slot) -> None:
    appointment = booked(monday_9, TODAY, patient=patient)

    with pytest.raises(services.NotAllowed):
        services.complete(appointment=appointment, by=fay)


def test_a_desk_without_a_branch_is_refused(client: Client, fay: User) -> None:
    FrontDeskProfile._base_manager.filter(user=fay).update(branch=None)
    client.force_login(fay)

    assert client.get("/front-desk/").status_code == 403
    assert client.get("/front-desk/patients/new/").status_code == 403


def test_the_desk_lands_on_its_day_after_login(client: Client, fay: User, password: str) -> None:
    response = client.post(
        "/accounts/login/", {"username": fay.national_id, "password": password}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/front-desk/"


def test_the_public_doctor_page_sends_the_desk_to_the_patient_first(
    client: Client, fay: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    desk(client, fay)
    page = client.get(f"/doctors/{dora.slug}/")
    book = client.get(
        f"/doctors/{dora.slug}/book/",
        {"date": NEXT_MONDAY.isoformat(), "slot": str(monday_9.public_id)},
    )

    assert '<a href="/front-desk/patients/">Find the patient first</a>' in page.text
    assert book.status_code == 403
    assert "The front desk books from the patient&#x27;s page" in book.text
    assert not Appointment.objects.exists()
