"""Factories for accounts (and the directory reference data a doctor needs).

The directory models are named by label, so accounts' tests import nothing of the directory
app, like accounts itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from accounts import services
from accounts.models import DoctorProfile, PatientProfile, User

PASSWORD = "sturdy-lantern-417"


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "directory.Specialty"
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Specialty {n}")
    slug = factory.Sequence(lambda n: f"specialty-{n}")


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "directory.Branch"
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Branch {n}")
    slug = factory.Sequence(lambda n: f"branch-{n}")
    address = factory.Sequence(lambda n: f"{n} Test Street")


class UserFactory(factory.django.DjangoModelFactory):
    """An active patient without a profile; the subclasses add the profile of their role."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    national_id = factory.Sequence(lambda n: f"9{n:08d}")
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    phone = factory.Sequence(lambda n: f"+49 30 7{n:06d}")
    role = User.Role.PATIENT
    is_active = True
    activated_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(password=password, **kwargs)


class PatientFactory(UserFactory):
    profile = factory.RelatedFactory(
        "accounts.tests.factories.PatientProfileFactory", factory_related_name="user"
    )


class PendingPatientFactory(PatientFactory):
    is_active = False
    activated_at = None


class PatientProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory)
    date_of_birth = dt.date(1980, 5, 17)
    medical_history = ""


class DoctorFactory(UserFactory):
    role = User.Role.DOCTOR
    profile = factory.RelatedFactory(
        "accounts.tests.factories.DoctorProfileFactory", factory_related_name="user"
    )


class PendingDoctorFactory(DoctorFactory):
    is_active = False
    activated_at = None


class DoctorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorProfile

    user = factory.SubFactory(UserFactory, role=User.Role.DOCTOR)
    slug = factory.Sequence(lambda n: f"doctor-{n}")
    specialty = factory.SubFactory(SpecialtyFactory)
    branch = factory.SubFactory(BranchFactory)
    consultation_fee = Decimal("80.00")
    bio = "Cares for patients."
    emergency_contact = "Reception"


def front_desk(branch: Any, **fields: str) -> User:
    """Fay Frontdesk, active at the branch, made as an admin makes a front desk (through
    accounts.services.create_account); `fields` name another person."""
    person = {
        "national_id": "400000001",
        "email": "fay@clinic.example",
        "full_name": "Fay Frontdesk",
        "phone": "+49 30 2000009",
        **fields,
    }
    return services.create_account(
        **person, password=PASSWORD, role=User.Role.FRONT_DESK, active=True, branch=branch
    )
