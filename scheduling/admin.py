"""Django admin for the clinic's staff. Every write goes through scheduling.services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.http import signed_in_user
from accounts.models import Dependant, DoctorProfile, User
from common import i18n, phones
from scheduling import availability, clock, services
from scheduling.models import Appointment, Slot, TimeOff


class _NoDelete(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing is hard-deleted: slots are retired, appointments cancelled.
        return False


class SlotForm(forms.ModelForm):
    class Meta:
        model = Slot
        fields = ["doctor", "weekday", "date", "start_time", "end_time"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "weekday" in self.fields:
            # An extra slot (with a date) takes its date's weekday.
            self.fields["weekday"].required = False
            self.fields["weekday"].help_text = gettext(
                "Every week on this day; or give a date instead."
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date") is not None:
            data["weekday"] = data["date"].weekday()  # an extra slot's weekday is its date's
            self.instance.weekday = data["weekday"]
        elif data.get("weekday") in (None, "") and "weekday" in self.fields:
            self.add_error("weekday", gettext("Choose a day of the week, or a date."))
        if not self.errors and self.instance.pk is None:
            try:
                # Dry run of the same rule the save uses, for an error next to the form.
                with transaction.atomic():
                    services.add_slot(
                        doctor=data["doctor"],
                        weekday=data["weekday"],
                        date=data.get("date"),
                        start_time=data["start_time"],
                        end_time=data["end_time"],
                    )
                    transaction.set_rollback(True)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return data

    def validate_constraints(self) -> None:
        pass


@admin.register(Slot)
class SlotAdmin(_NoDelete):
    form = SlotForm
    list_display = ["doctor", "weekday", "date", "start_time", "end_time", "is_active"]
    list_filter = ["is_active", "weekday", "doctor__specialty", "doctor__branch"]
    search_fields = ["doctor__user__full_name"]
    list_select_related = ["doctor__user"]
    autocomplete_fields = ["doctor"]
    actions = ["retire_slots"]

    def get_readonly_fields(self, request: HttpRequest, obj: Slot | None = None) -> list[str]:
        # A slot's time is part of every appointment booked in it: retire and add instead.
        return ["doctor", "weekday", "date", "start_time", "end_time", "is_active"] if obj else []

    def save_model(self, request: HttpRequest, obj: Slot, form: Any, change: bool) -> None:
        if change:
            return
        created = services.add_slot(
            doctor=obj.doctor,
            weekday=obj.weekday,
            date=obj.date,
            start_time=obj.start_time,
            end_time=obj.end_time,
        )
        obj.pk = created.pk

    @admin.action(description=_("Retire the selected slots"))
    def retire_slots(self, request: HttpRequest, queryset: QuerySet[Slot]) -> None:
        done = 0
        for slot in queryset:
            try:
                services.deactivate_slot(slot=slot)
            except ValidationError as exc:
                self.message_user(request, f"{slot}: {exc.messages[0]}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(n)d slot retired.", "%(n)d slots retired.", done) % {"n": done},
                messages.SUCCESS,
            )


class TimeOffForm(forms.ModelForm):
    cancel_booked = forms.BooleanField(
        required=False,
        label=_("Cancel appointments already booked in these days (the patients are told)"),
    )

    class Meta:
        model = TimeOff
        fields = ["doctor", "start_date", "end_date", "start_time", "end_time", "reason"]
        help_texts = {"start_time": _("With an end time: those hours of each day only.")}


@admin.register(TimeOff)
class TimeOffAdmin(_NoDelete):
    form = TimeOffForm
    list_display = ["doctor", "start_date", "end_date", "start_time", "end_time", "reason"]
    list_filter = ["is_active"]
    search_fields = ["doctor__user__full_name", "reason"]
    list_select_related = ["doctor__user"]
    autocomplete_fields = ["doctor"]
    date_hierarchy = "start_date"
    actions = ["end_time_off"]

    def get_readonly_fields(self, request: HttpRequest, obj: TimeOff | None = None) -> list[str]:
        fixed = ["doctor", "start_date", "end_date", "start_time", "end_time", "is_active"]
        return fixed if obj else []

    def save_model(self, request: HttpRequest, obj: TimeOff, form: Any, change: bool) -> None:
        if change:
            services.change_time_off_reason(time_off=obj, reason=obj.reason)
            return
        try:
            created = services.add_time_off(
                doctor=obj.doctor,
                start_date=obj.start_date,
                end_date=obj.end_date,
                start_time=obj.start_time,
                end_time=obj.end_time,
                reason=obj.reason,
                cancel_booked=form.cleaned_data.get("cancel_booked", False),
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return
        obj.pk = created.pk

    @admin.action(description=_("Remove the selected time off"))
    def end_time_off(self, request: HttpRequest, queryset: QuerySet[TimeOff]) -> None:
        done = 0
        for time_off in queryset:
            services.remove_time_off(time_off=time_off)
            done += 1
        self.message_user(
            request,
            ngettext("%(n)d time off removed.", "%(n)d periods of time off removed.", done)
            % {"n": done},
            messages.SUCCESS,
        )


class AppointmentAddForm(forms.ModelForm):
    class Meta:
        model = Appointment
        fields = ["patient", "doctor", "slot", "date", "reason"]

    def validate_constraints(self) -> None:
        pass

    def validate_unique(self) -> None:
        pass


class AppointmentChangeForm(forms.ModelForm):
    class Meta:
        model = Appointment
        fields = ["slot", "date"]

    def validate_constraints(self) -> None:
        pass

    def validate_unique(self) -> None:
        pass


class ComingDaysFilter(admin.SimpleListFilter):
    """The days ahead the way the clinic plans them, in the clinic's time zone."""

    title = _("coming days")
    parameter_name = "coming"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("today", gettext("Today")),
            ("tomorrow", gettext("Tomorrow")),
            ("7days", gettext("Next 7 days")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Appointment]
    ) -> QuerySet[Appointment]:
        today = clock.today()
        match self.value():
            case "today":
                return queryset.filter(date=today)
            case "tomorrow":
                return queryset.filter(date=today + dt.timedelta(days=1))
            case "7days":
                return queryset.filter(date__gte=today, date__lt=today + dt.timedelta(days=7))
        return queryset


def _clinic_cancelled(appointment: Appointment) -> str:
    """The reason the patient reads (in their e-mail and on their page) when the clinic cancels
    from admin: stored as text, so written in the patient's language, not the admin's."""
    with translation.override(i18n.for_user(appointment.patient)):
        return gettext("Cancelled by the clinic.")


@admin.register(Appointment)
class AppointmentAdmin(_NoDelete):
    list_display = ["starts_at", "doctor", "patient", "patient_phone", "status", "booked_by"]
    list_filter = [ComingDaysFilter, "status", "doctor__specialty", "doctor__branch", "date"]
    search_fields = [
        "patient__full_name",
        "patient__national_id",
        "doctor__user__full_name",
        "public_id",
    ]
    date_hierarchy = "date"
    list_select_related = ["doctor__user", "patient", "booked_by"]
    autocomplete_fields = ["patient", "doctor", "slot"]
    actions = ["cancel_appointments", "check_in", "mark_completed", "mark_no_show"]
    readonly_fields = [
        "public_id",
        "patient",
        "dependant",
        "doctor",
        "service",
        "price",
        "status",
        "reason",
        "starts_at",
        "ends_at",
        "created_at",
        "checked_in_at",
        "completed_at",
        "no_show_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
        "rescheduled_at",
        "doctor_notes",
        "booked_by",
    ]

    @admin.display(description=_("Patient's phone"), ordering="patient__phone")
    def patient_phone(self, obj: Appointment) -> str:
        phone = obj.patient.phone
        return format_html('<a href="tel:{}" dir="ltr">{}</a>', phone, phones.for_humans(phone))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        kwargs["form"] = AppointmentChangeForm if obj else AppointmentAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("patient", "doctor", "slot", "date", "reason")
        return ("slot", "date", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        user = signed_in_user(request)
        try:
            if change:
                if {"slot", "date"} & set(form.changed_data):
                    services.reschedule(appointment=obj, by=user, slot=obj.slot, date=obj.date)
            else:
                created = services.book(
                    patient=obj.patient,
                    doctor=obj.doctor,
                    slot=obj.slot,
                    date=obj.date,
                    reason=obj.reason,
                    by=user,
                )
                obj.pk = created.pk
        except ValidationError as exc:
            messages.error(request, exc.messages[0])

    def _each(self, request: HttpRequest, queryset: QuerySet[Appointment], action: Any) -> None:
        done = 0
        for appointment in queryset:
            try:
                action(appointment)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{appointment}: {exc.messages[0]}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(n)d appointment updated.", "%(n)d appointments updated.", done)
                % {"n": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Cancel the selected appointments"))
    def cancel_appointments(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.cancel(
                appointment=a, by=signed_in_user(request), reason=_clinic_cancelled(a)
            ),
        )

    @admin.action(description=_("Check the patients in"))
    def check_in(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.check_in(appointment=a, by=signed_in_user(request)),
        )

    @admin.action(description=_("Mark as completed"))
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.complete(appointment=a, by=signed_in_user(request)),
        )

    @admin.action(description=_("Mark as no-show"))
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.mark_no_show(appointment=a, by=signed_in_user(request)),
        )


# accounts registers the doctor profiles' admin; the accepting-bookings switch on it is
# scheduling's, so it goes through the same service as the dashboard's and the API's: audited
# as bookings paused/resumed, and announced to the doctor's grid.
# accounts' admin class is taken from the site (accounts is installed, so autodiscovered,
# first), not imported: an app's admin module is its own.
_AccountsDoctorProfileAdmin = type(admin.site.get_model_admin(DoctorProfile))
admin.site.unregister(DoctorProfile)


@admin.register(DoctorProfile)
class DoctorProfileAdmin(_AccountsDoctorProfileAdmin):  # type: ignore[valid-type,misc]
    def save_model(self, request: HttpRequest, obj: DoctorProfile, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        wanted = obj.accepting_bookings
        if "accepting_bookings" in form.changed_data:
            # The other fields are saved as they are; the switch by the service.
            obj.accepting_bookings = not wanted
        super().save_model(request, obj, form, change)
        if "accepting_bookings" in form.changed_data:
            services.set_accepting_bookings(doctor=obj, accepting=wanted)
        elif form.changed_data:
            # The grid shows the doctor's name and specialty: a poll gets them now, not
            # within the minute of its ETag.
            availability.changed(obj)


@admin.register(Dependant)
class DependantAdmin(_NoDelete):
    """Family members patients book for. Patients add and remove them on their profile; the
    admin links one who has since registered to their own account (the action below)."""

    list_display = ["full_name", "relationship", "guardian", "date_of_birth", "user", "is_active"]
    list_filter = ["is_active", "relationship"]
    search_fields = ["full_name", "national_id", "guardian__full_name", "guardian__national_id"]
    list_select_related = ["guardian", "user"]
    actions = ["link_to_account"]
    readonly_fields = [
        "public_id",
        "guardian",
        "full_name",
        "date_of_birth",
        "relationship",
        "national_id",
        "user",
        "linked_at",
        "is_active",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the patient adds them, on their profile

    @admin.action(description=_("Link to the registered account with the same national ID"))
    def link_to_account(self, request: HttpRequest, queryset: QuerySet[Dependant]) -> None:
        admin_user = signed_in_user(request)
        linked = 0
        for dependant in queryset.select_related("guardian"):
            account = (
                User.objects.patients().filter(national_id=dependant.national_id).first()
                if dependant.national_id
                else None
            )
            if account is None:
                self.message_user(
                    request,
                    _("%(name)s: no patient account has their national ID.")
                    % {"name": dependant.full_name},
                    messages.ERROR,
                )
                continue
            try:
                services.link_dependant(dependant=dependant, user=account, by=admin_user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{dependant.full_name}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                linked += 1
        if linked:
            self.message_user(
                request,
                ngettext(
                    "%(n)d family member linked to their account; their appointments are theirs.",
                    "%(n)d family members linked to their accounts; their appointments are theirs.",
                    linked,
                )
                % {"n": linked},
                messages.SUCCESS,
            )
