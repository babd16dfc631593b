from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms

from scheduling.models import Weekday


class OpeningQuery(forms.Form):
    """`?date=YYYY-MM-DD&slot=<slot public id>` as sent by a grid link."""

    date = forms.DateField(input_formats=["%Y-%m-%d"])
    slot = forms.UUIDField()

    def clean_date(self) -> dt.date:
        date = self.cleaned_data["date"]
        if not dt.date(2000, 1, 1) <= date <= dt.date(2200, 1, 1):
            raise forms.ValidationError("Choose a date from the calendar.")
        return date


class BookingForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the visit",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional. It helps the doctor prepare.",
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if reason_required:
            self.fields["reason"].help_text = "The patient sees this reason."


class SlotForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, label="Day")
    start_time = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))


class TimeOffForm(forms.Form):
    start_date = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=200, required=False)
    cancel_booked = forms.BooleanField(
        required=False,
        label="Cancel appointments already booked in these days and tell the patients",
    )


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError):
        return False
    return True
