"""Changing a known password, and resetting a forgotten one through the e-mailed link."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PendingPatientFactory

NEW_PASSWORD = "brisk-meadow-8832"


def test_password_change_needs_login(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:password-change"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_user_changes_password_and_stays_signed_in(
    client: Client, patient: User, password: str
) -> None:
    client.force_login(patient)

    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-change-done")
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_password_change_with_wrong_old_password_changes_nothing(
    client: Client, patient: User, password: str
) -> None:
    client.force_login(patient)

    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "not-my-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.check_password(password)


def test_password_change_rejects_a_weak_new_password(
    client: Client, patient: User, password: str
) -> None:
    client.force_login(patient)

    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": password, "new_password1": "12345", "new_password2": "12345"},
    )

    assert "new_password2" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.check_password(password)


def wait_for_mail(timeout: float = 10) -> mail.EmailMessage:
    """The reset e-mail is sent by a thread after the answer."""
    deadline = time.monotonic() + timeout
    while not mail.outbox:
        assert time.monotonic() < deadline, "no e-mail was sent"
        time.sleep(0.01)
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_password_reset_mails_a_link_that_sets_a_new_password(
    client: Client, patient: User, password: str
) -> None:
    response = client.post(reverse("accounts:password-reset"), {"email": patient.email.upper()})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-done")
    message = wait_for_mail()
    assert message.to == [patient.email]
    assert "Reset your" in message.subject
    assert patient.full_name in message.body
    link = re.search(re.escape(settings.SITE_URL) + r"(/accounts/reset/\S+/)", message.body)
    assert link is not None

    # The link trades the token for a session and redirects to a token-free URL.
    form_page = client.get(link.group(1), follow=True)
    assert form_page.context["validlink"] is True
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-complete")
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert not patient.check_password(password)
    login = client.post(
        reverse("accounts:login"), {"username": patient.national_id, "password": NEW_PASSWORD}
    )
    assert login.status_code == 302
    assert client.session[SESSION_KEY] == str(patient.pk)

    # A used link is spent.
    again = client.get(link.group(1), follow=True)
    assert again.context["validlink"] is False


@pytest.mark.django_db
def test_password_reset_sends_nothing_for_unknown_or_pending_accounts(client: Client) -> None:
    pending = PendingPatientFactory()

    for email in ("nobody@example.com", pending.email):
        response = client.post(reverse("accounts:password-reset"), {"email": email})
        assert response.status_code == 302
        assert response.url == reverse("accounts:password-reset-done")

    time.sleep(0.2)  # the threads' time to send, were they to
    assert mail.outbox == []


def test_password_reset_does_the_same_in_the_request_for_known_and_unknown_addresses(
    client: Client, patient: User, django_assert_num_queries: Any
) -> None:
    """Same answer, same queries, and the e-mail (its rendering and sending, 3-4 ms that used
    to be spent for known addresses only) after the answer."""
    with django_assert_num_queries(1):
        unknown = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})
    with django_assert_num_queries(1):
        known = client.post(reverse("accounts:password-reset"), {"email": patient.email})

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert wait_for_mail().to == [patient.email]
