"""People hear about their account: the activation mail (once, whichever button), the admins'
notice of each new registration, and the set-password mail of an account with no password."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, PendingPatientFactory
from accounts.tests.test_passwords import wait_for_mail
from notifications.models import Delivery

pytestmark = pytest.mark.django_db


def send_mail() -> None:
    with open("/dev/null", "w") as quiet:
        call_command("run_worker", "--once", stdout=quiet)


def test_activate_button_on_the_users_page_sends_one_mail(
    client: Client, admin_user: User, settings: object
) -> None:
    pending = PendingPatientFactory(full_name="Nina New", email="nina@example.com")
    client.force_login(admin_user)
    page = reverse("admin:accounts_user_change", args=[pending.pk])
    button = reverse("admin:accounts_user_activate", args=[pending.pk])

    before = client.get(page)
    first = client.post(button)
    again = client.post(button)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "activate_accounts", "_selected_action": [pending.pk]},
    )
    send_mail()

    assert f'action="{button}"' in before.text
    assert ">Activate</button>" in before.text
    assert (first.status_code, first["Location"]) == (302, page)
    assert again.status_code == 302
    pending.refresh_from_db()
    assert pending.is_active
    assert hasattr(pending, "patient_profile")
    [message] = mail.outbox
    assert message.to == ["nina@example.com"]
    assert message.subject == "Your Clinic account is active"
    assert "http://127.0.0.1:8000/accounts/login/" in message.body
    assert ">Deactivate</button>" in client.get(page).text


def test_deactivate_button_locks_the_user_out_but_not_oneself(
    client: Client, admin_user: User, patient: User
) -> None:
    client.force_login(admin_user)

    done = client.post(reverse("admin:accounts_user_deactivate", args=[patient.pk]))
    own = client.post(reverse("admin:accounts_user_deactivate", args=[admin_user.pk]), follow=True)

    patient.refresh_from_db()
    admin_user.refresh_from_db()
    assert done.status_code == 302
    assert not patient.is_active
    assert admin_user.is_active
    assert "You cannot deactivate your own account." in own.text


def test_the_buttons_answer_only_a_post(client: Client, admin_user: User, patient: User) -> None:
    client.force_login(admin_user)

    response = client.get(reverse("admin:accounts_user_deactivate", args=[patient.pk]))

    assert response.status_code == 405
    patient.refresh_from_db()
    assert patient.is_active


def test_each_registration_is_one_mail_to_each_admin(
    client: Client, admin_user: User, second_admin_user: User
) -> None:
    response = client.post(
        "/accounts/register/",
        {
            "national_id": "300000050",
            "full_name": "Rita Registers",
            "email": "rita@example.com",
            "phone": "030 7000050",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "date_of_birth": "1990-01-01",
        },
    )
    send_mail()

    assert response.status_code == 302
    # The registrant's own "we received it" mail aside: the admins' notices.
    notices = sorted(
        (m for m in mail.outbox if "New registration" in m.subject), key=lambda m: m.to
    )
    assert [m.to for m in notices] == [[second_admin_user.email], [admin_user.email]]
    assert notices[0].subject == "New registration waiting for activation: Rita Registers"
    assert "/admin/accounts/user/?status=pending" in notices[0].body


def test_an_account_with_no_password_gets_a_set_password_link(db: None) -> None:
    user = services.create_account(
        national_id="300000060",
        password=None,
        email="sam@example.com",
        full_name="Sam Nopass",
        phone="+49 30 7000060",
        role=User.Role.PATIENT,
        active=True,
    )
    send_mail()

    [message] = mail.outbox
    assert Delivery.objects.get(recipient=user.email).mail == "set_password"
    assert "/accounts/reset/" in message.body
    assert "set_password_url" not in str(Delivery.objects.get(recipient=user.email).event.payload)


def test_forgot_password_works_for_an_account_opened_without_one(client: Client, db: None) -> None:
    services.create_account(
        national_id="300000061",
        password=None,
        email="sue@example.com",
        full_name="Sue Nopass",
        phone="+49 30 7000061",
        role=User.Role.PATIENT,
        active=True,
    )
    mail.outbox.clear()

    client.post("/accounts/password_reset/", {"email": "sue@example.com"})

    message = wait_for_mail()
    assert "/accounts/reset/" in message.body


@pytest.fixture
def second_admin_user(admin_user: User) -> User:
    return services.create_admin(
        national_id="100000002",
        password=PASSWORD,
        email="admin2@clinic.example",
        full_name="Bea Admin",
        phone="+49 30 2000002",
    )
