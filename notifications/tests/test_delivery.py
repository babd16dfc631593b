"""Delivering to a real HTTP receiver: signed, retried on the right answers, given up on the
others, every attempt recorded."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from time_machine import TimeMachineFixture
from werkzeug import Request, Response

from notifications import delivery, worker
from notifications.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from notifications.tests.conftest import (
    HOOK,
    SECRET,
    free_port,
    received,
    received_ids,
    run_worker,
    webhook_deliveries,
)
from notifications.tests.snippet import documented_verify
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def only_webhook() -> Delivery:
    (d,) = webhook_deliveries()
    return d


def test_delivered_and_signature_verifies_with_documented_snippet(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK, method="POST").respond_with_data("thanks")
    book()

    run_worker()

    [(headers, body)] = received(receiver)
    event = Event.objects.get()
    assert documented_verify()(SECRET, headers, body)
    assert Webhook(SECRET).verify(body, headers) == event.payload
    assert headers["Webhook-Id"] == str(event.id)
    assert headers["Content-Type"] == "application/json"
    d = only_webhook()
    assert (d.status, d.attempts, d.last_error) == ("delivered", 1, "")
    [attempt] = d.attempt_log.all()
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "delivered", 200)
    assert 0 <= attempt.duration_ms < 5000


def test_500_then_200_records_two_attempts_with_one_id(
    book: Callable[..., Appointment], receiver: HTTPServer, time_machine: TimeMachineFixture
) -> None:
    receiver.expect_oneshot_request(HOOK).respond_with_data("db down", status=500)
    receiver.expect_request(HOOK).respond_with_data("ok")
    book()

    run_worker()
    d = only_webhook()
    assert (d.status, d.attempts) == ("pending", 1)
    assert "HTTP 500: db down" in d.last_error
    wait = d.next_attempt_at - timezone.now()
    # The first retry waits 15 s ± 20 %.
    assert dt.timedelta(seconds=11) < wait <= dt.timedelta(seconds=18)

    run_worker()  # not due yet: nothing is sent
    assert len(received(receiver)) == 1

    time_machine.shift(dt.timedelta(seconds=20))
    run_worker()

    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)
    assert list(d.attempt_log.values_list("number", "outcome", "status_code")) == [
        (1, "retry", 500),
        (2, "delivered", 200),
    ]
    first, second = received_ids(receiver)
    assert first == second == str(d.event_id)


def test_receiver_down_then_up_is_delivered_once_after_recovery(
    book: Callable[..., Appointment],
    clinic_settings: Settings,
    time_machine: TimeMachineFixture,
) -> None:
    port = free_port()
    clinic_settings.N8N_WEBHOOK_URL = f"http://127.0.0.1:{port}{HOOK}"
    clinic_settings.WEBHOOK_SECRET = SECRET
    book()

    run_worker()
    d = only_webhook()
    assert d.status == "pending"
    assert "ConnectionError" in d.last_error

    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request(HOOK).respond_with_data("ok")
    server.start()
    try:
        time_machine.shift(dt.timedelta(minutes=2))
        run_worker()
        run_worker()
        assert received_ids(server) == [str(d.event_id)]
    finally:
        server.clear()
        server.stop()
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)


def test_410_disables_the_endpoint(book: Callable[..., Appointment], receiver: HTTPServer) -> None:
    receiver.expect_request(HOOK).respond_with_data("no such workflow", status=410)
    book(0)
    book(1)

    run_worker()

    assert len(received(receiver)) == 1  # the second never went out
    first, second = webhook_deliveries()
    assert (first.status, first.attempts) == ("failed", 1)
    assert second.status == "failed"
    assert second.last_error.startswith("Endpoint disabled: The receiver answered 410 Gone")
    assert not second.attempt_log.exists()  # no request, so no attempt
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.is_active
    assert "410" in endpoint.disabled_reason
    # And no more deliveries are queued for it.
    book(2)
    assert len(webhook_deliveries()) == 2


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (404, "n8n while it starts, or while the workflow is inactive"),
        (401, "the receiver's secret is wrong"),
        (403, "the receiver refuses us until someone fixes it"),
        (400, "a receiver that is misconfigured"),
        (302, "the URL moved (to https, say)"),
        (429, "slow down"),
        (500, "the workflow failed"),
        (503, "the mail server behind the workflow is down"),
    ],
)
def test_any_answer_but_2xx_and_410_is_retried_then_delivered(
    status: int,
    why: str,
    book: Callable[..., Appointment],
    receiver: HTTPServer,
    time_machine: TimeMachineFixture,
) -> None:
    receiver.expect_oneshot_request(HOOK).respond_with_data(why, status=status)
    receiver.expect_request(HOOK).respond_with_data("ok")
    book()

    run_worker()
    d = only_webhook()
    assert (d.status, d.attempts, d.last_error) == ("pending", 1, f"HTTP {status}: {why}")
    assert dt.timedelta(seconds=11) < d.next_attempt_at - timezone.now() <= dt.timedelta(seconds=18)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.is_active
    assert endpoint.failing_since is not None
    assert endpoint.last_error == f"HTTP {status}: {why}"

    time_machine.shift(dt.timedelta(seconds=20))
    run_worker()

    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)
    assert list(d.attempt_log.values_list("outcome", "status_code")) == [
        ("retry", status),
        ("delivered", 200),
    ]
    endpoint.refresh_from_db()
    # Healthy again; the last error stays on the row, with its time, for the admin to read.
    assert endpoint.failing_since is None
    assert endpoint.last_error == f"HTTP {status}: {why}"


def test_429_waits_at_least_as_long_as_asked(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "900"}
    )
    book()

    run_worker()

    d = only_webhook()
    assert d.status == "pending"
    assert d.next_attempt_at - timezone.now() > dt.timedelta(seconds=890)


def test_timeout_is_retried(
    book: Callable[..., Appointment], receiver: HTTPServer, clinic_settings: Settings
) -> None:
    clinic_settings.WEBHOOK_TIMEOUT_SECONDS = 0.3

    released = threading.Event()

    def stall(request: Request) -> Response:
        released.wait(5)
        return Response("late")

    receiver.expect_request(HOOK).respond_with_handler(stall)
    book()

    run_worker()
    released.set()
    # The stalled answer is written to the receiver's log when it is sent: let it land here,
    # not in the next test.
    for _ in range(200):
        if receiver.log:
            break
        time.sleep(0.01)

    d = only_webhook()
    assert d.status == "pending"
    assert d.last_error == "No answer within 0.3 s."
    [attempt] = d.attempt_log.all()
    assert attempt.status_code is None
    assert 250 <= attempt.duration_ms < 1000


def test_gives_up_after_about_a_day(
    book: Callable[..., Appointment], receiver: HTTPServer, time_machine: TimeMachineFixture
) -> None:
    receiver.expect_request(HOOK).respond_with_data("still down", status=503)
    book()

    run_worker()
    d = only_webhook()
    first_attempt = d.attempt_log.get().at
    while d.status == "pending":
        time_machine.move_to(d.next_attempt_at + dt.timedelta(seconds=1))
        run_worker()
        d.refresh_from_db()

    assert d.status == "failed"
    assert d.attempts == d.max_attempts == 8
    assert "gave up after 8 attempts" in d.last_error
    attempts = list(d.attempt_log.order_by("number"))
    assert [a.number for a in attempts] == list(range(1, 9))
    assert [a.outcome for a in attempts] == ["retry"] * 7 + ["failed"]
    span = attempts[-1].at - first_attempt
    assert dt.timedelta(hours=17) < span < dt.timedelta(hours=27)
    assert len(received(receiver)) == 8


def test_backoff_grows_and_stays_within_its_jitter() -> None:
    for attempt, base in enumerate(delivery.RETRY_DELAYS, start=1):
        for _ in range(20):
            wait = delivery.backoff(attempt).total_seconds()
            assert base * 0.8 <= wait <= base * 1.2
    assert delivery.backoff(50) <= dt.timedelta(hours=9.6)
    assert 20 * 3600 < sum(delivery.RETRY_DELAYS) < 24 * 3600


def test_claim_of_a_sender_that_died_runs_out_and_is_sent_again(
    book: Callable[..., Appointment], receiver: HTTPServer, time_machine: TimeMachineFixture
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    book()
    # A worker claims the delivery and dies before sending it.
    assert only_webhook().pk in delivery.claim_due()

    run_worker()
    assert received(receiver) == []  # the claim still holds

    time_machine.shift(delivery.LEASE + dt.timedelta(seconds=5))
    run_worker()

    d = only_webhook()
    assert d.status == "delivered"
    assert len(received(receiver)) == 1
    assert d.attempts == 2  # the lost attempt counts towards giving up


def test_worker_that_is_stopped_gives_its_claims_back(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    for n in range(3):
        book(n)
    stop = threading.Event()
    stop.set()

    result = worker.run_pass(stop=stop)

    assert result.attempted == 0
    assert all(d.status == "pending" for d in webhook_deliveries())


def test_body_is_compact_json_of_the_payload(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    book()
    run_worker()

    [(_, body)] = received(receiver)
    event = Event.objects.get()
    assert json.loads(body) == event.payload
    assert b" " not in body.split(b'"name"')[0]  # no padding between tokens
    assert DeliveryAttempt.objects.count() == 2  # the webhook and the patient's e-mail
