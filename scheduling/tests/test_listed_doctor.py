"""The plain-SQL reads of a listed doctor (scheduling.selectors, common.rows) give the same
instances as the ORM: every field of the doctor, the user, the specialty, the branch and the
slot, converted as the ORM converts them, and nothing for a doctor who is not listed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection, models, transaction

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorProfileFactory
from scheduling import selectors
from scheduling.models import Slot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def fields(instance: models.Model) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def assert_same(read: DoctorProfile, slug: str) -> None:
    loaded = DoctorProfile.objects.listed().get(slug=slug)
    assert fields(read) == fields(loaded)
    for name in ("user", "specialty", "branch"):
        # Loaded with the doctor: reading them makes no query.
        assert getattr(DoctorProfile, name).is_cached(read)
        assert fields(getattr(read, name)) == fields(getattr(loaded, name))
    assert read._state.adding is False


def test_listed_doctor_is_what_the_orm_reads(django_assert_num_queries) -> None:
    doctor = DoctorProfileFactory(consultation_fee=Decimal("72.50"), bio="Knees <and> hips")
    with django_assert_num_queries(1):
        read = selectors.listed_doctor(doctor.slug)
        assert read is not None
        assert read.user.full_name
        assert read.specialty.name
        assert read.branch.name
    assert_same(read, doctor.slug)
    # Converted, as the ORM does: a Decimal, a UUID, an aware datetime (SQLite keeps text).
    assert read.consultation_fee == Decimal("72.50")
    assert isinstance(read.user.public_id, uuid.UUID)
    assert isinstance(read.user.date_joined, dt.datetime)
    assert read.user.date_joined.tzinfo


def test_a_doctor_who_is_not_listed_is_not_read() -> None:
    inactive = DoctorProfileFactory(user__is_active=False)
    no_specialty = DoctorProfileFactory(specialty=None)
    no_branch = DoctorProfileFactory(branch=None)
    for doctor in (inactive, no_specialty, no_branch):
        assert selectors.listed_doctor(doctor.slug) is None
    assert selectors.listed_doctor("nobody") is None


def test_listed_doctor_slot_reads_the_slot_with_its_doctor(django_assert_num_queries) -> None:
    slot = SlotFactory(start_time=dt.time(14, 30), is_active=False)
    other = SlotFactory()
    slug = slot.doctor.slug
    with django_assert_num_queries(1):
        read = selectors.listed_doctor_slot(slug, slot.public_id)
        assert read is not None
        assert read.doctor.user.full_name
    assert fields(read) == fields(Slot.objects.get(pk=slot.pk))
    assert read.start_time == dt.time(14, 30)
    assert read.is_active is False
    assert_same(read.doctor, slug)
    # Another doctor's slot, or a slot that does not exist, is nothing here.
    assert selectors.listed_doctor_slot(slug, other.public_id) is None
    assert selectors.listed_doctor_slot(slug, uuid.uuid4()) is None
    user = User.objects.get(pk=slot.doctor.user_id)
    user.is_active = False
    user.save()
    assert selectors.listed_doctor_slot(slug, slot.public_id) is None


def test_slot_locking_doctor_reads_any_doctor_of_the_slot(django_assert_num_queries) -> None:
    """The booking's read under the doctor's lock: a doctor not listed is read too (the
    rules then refuse with their own message), a missing specialty or branch is None."""
    slot = SlotFactory(doctor__specialty=None, doctor__user__is_active=False)
    other = SlotFactory()
    with transaction.atomic(), django_assert_num_queries(1) as captured:
        read = selectors.slot_locking_doctor(slot.pk, slot.doctor_id)
        assert read is not None
        assert read.doctor.specialty is None
        assert read.doctor.user.is_active is False
    if connection.vendor == "postgresql":
        assert captured.captured_queries[0]["sql"].endswith("FOR NO KEY UPDATE OF d")
    assert fields(read) == fields(Slot.objects.get(pk=slot.pk))
    assert fields(read.doctor) == fields(DoctorProfile.objects.get(pk=slot.doctor_id))
    assert fields(read.doctor.branch) == fields(slot.doctor.branch)
    with transaction.atomic():
        assert selectors.slot_locking_doctor(other.pk, slot.doctor_id) is None


def test_user_locked_is_the_users_row_locked(django_assert_num_queries) -> None:
    user = DoctorProfileFactory().user
    with transaction.atomic(), django_assert_num_queries(1) as captured:
        locked = selectors.user_locked(user.pk)
    if connection.vendor == "postgresql":
        assert captured.captured_queries[0]["sql"].endswith("FOR UPDATE")
    assert fields(locked) == fields(User.objects.get(pk=user.pk))
    with transaction.atomic(), pytest.raises(User.DoesNotExist):
        selectors.user_locked(user.pk + 1000)
