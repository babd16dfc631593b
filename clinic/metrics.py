"""/metrics for Prometheus: requests and latencies by route, and the clinic's own numbers
(bookings, appointments by status, the notifications outbox), read from the database at
scrape time so that every web process and server reports the same truth.

Request metrics live in each process's memory. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR to an empty directory (scripts/run does): the workers then write
them to files there and any worker's /metrics adds them up.

Never public: see `allowed` below.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# The *_created samples double the output for no use on a dashboard.
disable_created_metrics()

REQUESTS = Counter(
    "clinic_http_requests",
    "HTTP requests answered, by route (URL name), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "clinic_http_request_duration_seconds",
    "Time to answer a request, by route (URL name) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_of(request: HttpRequest) -> str:
    """The URL name, not the path: /doctors/anna-weber/ and /doctors/bo-li/ are one route,
    and a scanner's random paths all count as "unmatched"."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        # whitenoise answers static files before any URL is resolved.
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return "static"
        return "unmatched"
    return match.view_name or match._func_path


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        return response


class DatabaseCollector(Collector):
    """The clinic's numbers, counted in the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from notifications import selectors
        from notifications.models import Delivery, DeliveryAttempt
        from scheduling.models import Appointment

        up = GaugeMetricFamily("clinic_database_up", "1 if the database answered the scrape.")
        try:
            by_status = dict(
                Appointment.objects.order_by()
                .values_list("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
            deliveries = list(
                Delivery.objects.order_by()
                .values_list("channel", "status")
                .annotate(n=Count("id"))
                .values_list("channel", "status", "n")
            )
            oldest = Delivery.objects.filter(
                status__in=(Delivery.Status.PENDING, Delivery.Status.DELIVERING),
                channel=Delivery.Channel.WEBHOOK,
            ).aggregate(at=Min("created_at"))["at"]
            failing = selectors.failing_counts()
            failed_attempts = dict(
                DeliveryAttempt.objects.exclude(outcome=DeliveryAttempt.Outcome.DELIVERED)
                .order_by()
                .values_list("delivery__channel")
                .annotate(n=Count("id"))
                .values_list("delivery__channel", "n")
            )
        except DatabaseError:
            logger.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        # Nothing is ever deleted, so the number of appointments only grows: a counter.
        yield CounterMetricFamily(
            "clinic_bookings",
            "Appointments ever booked (cancelled ones included).",
            value=sum(by_status.values()),
        )
        appointments = GaugeMetricFamily(
            "clinic_appointments", "Appointments by status.", labels=["status"]
        )
        for status in Appointment.Status.values:
            appointments.add_metric([status], by_status.get(status, 0))
        yield appointments

        outbox = GaugeMetricFamily(
            "clinic_outbox_deliveries",
            "Outbox deliveries (webhooks and e-mails) by channel and status.",
            labels=["channel", "status"],
        )
        counts = {(c, s): n for c, s, n in deliveries}
        for channel in Delivery.Channel.values:
            for status in Delivery.Status.values:
                outbox.add_metric([channel, status], counts.get((channel, status), 0))
        yield outbox
        webhook = Delivery.Channel.WEBHOOK
        yield GaugeMetricFamily(
            "clinic_webhook_backlog",
            "Webhook deliveries not sent yet (pending or being sent).",
            value=counts.get((webhook, "pending"), 0) + counts.get((webhook, "delivering"), 0),
        )
        yield GaugeMetricFamily(
            "clinic_webhook_failed",
            "Webhook deliveries given up after their last attempt.",
            value=counts.get((webhook, "failed"), 0),
        )
        yield GaugeMetricFamily(
            "clinic_webhook_oldest_pending_age_seconds",
            "Age of the oldest webhook delivery not sent yet (0 when none).",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0,
        )
        failing_family = GaugeMetricFamily(
            "clinic_deliveries_failing",
            "Deliveries whose last attempt failed, by channel and state: retrying (waiting for "
            "the next attempt) or given_up (until an admin retries them). The admin index "
            "shows the same number.",
            labels=["channel", "state"],
        )
        for channel, states in failing.items():
            for state, n in states.items():
                failing_family.add_metric([channel, state], n)
        yield failing_family
        attempts = CounterMetricFamily(
            "clinic_delivery_failed_attempts",
            "Delivery attempts that failed (to be retried or given up), by channel.",
            labels=["channel"],
        )
        for channel in Delivery.Channel.values:
            attempts.add_metric([channel], failed_attempts.get(channel, 0))
        yield attempts


_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(DatabaseCollector())


def _client_ip_allowed(request: HttpRequest) -> bool:
    # Only a direct connection counts. Through the reverse proxy every request comes from
    # the proxy's address, so one that carries X-Forwarded-For is refused whatever its
    # REMOTE_ADDR: the allowlist must never let the public in via the proxy.
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_IPS
    )


def _token_ok(request: HttpRequest) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and constant_time_compare(
        given.strip(), settings.METRICS_TOKEN
    )


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. With METRICS_TOKEN set, the scraper must send it as a bearer
    token; with METRICS_ALLOWED_IPS set, it must connect from one of them directly; with both
    set, both. With neither, /metrics does not exist (404)."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        raise Http404
    if settings.METRICS_ALLOWED_IPS and not _client_ip_allowed(request):
        return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    if settings.METRICS_TOKEN and not _token_ok(request):
        response = HttpResponse("Unauthorized.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry) + generate_latest(_database_registry)
    return HttpResponse(output, content_type=CONTENT_TYPE_LATEST)
