"""The audit tests use scheduling's frozen clock and Dora's calendar, and read the trail."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEntry
from scheduling.tests.conftest import dora, monday_9, now, other_doctor, published  # noqa: F401


def entries(**filters: Any) -> list[AuditEntry]:
    """The trail, oldest first."""
    return list(AuditEntry.objects.filter(**filters).order_by("at", "pk"))


def only(**filters: Any) -> AuditEntry:
    found = entries(**filters)
    assert len(found) == 1, [str(e) for e in found]
    return found[0]


@pytest.fixture
def superuser(db: None) -> Any:
    """A superuser: the second admin seat, with every permission Django has."""
    from accounts.models import User

    return User.objects.create_superuser(
        "100000002",
        "sturdy-lantern-417",
        email="root@clinic.example",
        full_name="Sam Super",
        phone="+49 30 2000002",
    )
