"""Django admin: the clinic's admins read every attempt, retry deliveries, manage endpoints;
nobody deletes anything."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_httpserver import HTTPServer

from accounts.models import User
from notifications.models import Delivery, EventType, WebhookEndpoint
from notifications.tests.conftest import HOOK, received_ids, run_worker, webhook_deliveries
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_reads_each_attempt_of_a_delivery(
    admin_client: Client, book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_oneshot_request(HOOK).respond_with_data("upstream down", status=502)
    book()
    run_worker()
    d = webhook_deliveries()[0]

    listing = admin_client.get(reverse("admin:notifications_delivery_changelist"))
    page = admin_client.get(reverse("admin:notifications_delivery_change", args=[d.pk]))

    assert listing.status_code == 200
    assert "HTTP 502: upstream down" in listing.text
    assert page.status_code == 200
    assert "upstream down" in page.text
    assert "appointment.booked" in page.text
    assert "Delete" not in page.text


def test_retry_now_sends_a_failed_delivery_once_more(
    admin_client: Client, book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_oneshot_request(HOOK).respond_with_data("bad", status=503)
    receiver.expect_request(HOOK).respond_with_data("ok")
    book()
    Delivery.objects.update(max_attempts=1)  # given up after the first attempt
    run_worker()
    d = webhook_deliveries()[0]
    assert d.status == "failed"

    response = admin_client.post(
        reverse("admin:notifications_delivery_changelist"),
        {"action": "retry_now", "_selected_action": [d.pk]},
        follow=True,
    )
    assert "1 delivery will be sent now." in response.text
    d.refresh_from_db()
    assert (d.status, d.max_attempts) == ("pending", 2)

    run_worker()

    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)
    assert received_ids(receiver) == [str(d.event_id)] * 2


def test_retry_now_leaves_delivered_ones_alone(
    admin_client: Client, book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    book()
    run_worker()
    d = webhook_deliveries()[0]

    response = admin_client.post(
        reverse("admin:notifications_delivery_changelist"),
        {"action": "retry_now", "_selected_action": [d.pk]},
        follow=True,
    )

    assert "1 already delivered or being sent: left alone." in response.text
    d.refresh_from_db()
    assert d.status == "delivered"


def test_nothing_in_the_outbox_can_be_deleted(
    admin_client: Client, book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    book()
    d = webhook_deliveries()[0]

    for url in (
        reverse("admin:notifications_delivery_delete", args=[d.pk]),
        reverse("admin:notifications_event_delete", args=[d.event_id]),
        reverse("admin:notifications_webhookendpoint_delete", args=[d.endpoint_id]),
    ):
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=d.pk).exists()


def test_admin_adds_an_endpoint_for_some_event_types(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {
            "name": "Front desk",
            "url": "https://n8n.example.com/webhook/front-desk",
            "secret": "a long front desk secret",
            "event_types": [EventType.APPOINTMENT_CHECKED_IN, EventType.APPOINTMENT_NO_SHOW],
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(name="Front desk")
    assert endpoint.event_types == ["appointment.checked_in", "appointment.no_show"]
    assert endpoint.wants("appointment.no_show")
    assert not endpoint.wants("appointment.booked")


def test_new_endpoint_gets_a_random_standard_secret(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:notifications_webhookendpoint_add"))

    assert page.status_code == 200
    assert 'value="whsec_' in page.text


def test_environment_endpoint_url_and_secret_are_not_edited_in_admin(
    admin_client: Client, book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    book()
    endpoint = WebhookEndpoint.objects.get(from_environment=True)

    page = admin_client.get(
        reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])
    )

    assert page.status_code == 200
    assert 'name="url"' not in page.text
    assert 'name="secret"' not in page.text
    assert 'name="is_active"' in page.text


def test_failing_deliveries_show_on_the_admin_index_and_their_endpoints_row(
    admin_client: Client, book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    assert "No failing deliveries" in admin_client.get(reverse("admin:index")).text
    receiver.expect_request(HOOK).respond_with_data("Bad webhook signature", status=401)
    book(0)
    book(1)
    run_worker()  # both webhooks refused; both e-mails went out

    index = admin_client.get(reverse("admin:index"))
    endpoints = admin_client.get(reverse("admin:notifications_webhookendpoint_changelist"))
    failing = admin_client.get(reverse("admin:notifications_delivery_changelist") + "?failing=yes")

    assert index.status_code == endpoints.status_code == failing.status_code == 200
    text = " ".join(index.text.split())
    assert "<strong>2</strong> failing deliveries</a> (2 webhooks, 0 e-mails)" in text
    assert "2 waiting for a retry, 0 given up" in text
    assert "?failing=yes" in index.text
    assert "Failing since" in endpoints.text
    assert "2 deliveries" in endpoints.text
    assert "HTTP 401: Bad webhook signature" in endpoints.text
    assert failing.text.count("appointment.booked") >= 2
    assert "2 deliveries" in failing.text
