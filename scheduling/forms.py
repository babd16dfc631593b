from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Dependant, DoctorProfile, User
from directory.models import Service
from directory.templatetags.money import money
from scheduling.models import Weekday


class OpeningQuery(forms.Form):
    """`?date=YYYY-MM-DD&slot=<slot public id>` as sent by a grid link."""

    date = forms.DateField(input_formats=["%Y-%m-%d"])
    slot = forms.UUIDField()

    def clean_date(self) -> dt.date:
        date = self.cleaned_data["date"]
        if not dt.date(2000, 1, 1) <= date <= dt.date(2200, 1, 1):
            raise forms.ValidationError(_("Choose a date from the calendar."))
        return date


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {money(obj.price)}"


class DependantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name)


def _who_field(label: Any) -> DependantChoiceField:
    """The person seen: the account holder (the first choice, chosen until another is) or one
    of their family members. Radio buttons, so the default shows as chosen rather than as an
    empty "optional" box."""
    return DependantChoiceField(
        label=label,
        queryset=Dependant.objects.none(),
        to_field_name="public_id",
        required=False,
        blank=True,  # keeps the account holder's choice (the empty value) among the radios
        widget=forms.RadioSelect,
    )


def _offer_family(form: forms.Form, patient: User | None, *, by_patient: bool = True) -> None:
    """Fills the person choice with the patient's family, or drops it when they have none
    (only the page that offers the choice reads the family: a posted form does not)."""
    field = form.fields["dependant"]
    if patient is None:
        del form.fields["dependant"]
        return
    assert isinstance(field, forms.ModelChoiceField)
    family = Dependant.objects.active().of(patient).order_by("full_name")
    field.queryset = family
    field.empty_label = (
        _("Me (%(name)s)") if by_patient else _("%(name)s (the account holder)")
    ) % {"name": patient.full_name}
    if not form.is_bound and not family.exists():
        del form.fields["dependant"]


class BookingForm(forms.Form):
    dependant = _who_field(_("Who is this appointment for?"))
    service = ServiceChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        to_field_name="public_id",
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for the visit"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. It helps the doctor prepare."),
    )

    def __init__(
        self,
        *args: Any,
        doctor: DoctorProfile | None = None,
        patient: User | None = None,
        by_patient: bool = True,
        **kwargs: Any,
    ) -> None:
        """`by_patient`: the patient books for themself or their family (False: the front
        desk books for them)."""
        super().__init__(*args, **kwargs)
        _offer_family(self, patient, by_patient=by_patient)
        field = self.fields["service"]
        if doctor is None:
            del self.fields["service"]
            return
        assert isinstance(field, forms.ModelChoiceField)
        offered = Service.objects.offered_by(doctor.pk).order_by("name")
        field.queryset = offered
        # Without a service the visit is a consultation at the doctor's fee.
        field.empty_label = _("Consultation · %(fee)s") % {"fee": money(doctor.consultation_fee)}
        # The page that offers the choice reads the services; a posted booking without one
        # does not (no query added to a booking).
        if not self.is_bound and not offered.exists():
            del self.fields["service"]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if reason_required:
            self.fields["reason"].help_text = _("The patient sees this reason.")


class SlotForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, label=_("Day"))
    start_time = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time"}))


_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_RANGE = re.compile(rf"^\s*{_TIME}\s*(?:-|–|—|to)\s*{_TIME}\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:,|;|\n|\band\b)\s*", re.IGNORECASE)


def _clock_time(hours: str, minutes: str | None) -> dt.time:
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        return dt.time(23, 59)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError
    return dt.time(h, m)


class TimeRangesField(forms.CharField):
    """Times of day as text: "09:00-12:30, 14:00-17:00" (also "9-12:30 and 14-17")."""

    default_error_messages = {
        "invalid": _('Write the times like "09:00-12:30, 14:00-17:00".'),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    # A text field that reads its text as time ranges: Django's own fields convert in
    # to_python too, but the stub types a CharField's as returning str.
    def to_python(self, value: Any) -> list[tuple[dt.time, dt.time]]:  # type: ignore[override]
        text = super().to_python(value) or ""
        ranges = []
        for part in _SEPARATORS.split(text.strip()):
            if not part:
                continue
            match = _RANGE.match(part)
            if match is None:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            try:
                start = _clock_time(match[1], match[2])
                end = _clock_time(match[3], match[4])
            except ValueError:
                raise forms.ValidationError(
                    _('"%(text)s" is not a time of day.') % {"text": part}, code="invalid"
                ) from None
            if end <= start:
                raise forms.ValidationError(
                    _("%(start)s–%(end)s must end after it starts.")
                    % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                    code="order",
                )
            ranges.append((start, end))
        return sorted(ranges)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return format_ranges(value)
        return value


def format_ranges(ranges: list[tuple[dt.time, dt.time]]) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)


VISIT_CHOICES = [(m, format_lazy("{} {}", m, _("minutes"))) for m in (10, 15, 20, 30, 45, 60)]
_DAY_FIELDS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_RANGES_PLACEHOLDER = _("e.g. 09:00-12:30, 14:00-17:00")


class WorkingHoursForm(forms.Form):
    """A doctor's weekly hours: one or more ranges a day, cut into visits of one length."""

    visit_minutes = forms.TypedChoiceField(
        choices=VISIT_CHOICES, coerce=int, initial=20, label=_("Length of a visit")
    )
    plan = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for weekday, name in enumerate(_DAY_FIELDS):
            self.fields[name] = TimeRangesField(
                label=Weekday(weekday).label,
                widget=forms.TextInput(
                    attrs={"placeholder": _RANGES_PLACEHOLDER, "autocomplete": "off"}
                ),
            )
        # The days first, then the visit length.
        self.order_fields([*_DAY_FIELDS, "visit_minutes", "plan"])

    def day_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in _DAY_FIELDS]

    @staticmethod
    def initial_for(hours: dict[int, list[tuple[dt.time, dt.time]]], visit: int | None) -> dict:
        initial: dict[str, Any] = {_DAY_FIELDS[d]: format_ranges(r) for d, r in hours.items()}
        if visit in dict(VISIT_CHOICES):
            initial["visit_minutes"] = visit
        return initial

    def hours(self) -> dict[int, list[tuple[dt.time, dt.time]]]:
        return {
            weekday: self.cleaned_data[name]
            for weekday, name in enumerate(_DAY_FIELDS)
            if self.cleaned_data.get(name)
        }


class ExtraHoursForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    ranges = TimeRangesField(
        label=_("Hours"),
        required=True,
        widget=forms.TextInput(attrs={"placeholder": "e.g. 09:00-12:00", "autocomplete": "off"}),
    )
    visit_minutes = forms.TypedChoiceField(
        choices=VISIT_CHOICES, coerce=int, initial=20, label=_("Length of a visit")
    )


class TimeOffForm(forms.Form):
    start_date = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for one day."),
    )
    start_time = forms.TimeField(
        label=_("From"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_(
            "Only part of the day (e.g. an afternoon or a break)? Give its hours; "
            "leave both times empty for whole days."
        ),
    )
    end_time = forms.TimeField(
        label=_("To"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    cancel_booked = forms.BooleanField(
        required=False,
        label=_("Cancel the appointments already booked in this time and tell the patients"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_date") and not data.get("end_date"):
            data["end_date"] = data["start_date"]
        start, end = data.get("start_time"), data.get("end_time")
        if (start is None) != (end is None) and not self.errors:
            missing = "end_time" if end is None else "start_time"
            self.add_error(missing, _("Give both times for part of a day, or neither."))
        elif start is not None and end is not None and end <= start:
            self.add_error("end_time", _("The time off must end after it starts."))
        return data


class NotesForm(forms.Form):
    doctor_notes = forms.CharField(
        label=_("Your notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Only you and the clinic's admins see these notes; they are never sent to the patient."
        ),
    )


class CalendarQuery(forms.Form):
    """`?date=YYYY-MM-DD` of the doctor's week and day views (today when missing)."""

    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean_date(self) -> dt.date | None:
        date = self.cleaned_data["date"]
        if date is not None and not dt.date(2000, 1, 1) <= date <= dt.date(2200, 1, 1):
            raise forms.ValidationError(_("Choose a date between 2000 and 2200."))
        return date


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, national ID, phone or e-mail"),
        # What accounts.selectors.matching_patients needs to find anyone.
        min_length=2,
        max_length=100,
        strip=True,
    )


class WaitlistForm(forms.Form):
    """Join a doctor's waitlist: dates, and optionally times of day."""

    dependant = _who_field(_("Who is this waitlist place for?"))
    start_date = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end_date = forms.DateField(
        label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    earliest = forms.TimeField(
        label=_("Not before"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Optional: the earliest start that suits you."),
    )
    latest = forms.TimeField(
        label=_("Ending by"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Optional: the latest end that suits you."),
    )

    def __init__(self, *args: Any, patient: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_family(self, patient)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last day cannot be before the first."))
        earliest, latest = data.get("earliest"), data.get("latest")
        if earliest and latest and latest <= earliest:
            self.add_error("latest", _("This must be later than “not before”."))
        return data
