"""The front desk of a branch: its day (every doctor's queue, check-in, no-show), finding and
registering patients, and booking for them with the branch's doctors.

Every rule is a service's (accounts.services, scheduling.services), every read a selector's;
a view here finds what this desk may see (the branch's doctors and their appointments, any
patient it looks up) and answers 404 on the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts import normalise
from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.forms import WalkInForm
from accounts.http import AuthenticatedRequest
from accounts.models import DoctorProfile, User
from common import i18n
from common.ratelimit import limit
from scheduling import selectors, services
from scheduling.errors import SchedulingError, SlotTaken
from scheduling.forms import BookingForm, PatientSearchForm
from scheduling.models import Appointment
from scheduling.views import _grid_context, _opening_from_query, _posted

View = Callable[..., HttpResponse]


def front_desk_view(view: View) -> View:
    """Signed in, and an active front desk attached to a branch (else 403); the view gets
    the branch's id."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        if not user.is_front_desk:
            raise PermissionDenied(_("These pages are for the front desk."))
        branch_id = account_selectors.front_desk_branch_id(user)
        if branch_id is None:
            raise PermissionDenied(_("Your account is not attached to a branch yet."))
        return view(request, branch_id, *args, **kwargs)

    return wrapper


def _patient(public_id: UUID) -> User:
    return get_object_or_404(
        User.objects.patients().select_related("patient_profile"), public_id=public_id
    )


def _branch_doctor(branch_id: int, slug: str) -> DoctorProfile:
    return get_object_or_404(selectors.branch_doctors(branch_id), slug=slug)


# --- The branch's day ---------------------------------------------------------------------


def _day_context(branch_id: int, refusal: str | None = None) -> dict[str, Any]:
    now = timezone.now()
    days = selectors.branch_day(branch_id, now=now)
    return {
        "branch": days[0].doctor.branch if days else None,
        "days": days,
        "now": now,
        "today": timezone.localdate(now),
        "refusal": refusal,
        "search": PatientSearchForm(),
    }


@front_desk_view
@require_safe
@vary_on_headers("HX-Request")
def day(request: AuthenticatedRequest, branch_id: int) -> HttpResponse:
    context = _day_context(branch_id)
    if request.htmx:
        return render(request, "scheduling/front_desk/day.html#live", context)
    return render(request, "scheduling/front_desk/day.html", context)


_TRANSITIONS = {"check-in": services.check_in, "no-show": services.mark_no_show}


@front_desk_view
@require_POST
def appointment_action(
    request: AuthenticatedRequest, branch_id: int, public_id: UUID, action: str
) -> HttpResponse:
    transition = _TRANSITIONS.get(action)
    if transition is None:
        raise Http404
    appointment = selectors.get_appointment_for_user(request.user, public_id)
    refusal = None
    try:
        transition(appointment=appointment, by=request.user)
    except SchedulingError as exc:
        refusal = exc.text
    if request.htmx:
        # As on the doctor's dashboard: htmx swaps 2xx answers only, so a refusal is told
        # inside the fragment.
        return render(
            request, "scheduling/front_desk/day.html#live", _day_context(branch_id, refusal)
        )
    if refusal:
        messages.error(request, refusal)
    else:
        done = (
            _("%(patient)s is checked in.")
            if action == "check-in"
            else _("%(patient)s is marked as a no-show.")
        )
        messages.success(request, done % {"patient": appointment.patient.full_name})
    return redirect("front-desk:day")


# --- Patients -----------------------------------------------------------------------------


# The desk's searches of this session, by a random key: a name, a national ID or a phone
# number never goes into a URL, where access logs and the browser's history keep it.
_SEARCHES = "front_desk_searches"
_SEARCHES_KEPT = 20


def _remember_search(request: HttpRequest, query: str) -> str:
    searches: dict[str, str] = request.session.get(_SEARCHES, {})
    key = secrets.token_urlsafe(8)
    searches[key] = query
    # The newest last (dicts keep their order): the oldest go first.
    request.session[_SEARCHES] = dict(list(searches.items())[-_SEARCHES_KEPT:])
    return key


@front_desk_view
@require_http_methods(["GET", "HEAD", "POST"])
def patients(request: AuthenticatedRequest, branch_id: int) -> HttpResponse:
    """Find a patient. The form POSTs the query; the answer redirects to the results at
    `?search=<key>`, a key of this session's that stands for the query, so Back and reload
    show the same results and no URL carries what was typed."""
    if request.method == "POST":
        form = PatientSearchForm(request.POST)
        if form.is_valid():
            key = _remember_search(request, form.cleaned_data["q"])
            return redirect(f"{reverse('front-desk:patients')}?{urlencode({'search': key})}")
        return _search_page(request, form, "", status=400)
    query = request.session.get(_SEARCHES, {}).get(request.GET.get("search", ""), "")
    return _search_page(request, PatientSearchForm(initial={"q": query}), query)


def _search_page(
    request: HttpRequest, form: PatientSearchForm, query: str, status: int = 200
) -> HttpResponse:
    found = list(account_selectors.find_patients(query)) if query else []
    return render(
        request,
        "scheduling/front_desk/patients.html",
        {"form": form, "found": found, "query": query, "limit": account_selectors.SEARCH_LIMIT},
        status=status,
    )


@limit("write")
@front_desk_view
@require_http_methods(["GET", "HEAD", "POST"])
def patient_new(request: AuthenticatedRequest, branch_id: int) -> HttpResponse:
    form = WalkInForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                patient = account_services.register_walk_in(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _(
                        "%(patient)s is registered. An e-mail to %(email)s lets them choose "
                        "their password."
                    )
                    % {"patient": patient.full_name, "email": patient.email},
                )
                return redirect("front-desk:patient", public_id=patient.public_id)
    return render(
        request,
        "scheduling/front_desk/patient_new.html",
        {"form": form, "registered": _already_registered(form)},
        status=status,
    )


def _already_registered(form: WalkInForm) -> User | None:
    """The patient whose national ID the desk typed again, to open instead of registering
    them twice (a walk-in who forgot they had an account)."""
    if "national_id" not in form.errors or not form.data.get("national_id"):
        return None
    nid = normalise.national_id(str(form.data["national_id"]))
    found: User | None = User.objects.patients().filter(national_id=nid).first()
    return found


@front_desk_view
@require_safe
def patient(request: AuthenticatedRequest, branch_id: int, public_id: UUID) -> HttpResponse:
    person = _patient(public_id)
    upcoming, past = selectors.patient_appointments_at_branch(person, branch_id)
    return render(
        request,
        "scheduling/front_desk/patient.html",
        {
            "patient": person,
            "upcoming": upcoming,
            "past": past,
            "doctors": list(selectors.branch_doctors(branch_id)),
        },
    )


@limit("write")
@front_desk_view
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def book(request: AuthenticatedRequest, branch_id: int, public_id: UUID, slug: str) -> HttpResponse:
    """The doctor's free times for this patient; a chosen time to confirm; the booking."""
    person = _patient(public_id)
    doctor = _branch_doctor(branch_id, slug)
    here = reverse("front-desk:book", args=[person.public_id, doctor.slug])
    data = request.POST if request.method == "POST" else request.GET
    error = None
    status = 200
    form = BookingForm(_posted(request), doctor=doctor, patient=person, by_patient=False)
    if "slot" in data or "date" in data:
        opening = _opening_from_query(data, doctor)
        if isinstance(opening, str):
            error, status = opening, 400
        else:
            slot, date = opening
            if request.method == "POST" and form.is_valid():
                try:
                    appointment = services.book(
                        patient=person,
                        doctor=doctor,
                        slot=slot,
                        date=date,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                        service=form.cleaned_data.get("service"),
                        dependant=form.cleaned_data.get("dependant"),
                    )
                except SchedulingError as exc:
                    error, status = exc.text, exc.status
                else:
                    messages.success(
                        request,
                        _(
                            "Booked: %(patient)s with %(doctor)s on %(day)s at %(time)s. The "
                            "patient gets the confirmation by e-mail."
                        )
                        % {
                            "patient": person.full_name,
                            "doctor": doctor.display_name,
                            "day": date_format(
                                timezone.localtime(appointment.starts_at),
                                i18n.date_format_for("l j F"),
                            ),
                            "time": f"{timezone.localtime(appointment.starts_at):%H:%M}",
                        },
                    )
                    return redirect("front-desk:patient", public_id=person.public_id)
            else:
                try:
                    starts_at, ends_at = services.check_bookable(
                        patient=person, doctor=doctor, slot=slot, date=date, now=timezone.now()
                    )
                except SchedulingError as exc:
                    error, status = exc.text, exc.status
                else:
                    taken = Appointment.objects.holding_slot().filter(
                        doctor=doctor, slot=slot, date=date
                    )
                    if taken.exists():
                        error, status = SlotTaken([]).text, 409
                    else:
                        return render(
                            request,
                            "scheduling/book_confirm.html",
                            {
                                "back_url": here,
                                "action_url": here,
                                "patient": person,
                                "doctor": doctor,
                                "slot": slot,
                                "date": date,
                                "starts_at": starts_at,
                                "ends_at": ends_at,
                                "form": form,
                            },
                            status=400 if request.method == "POST" else 200,
                        )
    elif request.method == "POST":
        error, status = _("Choose the time from the calendar."), 400
    context = _grid_context(request, doctor, here, here)
    context.update({"patient": person, "error": error, "grid_url": here})
    if request.htmx:
        return render(request, "scheduling/doctor_detail.html#grid", context, status=status)
    return render(request, "scheduling/front_desk/book.html", context, status=status)
