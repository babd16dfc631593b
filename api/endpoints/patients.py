"""For the front desk (and the clinic's admins): finding a patient to book for. The same
search as the desk's page (accounts.selectors.matching_patients).

The query travels in a POST body, not the URL: it is often a national ID, and no national ID
appears in a URL (access logs, proxies and browser histories keep URLs)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.params.functions import Query

from accounts import selectors
from api.endpoints.common import MAX_OFFSET, caller, errors, page, require_front_desk_or_admin
from api.schemas import PatientPage, PatientSearchIn, patient_out

router = Router(tags=["front desk"])


@router.post(
    "/patients/search",
    url_name="patient-search",
    response={200: PatientPage, **errors(401, 403, body=True)},
    summary="Find a patient",
)
def search_patients(
    request: HttpRequest,
    payload: PatientSearchIn,
    limit: int = Query(20, ge=1, le=selectors.SEARCH_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Patients whose name, national ID, phone or e-mail matches `q`, by name: for the front
    desk, to book, move or cancel for them (their `id` is the `patient` of
    `POST /appointments`), and for admins. Patients of every branch: a patient is the
    clinic's, not a branch's. A read, but a POST: it counts toward the write rate limit."""
    require_front_desk_or_admin(caller(request))
    return page(
        selectors.matching_patients(payload.q), limit=limit, offset=offset, render=patient_out
    )
