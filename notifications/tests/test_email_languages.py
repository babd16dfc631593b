"""Each person's mail in their own language: the subject, the body and the invitation's
SUMMARY, whatever language the process sending it runs in (the worker's default, or the web
request of someone else)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation

from accounts import services as accounts
from accounts.models import DoctorProfile, User
from accounts.tests.factories import PendingPatientFactory
from notifications.tests.conftest import run_worker
from notifications.tests.test_emails import invitation
from scheduling import services as scheduling
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db

EXPECTED = {
    "en": {
        "subject": (
            "Your appointment with Dr. Dora Doctor on Tuesday 9 June 2026 at 10:00 is booked"
        ),
        "summary": "Appointment with Dr. Dora Doctor (Cardiologist)",
        "body": ["Hello Alice Patient,", "Tuesday 9 June 2026"],
    },
    "de": {
        "subject": (
            "Ihr Termin bei Dr. Dora Doctor am Dienstag, 9. Juni 2026 um 10:00 ist gebucht"
        ),
        "summary": "Termin bei Dr. Dora Doctor (Cardiologist)",
        "body": ["Hallo Alice Patient,", "Dienstag, 9. Juni 2026"],
    },
    "ar": {
        "subject": "تم حجز موعدك مع Dr. Dora Doctor يوم الثلاثاء 9 يونيو 2026 الساعة 10:00",
        "summary": "موعد مع Dr. Dora Doctor (Cardiologist)",
        "body": ["مرحبًا Alice Patient،", "الثلاثاء 9 يونيو 2026"],
    },
}


def set_language(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@pytest.mark.parametrize("language", ["en", "de", "ar"])
def test_the_confirmation_is_in_the_patients_language(
    book: Callable[..., Appointment], patient: User, language: str
) -> None:
    set_language(patient, language)
    # The booking and the worker run in another language than the patient's.
    with translation.override("ar" if language != "ar" else "de"):
        book()
        run_worker()

    [message] = mail.outbox
    expected = EXPECTED[language]
    assert message.subject == expected["subject"]
    [(html, _mimetype)] = message.alternatives
    for text in (message.body, html):
        for words in expected["body"]:
            assert words in text
    vevent, _method, _type = invitation(message)
    assert str(vevent["SUMMARY"]) == expected["summary"]


def test_a_language_changed_after_the_booking_is_the_one_the_mail_is_sent_in(
    book: Callable[..., Appointment], patient: User
) -> None:
    set_language(patient, "de")
    book()
    set_language(patient, "ar")

    run_worker()

    [message] = mail.outbox
    assert message.subject == EXPECTED["ar"]["subject"]


def test_someone_who_never_chose_gets_the_clinics_language(
    book: Callable[..., Appointment], patient: User
) -> None:
    assert patient.language == ""
    with translation.override("de"):
        book()
        run_worker()

    [message] = mail.outbox
    assert message.subject == EXPECTED["en"]["subject"]


def test_the_account_activation_mail_is_in_the_users_language(admin_user: User) -> None:
    pending = PendingPatientFactory()
    set_language(pending, "de")

    accounts.activate(user=pending)
    run_worker()

    [message] = [m for m in mail.outbox if m.to == [pending.email]]
    assert message.subject == "Ihr Konto bei Clinic ist aktiv"


def test_the_webhook_payload_names_the_patients_language_and_stays_language_neutral(
    book: Callable[..., Appointment], patient: User
) -> None:
    from notifications.models import Event

    set_language(patient, "ar")
    with translation.override("ar"):
        book()

    payload = Event.objects.get(type="appointment.booked").payload
    assert payload["data"]["patient"]["language"] == "ar"
    assert payload["data"]["appointment"]["status"] == "scheduled"
    assert payload["data"]["appointment"]["starts_at"] == "2026-06-09T10:00:00+02:00"


def _english_words(text: str, data: set[str]) -> set[str]:
    """Latin words of four letters or more left in a text once names, links and other data
    are taken out."""
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return set(re.findall(r"[A-Za-z]{4,}", text))


def test_every_appointment_mail_reads_in_arabic_with_no_english_left(
    book: Callable[..., Appointment],
    patient: User,
    dora: DoctorProfile,
    tuesday_slots: list[Slot],
) -> None:
    """Booked, moved, cancelled, and the doctor's new-booking mail: subject and both bodies of
    each, for a patient and a doctor who chose Arabic."""
    set_language(patient, "ar")
    set_language(dora.user, "ar")
    dora.email_on_new_booking = True
    dora.save(update_fields=["email_on_new_booking"])
    appointment = book()
    scheduling.reschedule(
        appointment=appointment, by=patient, slot=tuesday_slots[1], date=appointment.date
    )
    scheduling.cancel(appointment=appointment, by=patient)
    run_worker()

    data = {
        patient.full_name,
        dora.user.full_name,
        "Dr.",
        dora.specialty.name,
        dora.branch.name,
        dora.branch.address,
        settings.CLINIC_NAME,
        settings.TIME_ZONE,
        "Chest",
    }
    assert len(mail.outbox) >= 4
    left = {}
    for message in mail.outbox:
        [(html, _mimetype)] = message.alternatives
        plain_html = re.sub(r"<[^>]+>|&\w+;", " ", html)
        for part in (message.subject, message.body, plain_html):
            if words := _english_words(part, data):
                left[message.subject] = words
    assert left == {}
