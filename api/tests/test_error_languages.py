"""The API's `detail` is a sentence for the person in front of the client app, in the language
the request asks for (Accept-Language, as a browser or an app sends it); `code` and the
`errors` list are for programs and never change with it."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from api.tests.conftest import ApiClient
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


def booking(opening: Slot, **overrides: object) -> dict:
    return {
        "doctor": "dora-doctor",
        "slot": str(opening.public_id),
        "date": NEXT_MONDAY.isoformat(),
    } | overrides


def answers(
    as_alice: ApiClient, as_dora: ApiClient, monday_10: Slot, language: str
) -> list[tuple[str, str]]:
    """Errors of each kind a client app meets, as (code, detail)."""
    lang = {"Accept-Language": language}
    anonymous = Client()
    responses = [
        anonymous.get("/api/v1/nowhere", headers=lang),
        anonymous.delete("/api/v1/specialties", headers=lang),
        anonymous.get("/api/v1/me", headers=lang),
        anonymous.get("/api/v1/doctors/nobody", headers=lang),
        anonymous.get("/api/v1/doctors?limit=0", headers=lang),
        anonymous.get("/api/v1/doctors/dora-doctor/availability?start=2020-01-01", headers=lang),
        anonymous.get(
            "/api/v1/doctors/dora-doctor/availability?start=2026-06-10&end=2026-06-09",
            headers=lang,
        ),
        as_alice.post("/appointments", booking(monday_10, date="2026-06-09"), **lang),
        as_alice.post("/appointments", booking(monday_10, date="not-a-date"), **lang),
        as_alice.post("/appointments", {"doctor": "dora-doctor"}, **lang),
        as_alice.post("/appointments", booking(monday_10, slot=str(uuid.uuid4())), **lang),
        as_alice.post("/appointments", booking(monday_10, dependant=str(uuid.uuid4())), **lang),
        as_alice.client.post(
            "/api/v1/appointments",
            data="{not json",
            content_type="application/json",
            headers=as_alice.headers | lang,
        ),
        as_alice.get("/doctor/queue", **lang),
        as_dora.get("/me/family", **lang),
    ]
    found = []
    for response in responses:
        body = response.json()
        assert response.status_code >= 400, body
        found.append((body["code"], body["detail"]))
    return found


def test_the_details_follow_accept_language_and_the_codes_do_not(
    as_alice: ApiClient, as_dora: ApiClient, monday_10: Slot
) -> None:
    english = answers(as_alice, as_dora, monday_10, "en")
    german = answers(as_alice, as_dora, monday_10, "de")
    arabic = answers(as_alice, as_dora, monday_10, "ar")

    codes = [code for code, _detail in english]
    assert len(set(codes)) >= 10
    assert [code for code, _detail in german] == codes == [code for code, _detail in arabic]
    untranslated = [
        (language, code, detail)
        for language, answered in (("de", german), ("ar", arabic))
        for (code, detail), (_code, in_english) in zip(answered, english, strict=True)
        if detail == in_english
    ]
    assert untranslated == []
