"""/doctors/: who is listed, the filters (kept in the form and the page links), bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import DoctorProfile, User
from accounts.tests.factories import (
    BranchFactory,
    DoctorFactory,
    PendingDoctorFactory,
    SpecialtyFactory,
)
from directory.models import Branch, Specialty
from directory.templatetags.money import money
from directory.views import PAGE_SIZE
from scheduling.tests.view_helpers import assert_no_integer_ids, html

pytestmark = pytest.mark.django_db

URL = "/doctors/"


@pytest.fixture
def cardiology() -> Specialty:
    return SpecialtyFactory(name="Cardiologist", slug="cardiologist")


@pytest.fixture
def dermatology() -> Specialty:
    return SpecialtyFactory(name="Dermatologist", slug="dermatologist")


@pytest.fixture
def mitte() -> Branch:
    return BranchFactory(name="Mitte", slug="mitte")


@pytest.fixture
def pankow() -> Branch:
    return BranchFactory(name="Pankow", slug="pankow")


def make_doctor(
    name: str, specialty: Specialty | None, branch: Branch | None, **kw: object
) -> User:
    factory = kw.pop("factory", DoctorFactory)
    return factory(  # type: ignore[operator]
        full_name=name,
        profile__slug=name.lower().replace(" ", "-"),
        profile__specialty=specialty,
        profile__branch=branch,
        **kw,
    )


@pytest.fixture
def doctors(cardiology: Specialty, dermatology: Specialty, mitte: Branch, pankow: Branch) -> None:
    make_doctor("Clara Heart", cardiology, mitte)
    make_doctor("Carl Beat", cardiology, pankow)
    make_doctor("Dana Skin", dermatology, mitte)


def listed(client: Client, **params: str) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return [d.user.full_name for d in response.context["page"].object_list]


def test_lists_active_doctors_with_specialty_and_branch_only(
    client: Client, cardiology: Specialty, mitte: Branch
) -> None:
    make_doctor("Active Anna", cardiology, mitte)
    make_doctor("Pending Paul", cardiology, mitte, factory=PendingDoctorFactory)
    gone = make_doctor("Retired Rita", cardiology, mitte)
    User._base_manager.filter(pk=gone.pk).update(is_active=False)
    make_doctor("Nospec Nina", None, mitte)
    make_doctor("Nobranch Ben", cardiology, None)

    response = client.get(URL)

    assert response.status_code == 200
    assert listed(client) == ["Active Anna"]
    page = html(response)
    assert "Active Anna" in page
    for hidden in ("Pending Paul", "Retired Rita", "Nospec Nina", "Nobranch Ben"):
        assert hidden not in page
    assert 'href="/doctors/active-anna/"' in page
    assert_no_integer_ids(page)


@pytest.mark.usefixtures("doctors")
def test_filters_by_specialty_slug_and_keeps_it_selected(client: Client) -> None:
    response = client.get(URL, {"specialty": "cardiologist"})

    assert listed(client, specialty="cardiologist") == ["Carl Beat", "Clara Heart"]
    assert '<option value="cardiologist" selected>' in html(response)


@pytest.mark.usefixtures("doctors")
def test_filters_by_branch_slug_and_keeps_it_selected(client: Client) -> None:
    response = client.get(URL, {"branch": "mitte"})

    assert listed(client, branch="mitte") == ["Clara Heart", "Dana Skin"]
    assert '<option value="mitte" selected>' in html(response)


@pytest.mark.usefixtures("doctors")
def test_filters_combine(client: Client) -> None:
    assert listed(client, specialty="cardiologist", branch="mitte") == ["Clara Heart"]
    assert listed(client, specialty="dermatologist", branch="pankow") == []


@pytest.mark.usefixtures("doctors")
def test_name_search_is_kept_in_the_search_box(client: Client) -> None:
    response = client.get(URL, {"q": "  heart "})

    assert listed(client, q="heart") == ["Clara Heart"]
    assert 'name="q" value="heart"' in html(response)


@pytest.mark.usefixtures("doctors")
def test_search_also_matches_the_specialty_name(client: Client) -> None:
    assert listed(client, q="dermato") == ["Dana Skin"]


@pytest.mark.usefixtures("doctors")
def test_no_match_says_so(client: Client) -> None:
    response = client.get(URL, {"q": "nobody-is-called-this"})

    assert response.status_code == 200
    assert "No doctor matches these filters" in html(response)


def test_page_links_keep_the_filters(client: Client, cardiology: Specialty, mitte: Branch) -> None:
    for n in range(PAGE_SIZE + 2):
        make_doctor(f"Heart Doc {n:02d}", cardiology, mitte)
    make_doctor("Other Branch", cardiology, BranchFactory(slug="elsewhere"))

    first = client.get(URL, {"specialty": "cardiologist", "branch": "mitte", "q": "heart"})
    second = client.get(
        URL, {"specialty": "cardiologist", "branch": "mitte", "q": "heart", "page": "2"}
    )

    assert first.status_code == second.status_code == 200
    assert len(first.context["page"].object_list) == PAGE_SIZE
    assert first.context["page"].paginator.count == PAGE_SIZE + 2
    next_link = "?specialty=cardiologist&amp;branch=mitte&amp;q=heart&amp;page=2"
    assert f'href="{next_link}"' in html(first)
    assert [d.user.full_name for d in second.context["page"].object_list] == [
        "Heart Doc 24",
        "Heart Doc 25",
    ]


@pytest.mark.usefixtures("doctors")
@pytest.mark.parametrize(
    "params",
    [
        {"specialty": "no-such-specialty"},
        {"branch": "no-such-branch"},
        {"specialty": "<script>"},
        {"page": "999"},
        {"page": "-1"},
        {"page": "abc"},
        {"q": "%"},
        {"q": "'; DROP TABLE accounts_user; --"},
        {"q": "x" * 5000},
        {"specialty": ["cardiologist", "dermatologist"]},
    ],
)
def test_unknown_filter_values_do_not_fail(client: Client, params: dict[str, str]) -> None:
    response = client.get(URL, params)

    assert response.status_code == 200
    assert "Find a doctor" in html(response)
    assert DoctorProfile.objects.count() == 3


def test_a_doctor_who_pauses_bookings_is_listed_without_the_book_button(
    client: Client, cardiology: Specialty, mitte: Branch
) -> None:
    paused = make_doctor("Paused Pia", cardiology, mitte)
    DoctorProfile._base_manager.filter(user=paused).update(accepting_bookings=False)

    response = client.get(URL)

    assert listed(client) == ["Paused Pia"]
    assert "Not taking bookings" in html(response)
    assert "See free times" not in html(response)


@pytest.mark.usefixtures("doctors")
@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("Dr. Heart", ["Clara Heart"]),
        ("dr heart", ["Clara Heart"]),
        ("Doctor Clara Heart", ["Clara Heart"]),
        ("heart", ["Clara Heart"]),
        ("HEART", ["Clara Heart"]),
        ("cardio", ["Carl Beat", "Clara Heart"]),
        ("cardiologist pankow", ["Carl Beat"]),
        ("Dr.", ["Carl Beat", "Clara Heart", "Dana Skin"]),
        ("Dr. Nobody", []),
    ],
)
def test_search_takes_a_title_a_name_a_specialty_or_a_branch(
    client: Client, q: str, found: list[str]
) -> None:
    assert listed(client, q=q) == found


def test_fees_show_the_clinics_currency_in_the_languages_number_format(
    client: Client, cardiology: Specialty, mitte: Branch, settings: Any
) -> None:
    make_doctor("Clara Heart", cardiology, mitte)

    assert "Fee <strong>80.00 EUR</strong>" in html(client.get(URL))
    page = html(client.get("/doctors/clara-heart/"))
    assert "Consultation fee: <strong>80.00 EUR</strong>" in page

    settings.CLINIC_CURRENCY = "CHF"
    assert "Fee <strong>80.00 CHF</strong>" in html(client.get(URL))
    with translation.override("de"):
        assert money(Decimal("1234.5")) == "1234,50 CHF"
