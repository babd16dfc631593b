"""Booking for family members: the overlap rule holds per person (the patient, or the family
member seen), in the service and in the database; the account holder holds the appointment
and gets the e-mails; an admin links a family member who registered, history kept.

Clock: Monday 1 June 2026, 10:00 Berlin (scheduling's conftest)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from accounts import services as accounts
from accounts.models import Dependant, DoctorProfile, User
from accounts.tests.factories import DoctorFactory, PatientFactory, front_desk
from api.tests.conftest import ApiClient
from notifications.models import Event
from notifications.tests.conftest import run_worker
from scheduling import person_overlap, services
from scheduling.errors import SchedulingError
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def otto(now: dt.datetime) -> DoctorProfile:
    return DoctorFactory(full_name="Otto Other", national_id="200000002").doctor_profile


@pytest.fixture
def ottos_monday_9(otto: DoctorProfile) -> Slot:
    return SlotFactory(doctor=otto, weekday=0, start_time=dt.time(9), end_time=dt.time(9, 30))


@pytest.fixture
def mia(patient: User) -> Dependant:
    return accounts.add_dependant(
        guardian=patient, full_name="Mia Patient", date_of_birth=dt.date(2018, 3, 4)
    )


@pytest.fixture
def leo(patient: User) -> Dependant:
    return accounts.add_dependant(
        guardian=patient,
        full_name="Leo Patient",
        date_of_birth=dt.date(2020, 5, 6),
        national_id="300000077",
    )


def test_a_parent_books_two_children_at_once_with_two_doctors(
    patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    otto: DoctorProfile,
    ottos_monday_9: Slot,
    mia: Dependant,
    leo: Dependant,
) -> None:
    first = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=mia
    )
    second = services.book(
        patient=patient, doctor=otto, slot=ottos_monday_9, date=NEXT_MONDAY, dependant=leo
    )

    assert (first.dependant, second.dependant) == (mia, leo)
    assert {first.patient_id, second.patient_id} == {patient.pk}
    assert Appointment.objects.open().count() == 2


def test_the_same_child_twice_at_one_time_is_refused(
    patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    otto: DoctorProfile,
    ottos_monday_9: Slot,
    mia: Dependant,
) -> None:
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=mia)

    with pytest.raises(SchedulingError) as refused:
        services.book(
            patient=patient, doctor=otto, slot=ottos_monday_9, date=NEXT_MONDAY, dependant=mia
        )

    assert refused.value.code == "patient_overlap"
    assert "Mia Patient already has an appointment with Dr. Dora Doctor" in refused.value.text
    assert Appointment.objects.count() == 1


def test_the_parents_own_appointment_does_not_stop_a_childs_at_that_time(
    patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    otto: DoctorProfile,
    ottos_monday_9: Slot,
    mia: Dependant,
) -> None:
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    childs = services.book(
        patient=patient, doctor=otto, slot=ottos_monday_9, date=NEXT_MONDAY, dependant=mia
    )

    assert childs.dependant == mia


def test_the_database_refuses_one_person_twice_at_one_time_whatever_the_path(
    patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    otto: DoctorProfile,
    ottos_monday_9: Slot,
    mia: Dependant,
    leo: Dependant,
) -> None:
    booked = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=mia
    )

    def straight_in(dependant: Dependant | None, status: str = "scheduled") -> Appointment:
        # Past every rule of the service: a plain save, as a script would.
        return Appointment.objects.create(
            patient=patient,
            dependant=dependant,
            doctor=otto,
            slot=ottos_monday_9,
            date=NEXT_MONDAY,
            starts_at=booked.starts_at + dt.timedelta(minutes=15),
            ends_at=booked.ends_at + dt.timedelta(minutes=15),
            status=status,
            cancelled_at=booked.starts_at if status == "cancelled" else None,
        )

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        straight_in(mia)
    assert person_overlap.refused(refused.value)

    # Another person of the same account, or a cancelled row, is no clash.
    with transaction.atomic():
        leos = straight_in(leo)
        transaction.set_rollback(True)
    assert leos.pk is not None
    with transaction.atomic():
        straight_in(mia, status="cancelled")
        transaction.set_rollback(True)

    # Moving a row onto the time is refused too (the update trigger / the constraint).
    other = services.book(
        patient=patient,
        doctor=otto,
        slot=SlotFactory(doctor=otto, weekday=0, start_time=dt.time(11), end_time=dt.time(11, 30)),
        date=NEXT_MONDAY,
        dependant=mia,
    )
    other.starts_at, other.ends_at = booked.starts_at, booked.ends_at
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_one_cannot_book_for_someone_elses_family_member(
    other_patient: User, dora: DoctorProfile, monday_9: Slot, mia: Dependant
) -> None:
    with pytest.raises(SchedulingError) as refused:
        services.book(
            patient=other_patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=mia
        )

    assert refused.value.code == "dependant"
    assert not Appointment.objects.exists()


def test_a_removed_family_member_is_no_longer_booked_for(
    patient: User, dora: DoctorProfile, monday_9: Slot, mia: Dependant
) -> None:
    accounts.remove_dependant(dependant=mia)
    mia.refresh_from_db()

    with pytest.raises(SchedulingError, match="family members on your profile"):
        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=mia)
    assert Dependant.objects.filter(pk=mia.pk).exists()


def test_the_account_holder_gets_the_mail_naming_the_child(
    patient: User, dora: DoctorProfile, monday_9: Slot, mia: Dependant, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=mia)

    data = Event.objects.get(type="appointment.booked").payload["data"]
    assert data["dependant"] == {
        "id": str(mia.public_id),
        "name": "Mia Patient",
        "relationship": "child",
    }
    assert data["patient"]["email"] == patient.email
    assert "2018" not in str(data)  # no date of birth

    run_worker()
    [message] = mail.outbox
    assert message.to == [patient.email]
    assert "For:    Mia Patient" in message.body


def test_the_queue_and_the_week_show_the_person_seen(
    client: Client, doctor: User, patient: User, dora: DoctorProfile, mia: Dependant
) -> None:
    later_today = SlotFactory(
        doctor=dora, weekday=0, start_time=dt.time(15), end_time=dt.time(15, 30)
    )
    services.book(patient=patient, doctor=dora, slot=later_today, date=TODAY, dependant=mia)
    client.force_login(doctor)

    queue = client.get("/dashboard/").content.decode()
    week = client.get("/dashboard/week/").content.decode()

    for page in (queue, week):
        assert "Mia Patient" in page
        assert "booked by Alice Patient" in page


def test_the_desk_is_asked_about_the_account_holder_not_itself(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot, mia: Dependant
) -> None:
    client.force_login(front_desk(dora.branch))
    url = f"/front-desk/patients/{patient.public_id}/book/{dora.slug}/"

    page = client.get(url, {"date": NEXT_MONDAY.isoformat(), "slot": str(monday_9.public_id)})

    assert page.status_code == 200
    assert "Alice Patient (the account holder)" in page.text
    assert "Me (" not in page.text


def test_the_confirm_page_asks_who_the_visit_is_for_and_books_the_child(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot, mia: Dependant
) -> None:
    # Alice has her own appointment at that time elsewhere: Mia may still go.
    services.book(
        patient=patient,
        doctor=DoctorFactory(national_id="200000003").doctor_profile,
        slot=SlotFactory(
            doctor=DoctorProfile.objects.exclude(pk=dora.pk).get(),
            weekday=0,
            start_time=dt.time(9),
            end_time=dt.time(9, 30),
        ),
        date=NEXT_MONDAY,
    )
    client.force_login(patient)
    url = f"/doctors/{dora.slug}/book/"
    query = {"date": NEXT_MONDAY.isoformat(), "slot": str(monday_9.public_id)}

    page = client.get(url, query)
    assert page.status_code == 200
    html = page.content.decode()
    # A group of radio buttons under a plain question, the account holder chosen until
    # another is: no empty "optional" box to puzzle over.
    assert re.search(r"<legend>\s*Who is this appointment for\?\s*</legend>", html)
    assert "(optional)" not in html.split("<legend>")[1].split("</fieldset>")[0]
    me = re.search(r'<input type="radio" name="dependant" value=""[^>]*>\s*Me \(Alice', html)
    assert me is not None
    assert "checked" in me.group(0)
    assert re.search(rf'type="radio" name="dependant" value="{mia.public_id}"', html)

    mine = client.post(url, query)
    assert mine.status_code == 409  # Alice herself is busy then
    response = client.post(url, {**query, "dependant": str(mia.public_id)})
    assert response.status_code == 302
    assert Appointment.objects.get(doctor=dora).dependant == mia


def test_the_patient_adds_and_removes_family_members_on_the_profile(
    client: Client, patient: User, other_patient: User
) -> None:
    client.force_login(patient)

    added = client.post(
        "/accounts/profile/family/",
        {"full_name": "Mia  Patient", "date_of_birth": "2018-03-04", "relationship": "child"},
    )
    mia = Dependant.objects.get()
    bad = client.post(
        "/accounts/profile/family/",
        {"full_name": "Z", "date_of_birth": "2099-01-01", "relationship": "child"},
    )
    profile = client.get("/accounts/profile/").content.decode()
    client.force_login(other_patient)
    not_bobs = client.post(f"/accounts/profile/family/{mia.public_id}/remove/")
    client.force_login(patient)
    removed = client.post(f"/accounts/profile/family/{mia.public_id}/remove/")

    assert added.status_code == 302
    assert (mia.guardian, mia.full_name) == (patient, "Mia Patient")
    assert bad.status_code == 400
    assert "cannot be in the future" in bad.content.decode()
    assert "Mia Patient" in profile
    assert not_bobs.status_code == 404
    assert removed.status_code == 302
    mia.refresh_from_db()
    assert mia.is_active is False
    assert Dependant.objects.count() == 1


def test_an_admin_links_a_family_member_who_registered_keeping_their_history(
    patient: User,
    admin_user: User,
    dora: DoctorProfile,
    monday_9: Slot,
    leo: Dependant,
) -> None:
    appointment = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=leo
    )
    grown_up = PatientFactory(full_name="Leo Patient", national_id="300-000 077")

    services.link_dependant(dependant=leo, user=grown_up, by=admin_user)

    appointment.refresh_from_db()
    leo.refresh_from_db()
    assert (appointment.patient, appointment.dependant) == (grown_up, None)
    assert appointment.booked_by == patient
    assert leo.user == grown_up
    assert list(Appointment.objects.for_patient(grown_up)) == [appointment]
    assert not Appointment.objects.for_patient(patient).exists()


def test_linking_is_refused_and_changes_nothing_when_times_overlap(
    patient: User,
    admin_user: User,
    dora: DoctorProfile,
    monday_9: Slot,
    otto: DoctorProfile,
    ottos_monday_9: Slot,
    leo: Dependant,
) -> None:
    childs = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, dependant=leo
    )
    grown_up = PatientFactory(full_name="Leo Patient", national_id="300000077")
    services.book(patient=grown_up, doctor=otto, slot=ottos_monday_9, date=NEXT_MONDAY)

    with pytest.raises(SchedulingError) as refused:
        services.link_dependant(dependant=leo, user=grown_up, by=admin_user)

    assert refused.value.code == "patient_overlap"
    childs.refresh_from_db()
    leo.refresh_from_db()
    assert (childs.patient, childs.dependant, leo.user) == (patient, leo, None)


def test_linking_needs_the_same_national_id_and_an_admin(
    patient: User, admin_user: User, other_patient: User, leo: Dependant
) -> None:
    with pytest.raises(SchedulingError, match="not the family member's"):
        services.link_dependant(dependant=leo, user=other_patient, by=admin_user)
    with pytest.raises(SchedulingError):
        services.link_dependant(dependant=leo, user=other_patient, by=patient)
    leo.refresh_from_db()
    assert leo.user is None


def test_the_api_lists_family_and_books_for_a_child(
    patient: User, other_patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    api = ApiClient(patient)

    made = api.post(
        "/me/family",
        {"full_name": "Mia Patient", "date_of_birth": "2018-03-04", "relationship": "child"},
    )
    family = api.get("/me/family").json()
    booked = api.post(
        "/appointments",
        {
            "doctor": dora.slug,
            "slot": str(monday_9.public_id),
            "date": NEXT_MONDAY.isoformat(),
            "dependant": made.json()["id"],
        },
    )
    bobs_try = ApiClient(other_patient).post(
        "/appointments",
        {
            "doctor": dora.slug,
            "slot": str(monday_9.public_id),
            "date": NEXT_MONDAY.isoformat(),
            "dependant": made.json()["id"],
        },
    )

    assert made.status_code == 201
    assert [d["full_name"] for d in family] == ["Mia Patient"]
    assert booked.status_code == 201
    assert booked.json()["dependant"]["name"] == "Mia Patient"
    assert bobs_try.status_code == 422
    assert bobs_try.json()["code"] == "unknown_dependant"


@pytest.mark.parametrize(
    ("born", "code"),
    [(TODAY + dt.timedelta(days=1), "born"), (dt.date(1899, 12, 31), "born_early")],
    ids=["tomorrow", "before-1900"],
)
def test_a_family_member_needs_a_date_of_birth_a_person_can_have(
    patient: User, born: dt.date, code: str
) -> None:
    """The same date-of-birth rule as registration (accounts.normalise), and nothing saved."""
    with pytest.raises(ValidationError) as refused:
        accounts.add_dependant(
            guardian=patient, full_name="Ida Patient", date_of_birth=born, today=TODAY
        )
    assert refused.value.code == code
    assert not Dependant.objects.filter(full_name="Ida Patient").exists()
