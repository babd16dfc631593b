"""The patient's waitlists: join a doctor's, see and leave them, and book a time offered
from one through the link in the e-mail. The rules are scheduling.services'."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.http import AuthenticatedRequest
from common.ratelimit import limit
from scheduling import availability, clock, services
from scheduling.errors import SchedulingError
from scheduling.forms import BookingForm, WaitlistForm
from scheduling.models import WaitlistEntry, WaitlistOffer
from scheduling.views import _posted, _require_patient, get_doctor_by_slug


@limit("write")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def join(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    user = request.user
    _require_patient(user)
    doctor = get_doctor_by_slug(slug)
    today = clock.today()
    form = WaitlistForm(
        _posted(request),
        patient=user,
        initial={
            "start_date": today,
            "end_date": min(today + dt.timedelta(days=14), availability.horizon_end(today)),
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.join_waitlist(
                    patient=user,
                    doctor=doctor,
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    earliest=data.get("earliest"),
                    latest=data.get("latest"),
                    dependant=data.get("dependant"),
                )
            except SchedulingError as exc:
                form.add_error(None, exc.text)
                status = exc.status
            else:
                messages.success(
                    request,
                    gettext(
                        "You are on %(doctor)s's waitlist. When a time in your range comes "
                        "free, we e-mail you a link that holds it for you."
                    )
                    % {"doctor": doctor.display_name},
                )
                return redirect("scheduling:waitlists")
    return render(
        request, "scheduling/waitlist_join.html", {"doctor": doctor, "form": form}, status=status
    )


@login_required
@require_safe
def my_waitlists(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    _require_patient(user)
    now = timezone.now()
    entries = list(
        WaitlistEntry.objects.for_patient(user)
        .current()
        .select_related("doctor__user", "doctor__specialty", "dependant")
        .order_by("created_at", "pk")
    )
    offers = {
        o.entry_id: o
        for o in WaitlistOffer.objects.holding(now).filter(entry__in=[e.pk for e in entries])
    }
    for entry in entries:
        entry.offer = offers.get(entry.pk)  # type: ignore[attr-defined]
        entry.status_label = entry.shown_status_label(entry.pk in offers)  # type: ignore[attr-defined]
    return render(request, "scheduling/waitlists.html", {"entries": entries, "now": now})


@login_required
@require_POST
def leave(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    user = request.user
    entry = get_object_or_404(
        WaitlistEntry.objects.for_patient(user).select_related("doctor__user"),
        public_id=public_id,
    )
    services.leave_waitlist(entry=entry, by=user)
    messages.success(
        request,
        gettext("You have left %(doctor)s's waitlist.") % {"doctor": entry.doctor.display_name},
    )
    return redirect("scheduling:waitlists")


@limit("write")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def offer(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """The link in the offer's e-mail: the time held for the patient, and the button that
    books it."""
    user = request.user
    found = (
        WaitlistOffer.objects.select_related(
            "entry__dependant", "doctor__user", "doctor__specialty", "doctor__branch", "slot"
        )
        .filter(public_id=public_id, entry__patient=user)
        .first()
    )
    if found is None:
        raise Http404("No such offer.")  # someone else's offer is not told
    now = timezone.now()
    booked = found.appointment if found.status == WaitlistOffer.Status.BOOKED else None
    if booked is not None:
        return redirect("scheduling:appointment", public_id=booked.public_id)
    form = BookingForm(_posted(request))
    if request.method == "POST" and found.is_holding(now) and form.is_valid():
        try:
            appointment = services.claim_offer(
                offer=found, by=user, reason=form.cleaned_data["reason"], now=now
            )
        except SchedulingError as exc:
            messages.error(request, exc.text)
            return redirect("scheduling:waitlist-offer", public_id=found.public_id)
        messages.success(
            request, gettext("Your appointment is booked. A confirmation is on its way.")
        )
        return redirect("scheduling:appointment", public_id=appointment.public_id)
    holding = found.is_holding(now)
    return render(
        request,
        "scheduling/waitlist_offer.html",
        {"offer": found, "doctor": found.doctor, "holding": holding, "form": form},
        status=200 if request.method in ("GET", "HEAD") else (400 if holding else 409),
    )
