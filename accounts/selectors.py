"""Reads of accounts that more than one caller needs (the pages, the API, the services)."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from accounts import normalise
from accounts.models import FrontDeskProfile, User

SEARCH_LIMIT = 50


def front_desk_branch_id(user: User) -> int | None:
    """The branch an active front-desk user works at, else None (not front desk, inactive,
    or not attached to a branch yet)."""
    if not (user.is_authenticated and user.is_active and user.role == User.Role.FRONT_DESK):
        return None
    return (
        FrontDeskProfile.objects.filter(user_id=user.pk).values_list("branch_id", flat=True).first()
    )


def matching_patients(query: str) -> QuerySet[User]:
    """Patients whose name, national ID, phone or e-mail matches what the front desk typed:
    a part of the name or e-mail, the national ID in any spelling (spaces, dashes), the phone
    with or without the country code. None for a query of fewer than two characters. By name,
    then the order they joined in (a stable order to page through)."""
    query = query.strip()[:100]
    if len(query) < 2:
        nobody: QuerySet[User] = User.objects.none()
        return nobody
    match = Q(full_name__icontains=query) | Q(email__icontains=query)
    nid = normalise.national_id(query)
    if nid:
        match |= Q(national_id__startswith=nid)
    if sum(c.isdigit() for c in query) >= 5:
        with contextlib.suppress(ValidationError):
            match |= Q(phone=normalise.phone(query))
        digits = "".join(c for c in query if c.isdigit())
        match |= Q(phone__endswith=digits)
    found: QuerySet[User] = (
        User.objects.patients()
        .filter(match)
        .select_related("patient_profile")
        .order_by("full_name", "pk")
    )
    return found


def find_patients(query: str) -> QuerySet[User]:
    """The first SEARCH_LIMIT of matching_patients(query), for the front desk's page."""
    return matching_patients(query)[:SEARCH_LIMIT]
