from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.models import DoctorProfile
from directory import cards
from directory.models import Branch, Specialty
from directory.selectors import matching

PAGE_SIZE = 24


@require_safe
def doctor_list(request: HttpRequest) -> HttpResponse:
    specialties = list(Specialty.objects.all())
    branches = list(Branch.objects.all())
    specialty = next((s for s in specialties if s.slug == request.GET.get("specialty")), None)
    branch = next((b for b in branches if b.slug == request.GET.get("branch")), None)
    q = request.GET.get("q", "").strip()[:100]

    doctors: QuerySet[DoctorProfile] = DoctorProfile.objects.listed()
    if specialty:
        doctors = doctors.filter(specialty=specialty)
    if branch:
        doctors = doctors.filter(branch=branch)
    if q:
        doctors = matching(doctors, q)
    page = Paginator(doctors.order_by("user__full_name"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # The page's doctors once, then what other apps know of them (the next free time).
    page.object_list = list(page.object_list)
    cards.annotate(page.object_list)
    return render(
        request,
        "directory/doctor_list.html",
        {
            "page": page,
            "specialties": specialties,
            "branches": branches,
            "specialty": specialty,
            "branch": branch,
            "q": q,
        },
    )
