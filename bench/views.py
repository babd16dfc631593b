"""Baselines measured in the same gunicorn as the pages: what Django itself costs.

`ok` is a view that touches nothing (the ceiling of any page); `insert` is one plain INSERT in
atomic() into a table with the appointments' partial unique index (the ceiling of any write
through Django). Both run through the whole middleware stack, CSRF check included.
"""

from __future__ import annotations

import random

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

# Created by bench/run.py in the benchmark's working database, beside the product's tables.
TABLE = "bench_insert"


@require_GET
def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (doctor_id, slot_id, date, status, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            # A random slot: no two inserts of the run collide on the unique index.
            [1, random.getrandbits(62), now.date(), "scheduled", now],
        )
    return HttpResponseRedirect("/bench/ok/")
