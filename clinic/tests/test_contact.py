"""The contact page stores a message for the clinic's admins, who read it in Django admin."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from clinic.models import ContactMessage

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Hanna Hoffmann",
    "email": "hanna@example.com",
    "phone": "",
    "subject": "Parking",
    "message": "Is there parking for wheelchair users at Riverside?",
}


def test_contact_page_shows_the_form_and_the_branches(client: Client) -> None:
    response = client.get("/contact/")

    assert response.status_code == 200
    page = response.content.decode()
    for label in ("Your name", "Your e-mail", "Subject", "Message"):
        assert f">{label}" in page
    assert "In an emergency" in page


def test_a_message_is_stored_and_the_visitor_thanked(client: Client) -> None:
    response = client.post("/contact/", GOOD, follow=True)

    assert response.redirect_chain == [("/contact/", 302)]
    assert "Thank you, your message has reached the clinic." in response.content.decode()
    stored = ContactMessage.objects.get()
    assert (stored.name, stored.email, stored.subject) == (
        "Hanna Hoffmann",
        GOOD["email"],
        "Parking",
    )
    assert not stored.handled


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", "Please tell us your name."),
        ("email", "not an address", "This does not look like an e-mail address."),
        ("subject", "", "Please give your message a subject."),
        ("message", "Hi", "Please write a little more, at least 10 characters."),
        ("phone", "123", "Enter a valid phone number."),
    ],
)
def test_bad_input_is_refused_next_to_its_field(
    client: Client, field: str, value: str, error: str
) -> None:
    response = client.post("/contact/", GOOD | {field: value})

    assert response.status_code == 400
    page = response.content.decode()
    assert f'<small class="field-error" id="id_{field}_error">{error}</small>' in page
    assert 'aria-invalid="true"' in page
    assert not ContactMessage.objects.exists()


def test_admins_read_messages_but_cannot_edit_add_or_delete_them(
    client: Client, admin_user: User
) -> None:
    message = ContactMessage.objects.create(**GOOD)
    client.force_login(admin_user)

    listing = client.get("/admin/clinic/contactmessage/")
    assert listing.status_code == 200
    assert "Parking" in listing.content.decode()
    one = client.get(f"/admin/clinic/contactmessage/{message.pk}/change/")
    assert one.status_code == 200
    assert 'name="_save"' not in one.content.decode()
    assert client.get("/admin/clinic/contactmessage/add/").status_code == 403
    deleting = client.post(f"/admin/clinic/contactmessage/{message.pk}/delete/", {"post": "yes"})
    assert deleting.status_code == 403
    edited = client.post(
        f"/admin/clinic/contactmessage/{message.pk}/change/", GOOD | {"subject": "Changed"}
    )
    assert edited.status_code == 403
    message.refresh_from_db()
    assert message.subject == "Parking"


def test_admins_mark_messages_answered(client: Client, admin_user: User) -> None:
    message = ContactMessage.objects.create(**GOOD)
    client.force_login(admin_user)

    response = client.post(
        "/admin/clinic/contactmessage/",
        {"action": "mark_handled", "_selected_action": [message.pk]},
        follow=True,
    )

    assert "1 message marked as answered." in response.content.decode()
    message.refresh_from_db()
    assert message.handled


def test_a_phone_number_is_checked_and_written_as_everywhere_else(client: Client) -> None:
    client.post("/contact/", GOOD | {"phone": "030 1234 5678"})

    assert ContactMessage.objects.get().phone == "+493012345678"
    page = client.get("/contact/").content.decode()
    assert 'type="tel" name="phone"' in page
    assert 'autocomplete="tel"' in page


def test_registration_fields_tell_the_browser_what_they_hold(client: Client) -> None:
    page = client.get("/accounts/register/").content.decode()

    for hint in (
        'type="tel" name="phone"',
        'inputmode="tel"',
        'autocomplete="name"',
        'autocomplete="email"',
        'autocomplete="username"',
        'autocomplete="bday"',
        'autocomplete="new-password"',
    ):
        assert hint in page, hint
    doctor = client.get("/accounts/register/?as=doctor").content.decode()
    assert 'inputmode="decimal"' in doctor
