"""Pages for patients (doctor pages, booking, their appointments) and doctors (the dashboard).

Views parse input, call scheduling.services (writes) and scheduling.selectors (shared reads)
and render; the rules live there and in the models, and a refusal's status comes from
scheduling.errors, as in the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.http import AuthenticatedRequest
from accounts.models import DoctorProfile, User
from common import i18n
from common.ratelimit import limit
from scheduling import availability, clock, grid, selectors, services
from scheduling.errors import SchedulingError, SlotTaken
from scheduling.forms import (
    BookingForm,
    CalendarQuery,
    CancelForm,
    ExtraHoursForm,
    NotesForm,
    OpeningQuery,
    SlotForm,
    TimeOffForm,
    WorkingHoursForm,
)
from scheduling.models import Appointment, Slot, TimeOff

GRID_DAYS = 14
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _posted(request: HttpRequest) -> Any:
    """The form data of a POST, else None for an unbound form. Not `request.POST or None`:
    a POST without fields (a bare "Yes, cancel it" button) must still bind the form."""
    return request.POST if request.method == "POST" else None


# --- Lookups that 404 on what the user may not see ---------------------------------------


def get_doctor_by_slug(slug: str) -> DoctorProfile:
    doctor = selectors.listed_doctor(slug)
    if doctor is None:
        raise Http404("No such doctor.")
    return doctor


def get_own_doctor_profile(user: User) -> DoctorProfile:
    if not user.is_doctor:
        raise PermissionDenied(_("The dashboard is for doctors."))
    profile = selectors.doctor_profile_of(user)
    if profile is None:
        raise PermissionDenied(_("Your doctor profile is not set up yet."))
    return profile


def _require_patient(user: User) -> None:
    if user.is_front_desk:
        raise PermissionDenied(
            _(
                "The front desk books from the patient's page: find the patient under "
                "Front desk, then choose the doctor and the time there."
            )
        )
    if not user.is_patient:
        raise PermissionDenied(_("Only patient accounts can book appointments."))


# --- The doctor page and its live grid -----------------------------------------------------


def grid_start(request: HttpRequest, today: dt.date) -> dt.date:
    """The grid's first day from `?start=YYYY-MM-DD`, kept between today and the horizon;
    today when missing or malformed. Parsed by hand, not by a form: the doctor page is the
    most read page, and a form's set-up cost as much as the rest of a cached page."""
    value = request.GET.get("start", "").strip()
    try:
        asked = dt.date.fromisoformat(value) if _ISO_DATE.fullmatch(value) else today
    except ValueError:  # 2026-02-30
        asked = today
    return min(max(asked, today), availability.horizon_end(today))


def _grid_context(
    request: HttpRequest, doctor: DoctorProfile, base_url: str, page_url: str
) -> dict[str, Any]:
    """The grid's window. `base_url` is where a free time leads (booking or rescheduling),
    `page_url` the full page the pager links to: the fragment's own URL would load a bare
    fragment in a browser without JavaScript or in a new tab."""
    today = clock.today()
    last = availability.horizon_end(today)
    start = grid_start(request, today)
    # One read of the calendar from the window to the horizon: the two weeks shown, and
    # only when they have no free time, the days after them for "the next free one is on".
    days = availability.calendar(doctor, start, last)
    window = list(itertools.islice(days, GRID_DAYS))
    later_free = None
    if not any(o.is_free for d in window for o in d.openings):
        later_free = next((o for d in days for o in d.openings if o.is_free), None)
    earlier = max(start - dt.timedelta(days=GRID_DAYS), today) if start > today else None
    later: dt.date | None = start + dt.timedelta(days=GRID_DAYS)
    if later and later > last:
        later = None
    return {
        "doctor": doctor,
        "days": window,
        "columns": grid.columns(window, base_url=base_url, today=today),
        "start": start,
        "last_day": window[-1].date,
        # The pager's dates as text here, not by the `date` filters in the template: five
        # filters cost as much as a tenth of the grid's columns.
        "start_iso": start.isoformat(),
        "earlier_iso": earlier.isoformat() if earlier else "",
        "later_iso": later.isoformat() if later else "",
        "window_label": grid.window_label(start, window[-1].date),
        "free_in_window": sum(d.free_count for d in window),
        "next_free": later_free,
        "earlier": earlier,
        "later": later,
        "horizon": last,
        "horizon_days": settings.BOOKING_HORIZON_DAYS,
        "time_zone": settings.TIME_ZONE,
        "time_zone_abbr": timezone.localtime(timezone=clock.clinic_tz()).tzname(),
        "base_url": base_url,
        "page_url": page_url,
        "grid_url": reverse("scheduling:availability", args=[doctor.slug]),
    }


def _public_grid_context(request: HttpRequest, doctor: DoctorProfile) -> dict[str, Any]:
    slug = doctor.slug
    return _grid_context(
        request,
        doctor,
        reverse("scheduling:book", args=[slug]),
        reverse("scheduling:doctor", args=[slug]),
    )


@require_safe
def doctor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    doctor = get_doctor_by_slug(slug)
    context = _public_grid_context(request, doctor)
    return render(request, "scheduling/doctor_detail.html", context)


def _grid_etag(request: HttpRequest, slug: str, *, create: bool) -> str | None:
    """Names what the public grid shows: the doctor's calendar version (replaced by every
    change of their openings), the window, the language and the minute. None when there is
    no version (yet, or the cache does not answer).

    The minute because a free time turns "past" once the clock passes its start less the
    minimum notice, a whole minute: the grid is the same from just after one whole minute
    up to the next one included, so that is the minute named (rounded up)."""
    calendar_version = availability.version(slug, create=create)
    if not calendar_version:
        return None
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    if minute != now:
        minute += dt.timedelta(minutes=1)
    parts = [
        calendar_version,
        str(grid_start(request, clock.today())),
        minute.isoformat(),
        get_language() or "",
    ]
    return '"' + hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest() + '"'


@require_safe
@vary_on_headers("HX-Request")
def availability_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    """The grid alone, polled every 10 seconds: a poll whose ETag still holds gets 304 Not
    Modified without a query (the version is kept by slug); otherwise the doctor is read
    (404 when not listed) and the grid rendered."""
    if request.headers.get("If-None-Match"):
        etag = _grid_etag(request, slug, create=False)
        if etag and (unchanged := get_conditional_response(request, etag=etag)) is not None:
            return unchanged
    doctor = get_doctor_by_slug(slug)
    etag = _grid_etag(request, slug, create=True)
    context = _public_grid_context(request, doctor)
    response = render(request, "scheduling/doctor_detail.html#grid", context)
    if etag:
        response["ETag"] = etag
    # The browser keeps the answer but asks again each time (with If-None-Match).
    patch_cache_control(response, no_cache=True)
    return response


# --- Booking ------------------------------------------------------------------------------


def _opening_from_query(data: Any, doctor: DoctorProfile) -> tuple[Slot, dt.date] | str:
    """The doctor's slot and the date a link or form names, or why it names none."""
    query = OpeningQuery(data)
    if not query.is_valid():
        return _("This link does not name a time. Please choose one from the calendar.")
    slot = Slot.objects.filter(doctor=doctor, public_id=query.cleaned_data["slot"]).first()
    if slot is None:
        return _("That time is not one of this doctor's slots. Please choose another.")
    return slot, query.cleaned_data["date"]


def _doctor_and_opening(
    slug: str, data: Any
) -> tuple[DoctorProfile, Slot, dt.date] | tuple[DoctorProfile, None, str]:
    """The listed doctor (else 404) and the slot and date the booking link names, in one
    query when the link is good: the slot with its doctor."""
    query = OpeningQuery(data)
    if query.is_valid():
        slot = selectors.listed_doctor_slot(slug, query.cleaned_data["slot"])
        if slot is not None:
            return slot.doctor, slot, query.cleaned_data["date"]
    doctor = get_doctor_by_slug(slug)
    opening = _opening_from_query(data, doctor)
    if isinstance(opening, str):
        return doctor, None, opening
    return doctor, *opening


def _render_problem(
    request: HttpRequest, doctor: DoctorProfile, error: SchedulingError | str
) -> HttpResponse:
    """The page that says why this time cannot be booked (a link that names no time is a
    400) and offers the nearest free times instead."""
    message, status = (error, 400) if isinstance(error, str) else (error.text, error.status)
    alternatives = getattr(error, "alternatives", None)
    if not doctor.accepting_bookings or status == 403:
        # The grid's openings ignore the pause; offering them would only lead to this page.
        alternatives = []
    elif alternatives is None:
        alternatives = availability.nearest_free(doctor, timezone.now())
    return render(
        request,
        "scheduling/book_problem.html",
        {"doctor": doctor, "message": message, "alternatives": alternatives or []},
        status=status,
    )


@limit("write")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def book(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    user = request.user
    _require_patient(user)
    doctor, slot, date_or_error = _doctor_and_opening(
        slug, request.POST if request.method == "POST" else request.GET
    )
    if slot is None:
        return _render_problem(request, doctor, str(date_or_error))
    date: dt.date = date_or_error  # type: ignore[assignment]
    form = BookingForm(_posted(request), doctor=doctor, patient=user)

    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.book(
                patient=user,
                doctor=doctor,
                slot=slot,
                date=date,
                reason=form.cleaned_data["reason"],
                service=form.cleaned_data.get("service"),
                dependant=form.cleaned_data.get("dependant"),
            )
        except SchedulingError as exc:
            return _render_problem(request, doctor, exc)
        messages.success(request, _("Your appointment is booked. A confirmation is on its way."))
        return redirect("scheduling:appointment", public_id=appointment.public_id)

    try:
        starts_at, ends_at = services.check_bookable(
            patient=user, doctor=doctor, slot=slot, date=date, now=timezone.now()
        )
    except SchedulingError as exc:
        window = clock.slot_window(date, slot.start_time, slot.end_time)
        # The patient's own appointment at that time does not stop a booking for a family
        # member: the page asks whom it is for, and the booking checks that person.
        if not (exc.code == "patient_overlap" and "dependant" in form.fields and window):
            return _render_problem(request, doctor, exc)
        starts_at, ends_at = window
    taken = Appointment.objects.holding_slot().filter(doctor=doctor, slot=slot, date=date)
    if taken.exists():
        return _render_problem(
            request, doctor, SlotTaken(availability.nearest_free(doctor, starts_at))
        )
    return render(
        request,
        "scheduling/book_confirm.html",
        {
            "back_url": reverse("scheduling:doctor", args=[doctor.slug]),
            "action_url": reverse("scheduling:book", args=[doctor.slug]),
            "doctor": doctor,
            "slot": slot,
            "date": date,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- The patient's appointments -----------------------------------------------------------


@login_required
@require_safe
def my_appointments(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if user.is_doctor:
        return redirect("scheduling:dashboard")
    if user.is_clinic_admin:
        return redirect("admin:scheduling_appointment_changelist")
    if user.is_front_desk:
        return redirect("front-desk:day")
    now = timezone.now()
    mine = Appointment.objects.for_patient(user).with_people()
    return render(
        request,
        "scheduling/my_appointments.html",
        {
            "upcoming": list(mine.upcoming(now).order_by("starts_at")),
            "past": list(mine.past(now).order_by("-starts_at")[:100]),
        },
    )


def _acting(appointment: Appointment, user: User) -> dict[str, Any]:
    """How an appointment's pages speak to the person acting on it. Its patient reads "your
    appointment"; its doctor, an admin or the front desk (`for_self` false) read the patient's
    name. `back_url` and `back_label` lead back to where that person works from."""
    patient = appointment.patient
    if appointment.patient_id == user.pk:
        back_url, back_label = reverse("scheduling:my-appointments"), _("Back to my appointments")
    elif appointment.doctor.user_id == user.pk:
        back_url = f"{reverse('scheduling:week')}?date={appointment.date:%Y-%m-%d}"
        back_label = _("Back to the week")
    elif services.is_front_desk_for(appointment, user):
        back_url = reverse("front-desk:patient", args=[patient.public_id])
        back_label = _("Back to %(name)s") % {"name": patient.full_name}
    else:
        back_url = reverse("admin:scheduling_appointment_changelist")
        back_label = _("Back to the appointments")
    return {
        "for_self": appointment.patient_id == user.pk,
        "is_desk": services.is_front_desk_for(appointment, user),
        "back_url": back_url,
        "back_label": back_label,
    }


@login_required
@require_safe
def appointment_detail(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    user = request.user
    appointment = selectors.get_appointment_for_user(user, public_id)
    now = timezone.now()
    is_staff = services.is_staff_for(appointment, user)
    context: dict[str, Any] = {
        **_acting(appointment, user),
        "appointment": appointment,
        "can_change": appointment.can_change(now),
        "is_staff": is_staff,
        "show_history": is_staff,
        "now": now,
    }
    if is_staff:
        context["notes_form"] = NotesForm(initial={"doctor_notes": appointment.doctor_notes})
        context["is_own_doctor"] = appointment.doctor.user_id == user.pk
        context["is_today"] = appointment.date == timezone.localdate(now, clock.clinic_tz())
    return render(request, "scheduling/appointment_detail.html", context)


@login_required
@require_POST
def appointment_notes(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The doctor's private notes on one of their appointments."""
    user = request.user
    appointment = selectors.get_appointment_for_user(user, public_id)
    if not services.is_staff_for(appointment, user):
        raise Http404
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            services.set_doctor_notes(
                appointment=appointment, by=user, notes=form.cleaned_data["doctor_notes"]
            )
        except SchedulingError as exc:
            form.add_error("doctor_notes", exc.text)
        else:
            messages.success(request, _("Your notes are saved."))
            return redirect("scheduling:appointment", public_id=appointment.public_id)
    return render(
        request,
        "scheduling/appointment_detail.html",
        {
            **_acting(appointment, user),
            "appointment": appointment,
            "is_staff": True,
            "show_history": True,
            "notes_form": form,
            "is_own_doctor": appointment.doctor.user_id == user.pk,
            "now": timezone.now(),
        },
        status=400,
    )


@limit("write")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def cancel(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    user = request.user
    appointment = selectors.get_appointment_for_user(user, public_id)
    form = CancelForm(_posted(request), reason_required=appointment.cancel_needs_reason(user))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.cancel(
                    appointment=appointment, by=user, reason=form.cleaned_data["reason"]
                )
            except SchedulingError as exc:
                form.add_error(None, exc.text)
                status = exc.status
            else:
                if appointment.patient_id == user.pk:
                    done = _("The appointment is cancelled and the time is free again.")
                else:
                    done = _(
                        "%(name)s's appointment is cancelled and the time is free again. "
                        "%(name)s is told by e-mail."
                    ) % {"name": appointment.patient.full_name}
                messages.success(request, done)
                return redirect("scheduling:appointment", public_id=appointment.public_id)
    return render(
        request,
        "scheduling/cancel.html",
        {**_acting(appointment, user), "appointment": appointment, "form": form},
        status=status,
    )


@limit("write")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def reschedule(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    user = request.user
    appointment = selectors.get_appointment_for_user(user, public_id)
    doctor = appointment.doctor
    here = reverse("scheduling:reschedule", args=[appointment.public_id])
    data = request.POST if request.method == "POST" else request.GET
    chosen: tuple[Slot, dt.date] | None = None
    error = None
    status = 200
    if "slot" in data or "date" in data:
        opening = _opening_from_query(data, doctor)
        if isinstance(opening, str):
            error, status = opening, 400
        else:
            chosen = opening
    if request.method == "POST" and chosen is not None:
        slot, date = chosen
        try:
            services.reschedule(appointment=appointment, by=user, slot=slot, date=date)
        except SchedulingError as exc:
            error, status = exc.text, exc.status
        else:
            if appointment.patient_id == user.pk:
                done = _("Your appointment is moved to the new time.")
            else:
                done = _(
                    "%(name)s's appointment is moved to the new time. %(name)s is told by e-mail."
                ) % {"name": appointment.patient.full_name}
            messages.success(request, done)
            return redirect("scheduling:appointment", public_id=appointment.public_id)
    elif request.method == "POST" and error is None:
        error, status = _("Choose the new time from the calendar."), 400
    context = _grid_context(request, doctor, here, here)
    new_window = None
    if chosen is not None and error is None:
        new_window = clock.slot_window(chosen[1], chosen[0].start_time, chosen[0].end_time)
    context.update(
        {
            **_acting(appointment, user),
            "appointment": appointment,
            "chosen": chosen,
            "new_window": new_window,
            "error": error,
            "grid_url": here,
        }
    )
    if request.htmx and not chosen:
        return render(request, "scheduling/doctor_detail.html#grid", context, status=status)
    return render(request, "scheduling/reschedule.html", context, status=status)


# --- The doctor's dashboard ---------------------------------------------------------------


def _dashboard_context(doctor: DoctorProfile) -> dict[str, Any]:
    now = timezone.now()
    today = timezone.localdate(now, clock.clinic_tz())
    upcoming = (
        Appointment.objects.for_doctor(doctor)
        .filter(status=Appointment.Status.SCHEDULED, date__gt=today)
        .select_related("patient", "dependant")
        .order_by("starts_at")[:50]
    )
    return {
        "doctor": doctor,
        "queue": selectors.todays_queue(doctor, now=now),
        "upcoming": list(upcoming),
        "today": today,
        "now": now,
    }


@login_required
@require_safe
@vary_on_headers("HX-Request")
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    context = _dashboard_context(doctor)
    if request.htmx:
        return render(request, "scheduling/dashboard.html#live", context)
    return render(request, "scheduling/dashboard.html", context)


@login_required
@require_POST
def appointment_action(request: AuthenticatedRequest, public_id: UUID, action: str) -> HttpResponse:
    user = request.user
    doctor = get_own_doctor_profile(user)
    appointment = get_object_or_404(
        Appointment.objects.select_related("doctor"), public_id=public_id, doctor=doctor
    )
    transition = services.VISIT_ACTIONS.get(action)
    if transition is None:
        raise Http404
    refusal = None
    try:
        transition(appointment=appointment, by=user)
    except SchedulingError as exc:
        refusal = exc.text
    if request.htmx:
        # htmx swaps only 2xx answers, and the #live fragment carries no messages block: the
        # reason goes inside the fragment, with a 200 so that it is shown at all.
        context = {**_dashboard_context(doctor), "refusal": refusal}
        return render(request, "scheduling/dashboard.html#live", context)
    if refusal:
        messages.error(request, refusal)
    if request.POST.get("back") == "appointment":
        return redirect("scheduling:appointment", public_id=appointment.public_id)
    return redirect("scheduling:dashboard")


@login_required
@require_POST
def toggle_accepting(request: AuthenticatedRequest) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    accepting = request.POST.get("accepting") == "1"
    services.set_accepting_bookings(doctor=doctor, accepting=accepting)
    messages.success(
        request,
        _("You are taking bookings.") if accepting else _("New bookings are paused."),
    )
    return redirect("scheduling:dashboard")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def slots(request: AuthenticatedRequest) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    form = SlotForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.add_slot(doctor=doctor, **form.cleaned_data)
            except SchedulingError as exc:
                form.add_error(None, exc.text)
            else:
                messages.success(request, _("The slot is added."))
                # The next slot is most often on the same day: keep it chosen.
                day = form.cleaned_data["weekday"]
                return redirect(f"{reverse('scheduling:slots')}?weekday={day}")
    elif request.GET.get("weekday", "") in {str(d) for d in range(7)}:
        form = SlotForm(initial={"weekday": int(request.GET["weekday"])})
    active = list(
        Slot.objects.active().weekly().filter(doctor=doctor).order_by("weekday", "start_time")
    )
    in_use = selectors.slots_in_use(doctor, now=timezone.now())
    return render(
        request,
        "scheduling/slots.html",
        {"doctor": doctor, "form": form, "slots": active, "in_use": in_use},
        status=status,
    )


@login_required
@require_POST
def slot_deactivate(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    slot = get_object_or_404(Slot, public_id=public_id, doctor=doctor)
    try:
        services.deactivate_slot(slot=slot)
    except SchedulingError as exc:
        messages.error(request, exc.text)
    else:
        message = (
            _("%(slot)s is removed from your extra hours.")
            if slot.is_extra
            else _("%(slot)s is removed from your weekly hours.")
        )
        messages.success(request, message % {"slot": slot})
    return redirect("scheduling:extra-hours" if slot.is_extra else "scheduling:slots")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def time_off(request: AuthenticatedRequest) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    form = TimeOffForm(_posted(request))
    status = 200
    conflicts: list[Appointment] = []
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            period = {
                "start_date": d["start_date"],
                "end_date": d["end_date"],
                "start_time": d["start_time"],
                "end_time": d["end_time"],
            }
            try:
                services.add_time_off(
                    doctor=doctor, reason=d["reason"], cancel_booked=d["cancel_booked"], **period
                )
            except SchedulingError as exc:
                form.add_error(None, exc.text)
                status = exc.status
                if exc.code == "has_bookings":
                    conflicts = selectors.appointments_during(doctor, **period, now=timezone.now())
            else:
                messages.success(
                    request,
                    _(
                        "Your time off is saved. The booked appointments are cancelled and the "
                        "patients told."
                    )
                    if d["cancel_booked"]
                    else _("Your time off is saved."),
                )
                return redirect("scheduling:time-off")
    periods = TimeOff.objects.active().filter(doctor=doctor, end_date__gte=clock.today())
    return render(
        request,
        "scheduling/time_off.html",
        {"doctor": doctor, "form": form, "periods": periods, "conflicts": conflicts},
        status=status,
    )


@login_required
@require_POST
def time_off_remove(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    period = get_object_or_404(TimeOff, public_id=public_id, doctor=doctor, is_active=True)
    services.remove_time_off(time_off=period)
    messages.success(request, _("The time off is removed; those days are open for booking again."))
    return redirect("scheduling:time-off")


@login_required
@require_safe
def patients(request: AuthenticatedRequest) -> HttpResponse:
    doctor = get_own_doctor_profile(request.user)
    return render(
        request,
        "scheduling/patients.html",
        {"doctor": doctor, "patients": list(selectors.patients_of(doctor)[:500])},
    )


# --- Working hours, extra hours ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def working_hours(request: AuthenticatedRequest) -> HttpResponse:
    """One form for the week's hours and the visit length. "Preview" (live with htmx, or a
    button without JavaScript) shows the slots it will make and retire; "Save" applies it
    in one transaction, refusing a plan that changed since the preview."""
    doctor = get_own_doctor_profile(request.user)
    now = timezone.now()
    plan = None
    status = 200
    if request.method == "POST":
        form = WorkingHoursForm(request.POST)
        status = 400
        if form.is_valid():
            hours, visit = form.hours(), form.cleaned_data["visit_minutes"]
            try:
                if request.POST.get("action") == "save":
                    plan = services.set_working_hours(
                        doctor=doctor,
                        hours=hours,
                        visit_minutes=visit,
                        expected=form.cleaned_data["plan"] or None,
                        now=now,
                    )
                    messages.success(request, _hours_saved(plan))
                    return redirect("scheduling:hours")
                plan = services.plan_working_hours(
                    doctor=doctor, hours=hours, visit_minutes=visit, now=now
                )
                status = 200
            except services.PlanChanged as exc:
                plan, status = exc.plan, 409
                form.add_error(None, exc.text)
            except SchedulingError as exc:
                form.add_error(None, exc.text)
    else:
        hours, visit = selectors.current_hours(doctor)
        form = WorkingHoursForm(initial=WorkingHoursForm.initial_for(hours, visit))
    context = {"doctor": doctor, "form": form, "plan": plan}
    if request.htmx:
        # The live preview: htmx swaps only 2xx answers, so a form error comes back as 200.
        return render(request, "scheduling/working_hours.html#preview", context)
    return render(request, "scheduling/working_hours.html", context, status=status)


def _hours_saved(plan: services.HoursPlan) -> str:
    made, retired, kept = len(plan.make), len(plan.retire), len(plan.kept_booked)
    parts = [
        ngettext("%(count)s slot made", "%(count)s slots made", made) % {"count": made},
        ngettext("%(count)s retired", "%(count)s retired", retired) % {"count": retired},
    ]
    if kept:
        parts.append(
            ngettext(
                "%(count)s kept for its upcoming appointments",
                "%(count)s kept for their upcoming appointments",
                kept,
            )
            % {"count": kept}
        )
    return _("Your working hours are saved: %(changes)s.") % {"changes": ", ".join(parts)}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def extra_hours(request: AuthenticatedRequest) -> HttpResponse:
    """Slots on one date only, e.g. a Saturday clinic, and the list of those to come."""
    doctor = get_own_doctor_profile(request.user)
    form = ExtraHoursForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                made = services.add_extra_hours(
                    doctor=doctor,
                    date=d["date"],
                    ranges=d["ranges"],
                    visit_minutes=d["visit_minutes"],
                )
            except SchedulingError as exc:
                form.add_error(None, exc.text)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s extra slot added on %(date)s.",
                        "%(count)s extra slots added on %(date)s.",
                        len(made),
                    )
                    % {
                        "count": len(made),
                        "date": date_format(d["date"], i18n.date_format_for("l j F Y")),
                    },
                )
                return redirect("scheduling:extra-hours")
    slots = selectors.upcoming_extra_slots(doctor, clock.today())
    in_use = set(
        Appointment.objects.open()
        .filter(slot__in=[s.pk for s in slots])
        .values_list("slot_id", flat=True)
    )
    return render(
        request,
        "scheduling/extra_hours.html",
        {"doctor": doctor, "form": form, "slots": slots, "in_use": in_use},
        status=status,
    )


# --- The doctor's week, a day to print ---------------------------------------------------


def _calendar_date(request: HttpRequest) -> dt.date:
    query = CalendarQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(_("Choose a date as YYYY-MM-DD."))
    return query.cleaned_data["date"] or clock.today()


@login_required
@require_safe
def week(request: AuthenticatedRequest) -> HttpResponse:
    """The doctor's week (Monday to Sunday) around `?date=`, that day shown in full."""
    doctor = get_own_doctor_profile(request.user)
    chosen = _calendar_date(request)
    today = clock.today()
    monday = chosen - dt.timedelta(days=chosen.weekday())
    days = selectors.doctor_calendar(doctor, monday, monday + dt.timedelta(days=6), today=today)
    day = days[chosen.weekday()]
    one_day, one_week = dt.timedelta(days=1), dt.timedelta(days=7)
    return render(
        request,
        "scheduling/week.html",
        {
            "doctor": doctor,
            "days": days,
            "day": day,
            "chosen": chosen,
            "today": today,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "previous_week": chosen - one_week,
            "next_week": chosen + one_week,
            "previous_day": chosen - one_day,
            "next_day": chosen + one_day,
        },
    )


@login_required
@require_safe
def day_print(request: AuthenticatedRequest) -> HttpResponse:
    """One day's appointments to print: patient, time, phone, reason; no menus, no buttons."""
    doctor = get_own_doctor_profile(request.user)
    chosen = _calendar_date(request)
    (day,) = selectors.doctor_calendar(doctor, chosen, chosen, today=clock.today())
    return render(request, "scheduling/day_print.html", {"doctor": doctor, "day": day})
