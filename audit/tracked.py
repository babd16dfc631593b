"""Which models the audit trail follows, how it names their objects and their changes.

Each entry: the object's key (a public id, a slug or a national ID: never a database id),
fields left out (timestamps that change on every save), fields whose values are never copied
into the trail (only the fact that they changed), and how a change is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from accounts.models import DoctorProfile, FrontDeskProfile, PatientProfile, User
from directory.models import Branch, Service, Specialty
from scheduling.models import Appointment, Slot, TimeOff

Values = dict[str, Any]


@dataclass(frozen=True)
class Tracked:
    name: str
    key: Callable[[Any], str]
    ignored: frozenset[str] = frozenset()
    secret: frozenset[str] = frozenset()
    # (before, after) of the changed fields -> the action's name after "<name>.".
    name_change: Callable[[Values, Values], str] = field(default=lambda before, after: "changed")


def _user_change(before: Values, after: Values) -> str:
    if "is_active" in after:
        return "activated" if after["is_active"] else "deactivated"
    if "role" in after:
        return "role_changed"
    if set(after) == {"password"}:
        return "password_changed"
    return "changed"


def _appointment_change(before: Values, after: Values) -> str:
    if "status" in after:
        return str(after["status"])  # checked_in, completed, cancelled, no_show
    if {"slot", "date"} & set(after):
        return "rescheduled"
    if set(after) == {"doctor_notes"}:
        return "notes_changed"
    if set(after) == {"reminder_sent_at"}:
        return "reminder_sent" if after["reminder_sent_at"] else "reminder_cleared"
    return "changed"


def _active_change(off: str, on: str) -> Callable[[Values, Values], str]:
    def name(before: Values, after: Values) -> str:
        if "is_active" in after:
            return on if after["is_active"] else off
        return "changed"

    return name


def _doctor_change(before: Values, after: Values) -> str:
    if set(after) == {"accepting_bookings"}:
        return "bookings_resumed" if after["accepting_bookings"] else "bookings_paused"
    return "changed"


TRACKED: dict[type[models.Model], Tracked] = {
    User: Tracked(
        "user",
        key=lambda u: u.national_id,
        ignored=frozenset({"last_login"}),
        secret=frozenset({"password"}),
        name_change=_user_change,
    ),
    PatientProfile: Tracked(
        "patient_profile",
        key=lambda p: User.objects.values_list("national_id", flat=True).get(pk=p.user_id),
        secret=frozenset({"medical_history"}),
    ),
    DoctorProfile: Tracked("doctor_profile", key=lambda d: d.slug, name_change=_doctor_change),
    FrontDeskProfile: Tracked(
        "front_desk_profile",
        key=lambda p: User.objects.values_list("national_id", flat=True).get(pk=p.user_id),
    ),
    Slot: Tracked(
        "slot",
        key=lambda s: str(s.public_id),
        name_change=_active_change("retired", "reactivated"),
    ),
    TimeOff: Tracked(
        "time_off",
        key=lambda t: str(t.public_id),
        name_change=_active_change("removed", "restored"),
    ),
    Appointment: Tracked(
        "appointment",
        key=lambda a: str(a.public_id),
        ignored=frozenset({"updated_at"}),
        secret=frozenset({"doctor_notes"}),
        name_change=_appointment_change,
    ),
    Specialty: Tracked("specialty", key=lambda s: s.slug),
    Branch: Tracked("branch", key=lambda b: b.slug),
    Service: Tracked(
        "service", key=lambda s: str(s.public_id), name_change=_active_change("retired", "offered")
    ),
}


def object_type(model: type[models.Model]) -> str:
    return model._meta.label_lower
