"""schemathesis against the live schema: every operation of /api/openapi.json, called with
generated valid and invalid input as a signed-in patient, never answers a 500 and always
answers what the schema says (status, content type, body)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from pytest_django.fixtures import Settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import DoctorProfile, User
from api.tests.conftest import bearer
from scheduling.models import Appointment, Slot

# Bounded so that the run stays under a minute per database (about 700 calls; 38 s on a busy
# 2-core machine): every operation as a patient, and again as its doctor or admin.
MAX_EXAMPLES = 25
ROLE_EXAMPLES = 15


# Read through the app itself (WSGI, in process): the schema the server really serves.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def scene(now: dt.datetime, alices_appointment: Appointment, monday_10: Slot) -> Iterator[None]:
    """Alice has an appointment with Dora, who has a free slot too. The requests go
    through the WSGI app in this thread, inside the test's transaction; as Django's test
    client does, the connection is not closed at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
ROLE_SETTINGS = settings(SETTINGS, max_examples=ROLE_EXAMPLES)
# Not "positive data acceptance": a request the schema allows may still break a rule (a
# date in the past, a slot of another doctor) and get a 422 with its code.
EXCLUDED = [positive_data_acceptance]


@schema.parametrize()
@SETTINGS
def test_api_answers_as_its_schema_says(
    case: schemathesis.Case, scene: None, patient: User, dora: DoctorProfile, settings: Settings
) -> None:
    """Every operation, as patient Alice. The write limit is off: an operation's 25 examples
    and schemathesis's own extra calls (wrong credentials, no credentials) pass the limit's
    100 writes, and its 429 would stand in for the 401 being checked; api/tests/test_limits.py
    proves the limit."""
    settings.RATELIMIT_ENABLED = False
    case.call_and_validate(headers=bearer(patient), excluded_checks=EXCLUDED)


@schema.include(tag="appointments").parametrize()
@ROLE_SETTINGS
def test_api_answers_as_its_schema_says_to_a_doctor(
    case: schemathesis.Case, scene: None, dora: DoctorProfile
) -> None:
    case.call_and_validate(headers=bearer(dora.user), excluded_checks=EXCLUDED)


@schema.include(tag="doctor").parametrize()
@ROLE_SETTINGS
def test_the_doctors_own_settings_answer_as_the_schema_says(
    case: schemathesis.Case, scene: None, dora: DoctorProfile
) -> None:
    case.call_and_validate(headers=bearer(dora.user), excluded_checks=EXCLUDED)


@schema.include(tag="admin").parametrize()
@ROLE_SETTINGS
def test_api_answers_as_its_schema_says_to_an_admin(
    case: schemathesis.Case, scene: None, admin_user: User, inactive_user: User
) -> None:
    case.call_and_validate(headers=bearer(admin_user), excluded_checks=EXCLUDED)


@schema.include(tag="front desk").parametrize()
@ROLE_SETTINGS
def test_the_front_desks_search_answers_as_the_schema_says(
    case: schemathesis.Case, scene: None, fay: User, patient: User, settings: Settings
) -> None:
    """The desk's search with its many generated queries; its rate limit is
    test_patient_search's."""
    settings.RATELIMIT_ENABLED = False
    case.call_and_validate(headers=bearer(fay), excluded_checks=EXCLUDED)
