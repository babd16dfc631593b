"""Sending deliveries: claim, send, record, and decide what comes next.

A delivery is sent only by whoever **claims** it: a conditional UPDATE from `pending` to
`delivering` (the web process's thread, by id) or, in the worker, `SELECT … FOR UPDATE SKIP
LOCKED` followed by that UPDATE. Only one claimer can win a row, so several workers and the
web threads never send one delivery twice. A claim carries a lease (`locked_until`): a
process killed mid-send leaves a claim that runs out, and the delivery becomes due again.
Receivers may therefore, rarely, see an event twice; they drop it by its `webhook-id`.

What happens after an attempt:

- webhook 2xx, or the mail server took the message: delivered;
- 410 Gone: failed, and the endpoint is disabled (an admin turns it back on);
- anything else (a timeout, a refused connection, any other status, any mail error): retried
  after `backoff()`, until `max_attempts` tries (about a day), then failed.

Every other status is retried because from a webhook receiver it is a state, not a verdict on
the event: n8n answers 404 while it starts (its /healthz is up seconds before the webhooks are
registered) and while the workflow is inactive, 401/403 while its secret is wrong, 3xx when
the URL is; an operator fixes those, and the events must still be there when they have.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import requests
import urllib3
from django.conf import settings
from django.core.mail import mailers
from django.db import OperationalError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications import emails, signing
from notifications.models import Delivery, DeliveryAttempt, WebhookEndpoint

logger = logging.getLogger(__name__)

Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome

# Seconds to wait after the 1st, 2nd, ... failed attempt. The first retry comes soon (a
# receiver that was restarting is back on the worker's next passes); then the waits grow
# roughly ×4-10, capped at 8 hours. With jitter of ±20 % the 7 waits add up to about 21 hours,
# so the 8th and last attempt comes roughly a day after the first.
RETRY_DELAYS = (15, 60, 10 * 60, 60 * 60, 4 * 3600, 8 * 3600, 8 * 3600)
JITTER = 0.2
# Longer than any one send (the HTTP timeout is 5 s, SMTP's is its own), short enough that a
# killed sender's deliveries go out again within minutes.
LEASE = dt.timedelta(minutes=2)
USER_AGENT = "Clinic-Webhooks/1.0"
ERROR_LIMIT = 2000
# Seconds between tries of a write that met "database is locked" (SQLite only): our own
# writers take turns fairly (common.sqlite), so this is a program that does not (a sqlite3
# shell, a backup) holding the file past the busy timeout. About 15 s of waits on top of the
# timeouts, well inside the lease; after that the write gives up and the outbox keeps the
# delivery for the worker.
LOCKED_RETRY_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)


def _is_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc) or "database table is locked" in str(exc)


def retry_locked[T](write: Callable[[], T], what: str) -> T:
    """Runs `write` (a whole transaction, or one statement), again after a wait each time it
    meets "database is locked", up to len(LOCKED_RETRY_WAITS) more times. Inside a caller's
    transaction it runs once: a failed statement spoils the whole transaction, so only its
    owner can start it again."""
    if transaction.get_connection().in_atomic_block:
        return write()
    for wait in LOCKED_RETRY_WAITS:
        try:
            return write()
        except OperationalError as exc:
            if not _is_locked(exc):
                raise
            logger.warning("%s: the database is locked; trying again in %g s", what, wait)
        time.sleep(wait)
    return write()


def backoff(attempt: int, retry_after: float | None = None) -> dt.timedelta:
    """The wait after failed attempt number `attempt` (1-based), with jitter so that many
    deliveries that failed together (the receiver was down) do not all return at once."""
    base = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    seconds = base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - not a secret
    if retry_after is not None:
        # The receiver said when (429/503 Retry-After); believe it up to a few hours.
        seconds = max(seconds, min(retry_after, 6 * 3600))
    return dt.timedelta(seconds=seconds)


@dataclass
class Result:
    outcome: str
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    retry_after: float | None = None
    disable_endpoint: bool = False
    record_attempt: bool = True


# --- Claiming -----------------------------------------------------------------------------


def _claim_values(now: dt.datetime) -> dict:
    # The attempt is counted when claimed, so a sender that dies mid-send still uses one up
    # and a delivery that kills its sender cannot be retried for ever.
    return {
        "status": Status.DELIVERING,
        "locked_until": now + LEASE,
        "attempts": F("attempts") + 1,
    }


def claim_ids(ids: Iterable[int], *, now: dt.datetime | None = None) -> list[int]:
    """Claims these pending deliveries (the web thread's hand-off); returns those it won."""
    now = now or timezone.now()
    ids = list(ids)
    won = []
    for n, pk in enumerate(ids):
        # One conditional UPDATE per row: on PostgreSQL a concurrent claimer waits for the
        # row, re-reads `status` and matches nothing; on SQLite writers take turns anyway.
        claimed = Delivery.objects.filter(pk=pk, status=Status.PENDING)
        try:
            updated = retry_locked(partial(claimed.update, **_claim_values(now)), "Claim")
        except OperationalError:
            # Still locked after every retry: the rest stay pending, in the outbox, and the
            # worker sends them; the ones won already are sent here.
            logger.warning("Deliveries %s left to the worker", ids[n:])
            break
        if updated:
            won.append(pk)
    return won


def claim_due(*, limit: int = 20, now: dt.datetime | None = None) -> list[int]:
    """Claims up to `limit` due deliveries, oldest first; returns their ids."""
    now = now or timezone.now()
    return retry_locked(lambda: _claim_due(limit, now), "Claim due")


def _claim_due(limit: int, now: dt.datetime) -> list[int]:
    with transaction.atomic():
        # SKIP LOCKED: a second worker passes over the rows the first is claiming instead of
        # waiting for them, and takes the next ones. SQLite ignores FOR UPDATE; there the
        # IMMEDIATE transaction holds the write lock from its start, so claims take turns.
        ids = list(
            Delivery.objects.due(now)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(**_claim_values(now))
    return ids


def release(ids: Iterable[int]) -> int:
    """Gives claimed but unsent deliveries back (a worker asked to stop mid-batch)."""
    return Delivery.objects.filter(pk__in=list(ids), status=Status.DELIVERING).update(
        status=Status.PENDING, locked_until=None, attempts=F("attempts") - 1
    )


# --- Sending ------------------------------------------------------------------------------


def body_of(delivery: Delivery) -> bytes:
    # Compact, key order as written, non-ASCII as is: what JavaScript's JSON.stringify of
    # the parsed body gives back, should a receiver only have the parsed JSON to verify.
    return json.dumps(delivery.event.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _post(delivery: Delivery) -> Result:
    endpoint = delivery.endpoint
    assert endpoint is not None, "a webhook delivery has its endpoint"
    if not endpoint.is_active:
        reason = endpoint.disabled_reason or "disabled in admin"
        return Result(Outcome.FAILED, error=f"Endpoint disabled: {reason}", record_attempt=False)
    body = body_of(delivery)
    headers = signing.headers(secret=endpoint.secret, msg_id=str(delivery.event_id), body=body)
    headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        # stream: of an error page only the start is read, however large it is.
        response = requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        with response:
            code = response.status_code
            answer = b"" if 200 <= code < 300 else response.raw.read(300, decode_content=True)
    except (requests.Timeout, urllib3.exceptions.TimeoutError):
        return Result(
            Outcome.RETRY, error=f"No answer within {timeout:g} s.", duration_ms=_ms(started)
        )
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}", duration_ms=_ms(started))
    result = Result(Outcome.FAILED, status_code=code, duration_ms=_ms(started))
    if 200 <= code < 300:
        result.outcome = Outcome.DELIVERED
        return result
    result.error = f"HTTP {code}: {answer.decode(errors='replace')}".strip()
    if code == 410:
        result.disable_endpoint = True
    else:
        result.outcome = Outcome.RETRY
        result.retry_after = _retry_after(response)
    return result


def _send_mail(delivery: Delivery) -> Result:
    started = time.monotonic()
    try:
        message = emails.build(delivery)
        mailers.default.send_messages([message])
    except Exception as exc:
        # The mail server's trouble is usually passing (down, greylisting, a timeout): retry
        # it like a webhook; the booking that asked for the mail committed long ago.
        logger.warning("Mail delivery %s failed: %s", delivery.pk, exc)
        return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}", duration_ms=_ms(started))
    return Result(Outcome.DELIVERED, duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record(delivery: Delivery, result: Result) -> str:
    now = timezone.now()
    outcome = result.outcome
    if outcome == Outcome.RETRY and delivery.attempts >= delivery.max_attempts:
        outcome = Outcome.FAILED
        result.error = f"{result.error} (gave up after {delivery.attempts} attempts)"
    fields: dict = {"locked_until": None, "last_error": result.error[:ERROR_LIMIT]}
    if outcome == Outcome.DELIVERED:
        fields |= {"status": Status.DELIVERED, "delivered_at": now}
    elif outcome == Outcome.RETRY:
        wait = backoff(delivery.attempts, result.retry_after)
        fields |= {"status": Status.PENDING, "next_attempt_at": now + wait}
    else:
        fields |= {"status": Status.FAILED}
    # The send has happened: the record must be written, or the claim runs out and the
    # delivery goes out a second time.
    retry_locked(lambda: _write_record(delivery, result, outcome, fields, now), "Record")
    return outcome


def _write_record(
    delivery: Delivery, result: Result, outcome: str, fields: dict, now: dt.datetime
) -> None:
    with transaction.atomic():
        if result.record_attempt:
            DeliveryAttempt.objects.create(
                delivery=delivery,
                number=delivery.attempts,
                at=now,
                outcome=outcome,
                status_code=result.status_code,
                error=result.error[:ERROR_LIMIT],
                duration_ms=result.duration_ms,
            )
        # Only while the claim is still ours: an admin may have acted meanwhile.
        Delivery.objects.filter(pk=delivery.pk, status=Status.DELIVERING).update(**fields)
        if delivery.channel == Delivery.Channel.WEBHOOK and result.record_attempt:
            _note_endpoint_health(delivery, outcome, result.error, now)
        if result.disable_endpoint and delivery.endpoint_id is not None:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).update(
                is_active=False,
                disabled_at=now,
                disabled_reason=(
                    f"The receiver answered 410 Gone on {timezone.localtime(now):%Y-%m-%d %H:%M}."
                ),
                updated_at=now,
            )


def _note_endpoint_health(delivery: Delivery, outcome: str, error: str, now: dt.datetime) -> None:
    endpoint = delivery.endpoint
    assert endpoint is not None, "a webhook delivery has its endpoint"
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if outcome != Outcome.DELIVERED:
        endpoints.update(
            failing_since=Coalesce(F("failing_since"), Value(now)),
            last_error=error[:ERROR_LIMIT],
            last_error_at=now,
        )
    elif endpoint.failing_since is not None:
        # Only when it was failing (as read just before the send): a healthy endpoint's
        # row is not written once per delivery.
        endpoints.update(failing_since=None)


def deliver(pk: int) -> str:
    """Sends one claimed delivery and records the attempt; returns the outcome."""
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=pk)
    try:
        if delivery.channel == Delivery.Channel.WEBHOOK:
            result = _post(delivery)
        else:
            result = _send_mail(delivery)
    except Exception as exc:
        # A bug of ours is recorded like any failed attempt, so the delivery still ends.
        logger.exception("Delivery %s raised", pk)
        result = Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}")
    outcome = _record(delivery, result)
    logger.info(
        "Delivery %s (%s → %s) attempt %s: %s %s",
        delivery.pk,
        delivery.event.type,
        delivery.target,
        delivery.attempts,
        outcome,
        result.status_code or result.error[:100],
    )
    return outcome


def deliver_ids(ids: Iterable[int]) -> int:
    """Claims and sends these deliveries (the web thread's job); returns how many it sent."""
    sent = 0
    for pk in claim_ids(ids):
        try:
            deliver(pk)
        except Exception:
            # The claim runs out and the worker tries again; nothing else may stop here.
            logger.exception("Delivery %s could not be attempted", pk)
        sent += 1
    return sent
