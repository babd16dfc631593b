"""Real worker processes: several at once send each delivery once; SIGTERM stops one cleanly."""

from __future__ import annotations

import collections
import json
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifications.models import Delivery, Event, EventType, WebhookEndpoint
from notifications.tests.conftest import SECRET, manage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threaded_receiver() -> Iterator[HTTPServer]:
    """A receiver that answers several workers at once."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def due_deliveries(server: HTTPServer, count: int) -> list[Delivery]:
    endpoint = WebhookEndpoint.objects.create(
        name="Receiver", url=server.url_for("/hook"), secret=SECRET
    )
    now = timezone.now()
    events = []
    for n in range(count):
        event_id = uuid.uuid4()
        events.append(
            Event(
                id=event_id,
                type=EventType.APPOINTMENT_BOOKED,
                payload={"id": str(event_id), "type": "appointment.booked", "data": {"n": n}},
                created_at=now,
            )
        )
    Event.objects.bulk_create(events)
    return Delivery.objects.bulk_create(
        Delivery(event=e, channel=Delivery.Channel.WEBHOOK, endpoint=endpoint, next_attempt_at=now)
        for e in events
    )


def attempts_reported(output: str) -> int:
    match = re.search(r"(\d+) delivery attempts?\b", output)
    assert match, output
    return int(match.group(1))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SKIP LOCKED claims are PostgreSQL's; on SQLite one worker is enough, and writers "
    "take turns on the database lock (see test_reminders for two workers there).",
)
def test_two_workers_on_postgresql_send_each_of_500_deliveries_once(
    threaded_receiver: HTTPServer,
) -> None:
    def answer(request: Request) -> Response:
        time.sleep(0.004)  # a receiver that takes a moment, so the workers overlap
        return Response("ok")

    threaded_receiver.expect_request("/hook").respond_with_handler(answer)
    due_deliveries(threaded_receiver, 500)

    workers = [manage("run_worker", "--once", "--batch", "10") for _ in range(2)]
    outputs = [w.communicate(timeout=180) for w in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    per_worker = [attempts_reported(out) for out, _ in outputs]
    assert sum(per_worker) == 500
    assert min(per_worker) > 0, f"one worker did everything: {per_worker}"
    ids = [json.loads(req.get_data())["id"] for req, _ in threaded_receiver.log]
    assert len(ids) == 500
    assert [i for i, n in collections.Counter(ids).items() if n > 1] == []
    assert Delivery.objects.filter(status="delivered", attempts=1).count() == 500


def test_sigterm_stops_the_worker_between_deliveries(
    threaded_receiver: HTTPServer,
) -> None:
    first_arrived = threading.Event()

    def slow(request: Request) -> Response:
        first_arrived.set()
        time.sleep(1)
        return Response("ok")

    threaded_receiver.expect_request("/hook").respond_with_handler(slow)
    deliveries = due_deliveries(threaded_receiver, 5)

    worker = manage("run_worker", "--interval", "0.2", "--batch", "5")
    assert first_arrived.wait(30), "the worker never sent anything"
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=30)
    took = time.monotonic() - started

    assert worker.returncode == 0, err
    assert "Stopped." in out
    assert took < 5
    # The delivery in hand was finished; the rest of the claimed batch was given back.
    statuses = collections.Counter(
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).values_list("status", flat=True)
    )
    assert statuses == {"delivered": 1, "pending": 4}
    assert not Delivery.objects.filter(status="pending", attempts__gt=0).exists()
    assert not Delivery.objects.filter(locked_until__isnull=False).exists()
    assert len(threaded_receiver.log) == 1
