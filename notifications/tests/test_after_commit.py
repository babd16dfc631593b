"""The web process sends right after commit, on a thread of its own: a booking never waits
for n8n, and nothing is sent for a booking that rolled back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connection, transaction
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifications import dispatch
from notifications.models import Delivery
from notifications.tests.conftest import HOOK, SECRET, received, received_ids, webhook_deliveries
from notifications.tests.snippet import documented_verify
from scheduling.models import Appointment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("send_on_commit")]


def test_sent_right_after_commit_by_the_web_process(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")

    appointment = book()
    assert dispatch.dispatcher.wait_idle(timeout=10)

    [(headers, body)] = received(receiver)
    assert documented_verify()(SECRET, headers, body)
    assert {d.status for d in Delivery.objects.all()} == {"delivered"}
    [confirmation] = mail.outbox
    assert confirmation.to == [appointment.patient.email]


def test_booking_returns_at_once_while_the_receiver_stalls(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    release = threading.Event()

    def stalled(request: Request) -> Response:
        release.wait(10)
        return Response("finally")

    receiver.expect_request(HOOK).respond_with_handler(stalled)

    started = time.perf_counter()
    book()
    took = time.perf_counter() - started

    # The receiver holds the request for up to 10 s; the booking did not wait for it.
    assert took < 0.5, f"booking took {took:.3f} s"
    for _ in range(300):
        if receiver.log or webhook_deliveries()[0].status == "delivering":
            break
        time.sleep(0.01)
    assert webhook_deliveries()[0].status == "delivering"
    release.set()
    assert dispatch.dispatcher.wait_idle(timeout=10)
    assert webhook_deliveries()[0].status == "delivered"
    assert len(received(receiver)) == 1


def test_nothing_is_sent_for_a_booking_that_rolled_back(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")

    def book_then_fail() -> None:
        with transaction.atomic():
            book(0)
            raise RuntimeError("the request failed after booking")

    with pytest.raises(RuntimeError):
        book_then_fail()
    book(1)
    assert dispatch.dispatcher.wait_idle(timeout=10)

    assert Appointment.objects.count() == 1
    assert received_ids(receiver) == [str(webhook_deliveries()[0].event_id)]
    assert len(mail.outbox) == 1


def test_sending_thread_closes_its_database_connection(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    receiver.expect_request(HOOK).respond_with_data("ok")
    for n in range(3):
        book(n)
    assert dispatch.dispatcher.wait_idle(timeout=10)

    assert len(received(receiver)) == 3
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        (connections,) = cursor.fetchone()
    assert connections == 1  # this test's own
