"""/metrics: never public; with a token or from an allowed address, Prometheus text with
requests by route and the clinic's numbers from the database."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from notifications.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from scheduling.tests.factories import AppointmentFactory, next_weekday

TOKEN = "metrics-token-0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def with_token(settings: SettingsWrapper) -> SettingsWrapper:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return settings


@pytest.mark.django_db
def test_without_configuration_metrics_do_not_exist(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.django_db
def test_the_token_is_required(client: Client, with_token: SettingsWrapper) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_the_ip_allowlist_admits_direct_connections_only(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403
    # Through the reverse proxy every request comes from the proxy's own address; the
    # header it adds says so, and such a request is refused.
    proxied = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 403


@pytest.mark.django_db
def test_with_both_set_both_are_required(client: Client, with_token: SettingsWrapper) -> None:
    with_token.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    auth = {"Authorization": f"Bearer {TOKEN}"}

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", headers=auth).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=auth).status_code == 200


def test_requests_are_counted_by_route_name_not_path(
    client: Client, with_token: SettingsWrapper, doctor: User
) -> None:
    slug = doctor.doctor_profile.slug
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = samples(client.get("/metrics", headers=auth).content.decode())
    client.get(f"/doctors/{slug}/")
    client.get(f"/doctors/{slug}/")
    client.get("/api/v1/doctors")
    client.get("/no-such-page-at-all/")

    after = samples(client.get("/metrics", headers=auth).content.decode())

    def grew(route: str, method: str, status: str) -> float:
        key = (
            "clinic_http_requests_total",
            (("method", method), ("route", route), ("status", status)),
        )
        return after.get(key, 0) - before.get(key, 0)

    assert grew("scheduling:doctor", "GET", "200") == 2
    assert grew("api:list_doctors", "GET", "200") == 1
    assert grew("unmatched", "GET", "404") == 1
    assert not any(slug in str(labels) for _, labels in after)
    latency = (
        "clinic_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "scheduling:doctor")),
    )
    assert after[latency] - before.get(latency, 0) == 2


def test_bookings_and_the_webhook_outbox_are_reported(
    client: Client, with_token: SettingsWrapper, patient: User
) -> None:
    # A week apart: one person never holds two open appointments at once.
    for week in range(3):
        AppointmentFactory(patient=patient, date=next_weekday(0, days_ahead=2 + 7 * week))
    AppointmentFactory(status="cancelled", cancelled_at=timezone.now())
    endpoint = WebhookEndpoint.objects.create(name="n8n", url="http://127.0.0.1:9/hook")
    event = Event.objects.create(type="appointment.booked", payload={})
    for status in ("pending", "pending", "failed", "delivered"):
        Delivery.objects.create(event=event, channel="webhook", endpoint=endpoint, status=status)
        event = Event.objects.create(type="appointment.booked", payload={})
    # One of the pending ones failed its first attempt and waits for a retry.
    retrying = Delivery.objects.filter(status="pending").order_by("pk").first()
    Delivery.objects.filter(pk=retrying.pk).update(attempts=1)
    failed = Delivery.objects.get(status="failed")
    DeliveryAttempt.objects.create(delivery=failed, number=1, outcome="retry", status_code=500)
    DeliveryAttempt.objects.create(delivery=failed, number=2, outcome="failed", status_code=500)

    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    found = samples(text)

    assert found[("clinic_database_up", ())] == 1
    assert found[("clinic_bookings_total", ())] == 4
    assert found[("clinic_appointments", (("status", "scheduled"),))] == 3
    assert found[("clinic_appointments", (("status", "cancelled"),))] == 1
    assert found[("clinic_webhook_backlog", ())] == 2
    assert found[("clinic_webhook_failed", ())] == 1
    assert (
        found[("clinic_outbox_deliveries", (("channel", "webhook"), ("status", "delivered")))] == 1
    )
    assert found[("clinic_delivery_failed_attempts_total", (("channel", "webhook"),))] == 2
    assert found[("clinic_webhook_oldest_pending_age_seconds", ())] >= 0
    failing = "clinic_deliveries_failing"
    assert found[(failing, (("channel", "webhook"), ("state", "retrying")))] == 1
    assert found[(failing, (("channel", "webhook"), ("state", "given_up")))] == 1
    assert found[(failing, (("channel", "email"), ("state", "retrying")))] == 0
