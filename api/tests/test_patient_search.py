"""POST /api/v1/patients/search: the front desk (and an admin) finds a patient as on the desk's
page, through the same selector, and books for them with the id it gets. Nobody else may
search; no national ID travels in the URL or comes back in the answer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory, PendingPatientFactory
from api.tests.conftest import ApiClient
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

SEARCH = "/patients/search"


@pytest.fixture
def alice(db: None) -> User:
    return PatientFactory(
        national_id="300000001",
        full_name="Alice Patient",
        email="alice.p@example.com",
        phone="+49 30 7000001",
        profile__medical_history="Allergic to penicillin",
    )


@pytest.mark.parametrize(
    "query", ["alice", "300-000 001", "030 7000001", "+49307000001", "ALICE.P@EXAMPLE"]
)
def test_the_desk_finds_a_patient_as_on_its_page(
    client: Client, fay: User, alice: User, other_patient: User, query: str
) -> None:
    found = ApiClient(fay).post(SEARCH, {"q": query})
    client.force_login(fay)
    page = client.get(client.post("/front-desk/patients/", {"q": query})["Location"])

    assert found.status_code == 200
    body = found.json()
    assert body["count"] == 1
    assert [p["id"] for p in body["items"]] == [str(alice.public_id)]
    # The same answer as the desk's own page: one selector serves both.
    assert [str(p.public_id) for p in page.context["found"]] == [str(alice.public_id)]


def test_an_answer_names_the_patient_by_public_id_and_tells_no_national_id(
    fay: User, alice: User
) -> None:
    response = ApiClient(fay).post(SEARCH, {"q": "300000001"})

    assert response.json()["items"] == [
        {
            "id": str(alice.public_id),
            "name": "Alice Patient",
            "email": "alice.p@example.com",
            "phone": "+49307000001",
            "date_of_birth": "1980-05-17",
            "account": "active",
        }
    ]
    assert alice.national_id not in response.content.decode()
    assert "penicillin" not in response.content.decode()


def test_the_query_travels_in_the_body_never_the_url(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/patients/search"]["post"]

    assert operation["requestBody"]["required"] is True
    assert {p["name"] for p in operation["parameters"]} == {"limit", "offset"}
    assert {"200", "401", "403", "422", "429"} <= set(operation["responses"])


def test_pages_through_many_by_name_then_age_of_account(fay: User, db: None) -> None:
    for n in range(5):
        PatientFactory(full_name=f"Sam Same {n % 2}")
    PendingPatientFactory(full_name="Sam Same 9")
    desk = ApiClient(fay)

    first = desk.post(f"{SEARCH}?limit=4", {"q": "sam same"}).json()
    rest = desk.post(f"{SEARCH}?limit=4&offset=4", {"q": "sam same"}).json()

    assert (first["count"], first["limit"], first["offset"]) == (6, 4, 0)
    names = [p["name"] for p in first["items"] + rest["items"]]
    assert names == ["Sam Same 0"] * 3 + ["Sam Same 1"] * 2 + ["Sam Same 9"]
    assert len({p["id"] for p in first["items"] + rest["items"]}) == 6
    assert rest["items"][-1]["account"] == "pending"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (SEARCH, {"q": "a"}),  # fewer than two characters find nobody, as on the page
        (SEARCH, {"q": "  a  "}),
        (SEARCH, {"q": "x" * 101}),
        (SEARCH, {}),
        (f"{SEARCH}?limit=51", {"q": "alice"}),  # at most a page of the desk's own size
        (f"{SEARCH}?limit=0", {"q": "alice"}),
        (f"{SEARCH}?offset=-1", {"q": "alice"}),
    ],
)
def test_a_query_out_of_bounds_is_a_422(fay: User, alice: User, path: str, body: dict) -> None:
    response = ApiClient(fay).post(path, body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("who", ["other_patient", "doctor"])
def test_a_patient_or_a_doctor_may_not_search(
    request: pytest.FixtureRequest, alice: User, who: str
) -> None:
    response = ApiClient(request.getfixturevalue(who)).post(SEARCH, {"q": "alice"})

    assert response.status_code == 403
    assert response.json()["code"] == "front_desk_only"
    assert "alice.p@example.com" not in response.content.decode()


def test_a_desk_without_a_branch_may_not_search(alice: User, fay: User) -> None:
    fay.front_desk_profile.branch = None
    fay.front_desk_profile.save()

    response = ApiClient(fay).post(SEARCH, {"q": "alice"})

    assert response.status_code == 403
    assert response.json()["code"] == "no_branch"


def test_an_admin_finds_patients_too(admin_user: User, alice: User) -> None:
    response = ApiClient(admin_user).post(SEARCH, {"q": "Alice"})

    assert [p["id"] for p in response.json()["items"]] == [str(alice.public_id)]


def test_the_desk_books_for_the_patient_it_found(
    fay: User, alice: User, dora: DoctorProfile, monday_9: Slot, now: dt.datetime
) -> None:
    desk = ApiClient(fay)

    found = desk.post(SEARCH, {"q": "030 7000001"}).json()["items"][0]
    booked = desk.post(
        "/appointments",
        {
            "doctor": dora.slug,
            "slot": str(monday_9.public_id),
            "date": NEXT_MONDAY.isoformat(),
            "patient": found["id"],
        },
    )

    assert booked.status_code == 201, booked.content
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.booked_by) == (alice, fay)


def test_a_search_costs_the_same_few_queries_however_many_match(
    fay: User, django_assert_max_num_queries: object
) -> None:
    for n in range(30):
        PatientFactory(full_name=f"Many Match {n:02}")
    desk = ApiClient(fay)

    with django_assert_max_num_queries(6):  # type: ignore[operator]
        response = desk.post(f"{SEARCH}?limit=50", {"q": "many match"})

    assert len(response.json()["items"]) == 30


def test_searches_have_a_rate_limit_of_their_own(
    fay: User, alice: User, dora: DoctorProfile, monday_9: Slot, settings: Settings
) -> None:
    """A read sent as a POST: bounded (no trying national IDs one after another), but apart
    from the writes, so that a busy desk's searches do not use up its bookings."""
    settings.RATELIMITS = {"write": (2, 15 * 60), "search": (3, 15 * 60)}
    desk = ApiClient(fay)

    answers = [desk.post(SEARCH, {"q": "alice"}).status_code for _ in range(4)]
    booked = desk.post(
        "/appointments",
        {
            "doctor": dora.slug,
            "slot": str(monday_9.public_id),
            "date": NEXT_MONDAY.isoformat(),
            "patient": str(alice.public_id),
        },
    )

    assert answers == [200, 200, 200, 429]
    assert booked.status_code == 201
