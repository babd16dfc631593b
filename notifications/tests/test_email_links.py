"""Every appointment e-mail links to the appointment's page and its "add to calendar" file
with absolute addresses on SITE_URL; the links open the right page for the right person
and a 404 for anyone else. The mails are read from the outbox, as sent by the worker."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import icalendar
import pytest
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.test_passwords import wait_for_mail
from notifications.tests.conftest import run_worker
from scheduling import services
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example.org"
LINK = re.compile(r"https?://[^\s\"<>]+")


@pytest.fixture
def site(clinic_settings: Settings) -> Settings:
    clinic_settings.SITE_URL = SITE + "/"  # a trailing slash must not double up
    return clinic_settings


def links(text: str) -> list[str]:
    return LINK.findall(text)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == SITE, url
    return parts.path


def test_every_appointment_mail_links_to_its_page_and_calendar_file(
    site: Settings,
    book: Callable[..., Appointment],
    tuesday_slots: list[Slot],
    dora: DoctorProfile,
    doctor: User,
) -> None:
    dora.email_on_new_booking = True
    dora.save()
    appointment = book(0)
    services.reschedule(
        appointment=appointment,
        by=appointment.patient,
        slot=tuesday_slots[2],
        date=appointment.date,
    )
    services.cancel(appointment=appointment, by=appointment.patient)

    run_worker()

    page = f"{SITE}/appointments/{appointment.public_id}/"
    ics = f"{SITE}/appointments/{appointment.public_id}/calendar.ics"
    assert len(mail.outbox) == 4  # booked, the doctor's, moved, cancelled
    for message in mail.outbox:
        [(html, _)] = message.alternatives
        for text in (message.body, html):
            found = links(text)
            assert page in found, message.subject
            assert all(url.startswith(SITE + "/") for url in found), found
        if message.to == [doctor.email] or "cancelled" in message.subject:
            assert ics not in message.body
        else:
            assert ics in message.body
            assert f'href="{ics}"' in html


def test_plain_text_mail_keeps_each_sentence_on_one_line(
    site: Settings, book: Callable[..., Appointment]
) -> None:
    book(0)

    run_worker()

    [message] = mail.outbox
    sentence = (
        "If you cannot come, please cancel it from the appointment's page so that someone "
        "else can have the time."
    )
    assert any(line.endswith(sentence) for line in message.body.splitlines())


def test_mail_links_open_the_page_for_its_patient_and_doctor_and_404_for_others(
    site: Settings,
    book: Callable[..., Appointment],
    patient: User,
    other_patient: User,
    doctor: User,
) -> None:
    appointment = book(0)
    run_worker()
    [message] = mail.outbox
    page, ics = (
        path_of(u)
        for u in links(message.body)
        if str(appointment.public_id) in u  # the page, then the .ics
    )

    owner = Client()
    owner.force_login(patient)
    response = owner.get(page)
    assert response.status_code == 200
    assert "Appointment with Dr. Dora Doctor" in response.content.decode()
    assert f'href="{ics}"' in response.content.decode()  # "Add to calendar"
    download = owner.get(ics)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in download["Content-Disposition"]
    [vevent] = icalendar.Calendar.from_ical(download.content).walk("VEVENT")
    assert str(vevent["UID"]) == f"{appointment.public_id}@clinic"
    assert vevent.decoded("DTSTART") == appointment.starts_at
    assert str(vevent["URL"]) == f"{SITE}/appointments/{appointment.public_id}/"

    their_doctor = Client()
    their_doctor.force_login(doctor)
    assert their_doctor.get(page).status_code == 200
    assert their_doctor.get(ics).status_code == 200

    stranger = Client()
    stranger.force_login(other_patient)
    assert stranger.get(page).status_code == 404
    refused = stranger.get(ics)
    assert refused.status_code == 404
    assert b"VCALENDAR" not in refused.content

    anonymous = Client().get(ics)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_password_reset_mail_names_the_clinic_and_links_to_site_url(
    site: Settings, patient: User, client: Client
) -> None:
    site.CLINIC_NAME = "Riverside Clinic"
    client.post("/accounts/password_reset/", {"email": patient.email})

    message = wait_for_mail()
    assert message.subject == "Reset your Riverside Clinic password"
    assert "127.0.0.1" not in message.subject
    [url] = links(message.body)
    assert path_of(url).startswith("/accounts/reset/")
    assert message.body.rstrip().endswith("Riverside Clinic")
