"""The refusals of the scheduling rules, and the one table of their HTTP statuses.

A rule that says no raises SchedulingError with a `code` naming the rule and a message meant
for the person. The HTML views and the JSON API answer it with `exc.status`, read from
HTTP_STATUS below: neither keeps a table of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from scheduling.availability import Opening

# 409: the request was fine but the state of the calendar or of the appointment says no
# (retrying later, or with another time, may work); 422: the request itself names something
# that cannot be booked; 403: this person may not do it at all. Any other code (a form's
# own check, such as a slot that ends before it starts) is a 400.
HTTP_STATUS: dict[str, int] = {
    "slot_taken": 409,
    "doctor_inactive": 409,
    "not_accepting": 409,
    "time_off": 409,
    "patient_overlap": 409,
    "not_scheduled": 409,
    "started": 409,
    "bad_transition": 409,
    "not_started": 409,
    "not_today": 409,
    "slot_in_use": 409,
    "has_bookings": 409,
    "plan_changed": 409,
    "held": 409,
    "offer_expired": 409,
    "already_waiting": 409,
    "linked": 409,
    "bad_slot": 422,
    "wrong_weekday": 422,
    "wrong_date": 422,
    "no_such_time": 422,
    "past": 422,
    "too_soon": 422,
    "beyond_horizon": 422,
    "same_time": 422,
    "reason": 422,
    "service_not_offered": 422,
    "dependant": 422,
    "no_national_id": 422,
    "other_person": 422,
    "patient": 403,
    "forbidden": 403,
}


class SchedulingError(ValidationError):
    """A rule said no. `code` names the rule; the message is meant for the person."""

    code: str

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)

    @property
    def text(self) -> str:
        return self.messages[0]

    @property
    def status(self) -> int:
        """The HTTP status that answers this refusal, on the pages and in the API."""
        return HTTP_STATUS.get(self.code, 400)


class SlotTaken(SchedulingError):
    def __init__(
        self, alternatives: list[Opening], *, starts_at: dt.datetime | None = None
    ) -> None:
        super().__init__(
            _("Sorry, this slot was just taken by someone else. Please choose another time."),
            code="slot_taken",
        )
        self.alternatives = alternatives
        self.starts_at = starts_at


class NotAllowed(SchedulingError):
    """The actor may not do this to this appointment (views answer 404 before it comes to it)."""

    def __init__(self) -> None:
        super().__init__(_("You cannot change this appointment."), code="forbidden")
