"""Queryset update(), bulk_create() and bulk_update() send no model signals, so a tracked row
written that way would change without an entry in the audit trail. The tracked models'
querysets refuse them at run time, however the queryset was reached: the manager, a
queryset kept in a variable, a related manager."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from accounts.models import DoctorProfile, User
from audit.models import AuditEntry
from audit.tracked import TRACKED
from common.kept import RecordedQuerySet, UnrecordedWrite
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

WRITES: dict[str, Callable[[models.QuerySet[Any]], object]] = {
    "update": lambda qs: qs.update(pk=1),
    "bulk_create": lambda qs: qs.bulk_create([qs.model()]),
    "bulk_update": lambda qs: qs.bulk_update(list(qs[:1]), ["pk"]),
}


@pytest.mark.parametrize("model", list(TRACKED), ids=lambda m: m.__name__)
@pytest.mark.parametrize("write", list(WRITES))
def test_every_tracked_model_refuses_writes_the_trail_cannot_hear(
    model: type[models.Model], write: str
) -> None:
    queryset = model._default_manager.all()

    assert isinstance(queryset, RecordedQuerySet)
    with pytest.raises(UnrecordedWrite, match=f"{write}\\(\\) on "):
        WRITES[write](queryset)


def test_a_queryset_kept_in_a_variable_refuses_update(doctor: User) -> None:
    profile = DoctorProfile.objects.get(user=doctor)
    paused = DoctorProfile.objects.filter(pk=profile.pk)
    entries = AuditEntry.objects.count()

    with pytest.raises(UnrecordedWrite):
        paused.update(accepting_bookings=False)

    profile.refresh_from_db()
    assert profile.accepting_bookings is True
    assert AuditEntry.objects.count() == entries


@pytest.fixture
def booked(monday_9: Slot, patient: User) -> Appointment:
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


def test_a_related_manager_refuses_update_and_bulk_create(booked: Appointment) -> None:
    patient = booked.patient
    doctor = booked.doctor

    with pytest.raises(UnrecordedWrite):
        patient.appointments.update(status=Appointment.Status.CANCELLED)
    with pytest.raises(UnrecordedWrite):
        doctor.slots.bulk_create([Slot(doctor=doctor, weekday=2, start_time=dt.time(9))])

    booked.refresh_from_db()
    assert booked.status == Appointment.Status.SCHEDULED
    assert doctor.slots.count() == 1


def test_a_save_still_writes_and_is_recorded(doctor: User) -> None:
    profile = DoctorProfile.objects.get(user=doctor)
    entries = AuditEntry.objects.filter(action="doctor_profile.bookings_paused")

    profile.accepting_bookings = False
    profile.save(update_fields=["accepting_bookings"])

    assert entries.count() == 1
    assert DoctorProfile.objects.get(pk=profile.pk).accepting_bookings is False
