"""/doctors/<slug>/ and its grid fragment: free times link to booking, taken and past ones
don't, paging stays within the horizon, and each empty state says why.

The clock stands at Monday 1 June 2026, 10:00 Berlin (scheduling/tests/conftest.py); the
first window shows 1-14 June and the horizon ends on 31 July.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import TimeOffFactory
from scheduling.tests.view_helpers import (
    assert_no_integer_ids,
    book_url,
    booked,
    html,
    is_fragment,
    slot_at,
)

pytestmark = pytest.mark.django_db

TUESDAY = dt.date(2026, 6, 2)
NEXT_TUESDAY = dt.date(2026, 6, 9)
MONDAY_15 = dt.date(2026, 6, 15)
LAST_DAY = dt.date(2026, 7, 31)


@pytest.fixture
def tuesday_9(dora: DoctorProfile) -> Slot:
    return slot_at(dora, 1, dt.time(9))


@pytest.fixture
def week(dora: DoctorProfile, monday_9: Slot, tuesday_9: Slot, other_patient: User) -> None:
    """Mondays and Tuesdays at 09:00; Bob holds next Monday's."""
    booked(monday_9, NEXT_MONDAY, patient=other_patient)


def page_url(doctor: DoctorProfile) -> str:
    return f"/doctors/{doctor.slug}/"


def grid_url(doctor: DoctorProfile) -> str:
    return f"/doctors/{doctor.slug}/availability/"


@pytest.mark.usefixtures("week")
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "fragment"])
def test_free_times_link_to_booking_and_taken_or_past_ones_do_not(
    client: Client, dora: DoctorProfile, monday_9: Slot, tuesday_9: Slot, fragment: bool
) -> None:
    response = client.get(grid_url(dora) if fragment else page_url(dora))

    assert response.status_code == 200
    page = html(response)
    assert book_url(dora, TUESDAY, tuesday_9) in page
    assert book_url(dora, NEXT_TUESDAY, tuesday_9) in page
    # Today's 09:00 has passed; Bob holds next Monday's.
    assert book_url(dora, TODAY, monday_9) not in page
    assert book_url(dora, NEXT_MONDAY, monday_9) not in page
    assert "Past: </span>09:00" in page
    assert "Taken: </span>09:00" in page
    assert page.count('class="slot" href=') == 2
    assert_no_integer_ids(page)


@pytest.mark.usefixtures("week")
def test_doctor_page_shows_the_profile(client: Client, dora: DoctorProfile) -> None:
    DoctorProfile._base_manager.filter(pk=dora.pk).update(bio="Twenty years of cardiology.")

    page = html(client.get(page_url(dora)))

    assert "Dr. Dora Doctor" in page
    assert dora.specialty.name in page
    assert dora.branch.name in page
    assert "80.00" in page
    assert "Twenty years of cardiology." in page
    assert f'href="/doctors/?specialty={dora.specialty.slug}"' in page


@pytest.mark.usefixtures("week")
@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}], ids=["plain", "htmx"])
def test_the_grid_fragment_is_served_alone(
    client: Client, dora: DoctorProfile, headers: dict[str, str]
) -> None:
    response = client.get(grid_url(dora), **headers)

    assert response.status_code == 200
    page = html(response)
    assert is_fragment(page)
    assert page.lstrip().startswith('<div id="grid"')
    assert "Consultation fee" not in page
    assert "HX-Request" in response["Vary"]


@pytest.mark.usefixtures("week")
def test_full_page_wraps_the_same_grid(client: Client, dora: DoctorProfile) -> None:
    page = html(client.get(page_url(dora)))

    assert not is_fragment(page)
    assert '<div id="grid"' in page
    assert f'hx-get="{grid_url(dora)}?start=2026-06-01"' in page


@pytest.mark.usefixtures("week")
def test_paging_forward_shows_later_weeks(
    client: Client, dora: DoctorProfile, monday_9: Slot, tuesday_9: Slot
) -> None:
    response = client.get(page_url(dora), {"start": "2026-06-15"})

    assert response.status_code == 200
    page = html(response)
    assert response.context["start"] == MONDAY_15
    assert book_url(dora, MONDAY_15, monday_9) in page
    assert book_url(dora, TUESDAY, tuesday_9) not in page
    assert f'href="{page_url(dora)}?start=2026-06-01"' in page  # earlier
    assert f'href="{page_url(dora)}?start=2026-06-29"' in page  # later


@pytest.mark.usefixtures("week")
@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}], ids=["plain", "htmx"])
def test_fragment_pager_links_lead_to_the_full_page(
    client: Client, dora: DoctorProfile, headers: dict[str, str]
) -> None:
    """The pager keeps a real href for a browser without JavaScript (or a new tab): the
    doctor's page, not the bare fragment; htmx uses the hx-get."""
    page = html(client.get(grid_url(dora), {"start": "2026-06-15"}, **headers))

    assert f'href="{page_url(dora)}?start=2026-06-29"' in page
    assert f'href="{page_url(dora)}?start=2026-06-01"' in page
    assert f'hx-get="{grid_url(dora)}?start=2026-06-29"' in page
    assert f'href="{grid_url(dora)}' not in page


@pytest.mark.usefixtures("week")
def test_paging_stops_at_the_booking_horizon(client: Client, dora: DoctorProfile) -> None:
    response = client.get(page_url(dora), {"start": "2030-01-01"})

    assert response.status_code == 200
    assert response.context["start"] == LAST_DAY
    assert response.context["later"] is None
    assert [d.date for d in response.context["days"]] == [LAST_DAY]
    assert "Later →" not in html(response)
    # The grid says why it ends here.
    assert (
        "Bookings open 60 days ahead: Friday 31 July 2026 is the last day that can be booked."
        in html(response)
    )


@pytest.mark.usefixtures("week")
def test_pager_puts_the_fortnight_in_the_address_and_the_poll_morphs(
    client: Client, dora: DoctorProfile
) -> None:
    page = html(client.get(page_url(dora), {"start": "2026-06-15"}))

    # The pager loads the fragment and pushes the full page's address with its start.
    assert (
        f'hx-get="{grid_url(dora)}?start=2026-06-29" '
        f'hx-push-url="{page_url(dora)}?start=2026-06-29"' in page
    )
    assert f'hx-push-url="{page_url(dora)}?start=2026-06-01"' in page
    # The poll keeps this window and morphs the grid in place (idiomorph).
    assert f'hx-get="{grid_url(dora)}?start=2026-06-15" hx-trigger="every 10s' in page
    assert 'hx-swap="morph" hx-select="#grid"' in page
    assert 'hx-ext="morph"' in page
    assert "idiomorph-ext.min.js" in page
    assert "is the last day that can be booked" not in page
    # The time zone is named, each name kept left to right (an Arabic page would show a
    # zone such as Asia/Muscat's "+04" as "04+").
    assert 'times in <span dir="ltr">Europe/Berlin (CEST)</span>' in page


@pytest.mark.usefixtures("week")
def test_the_first_window_has_no_earlier_link(client: Client, dora: DoctorProfile) -> None:
    response = client.get(page_url(dora), {"start": "2020-01-01"})

    assert response.context["start"] == TODAY
    assert response.context["earlier"] is None
    assert "← Earlier" not in html(response)
    assert len(response.context["days"]) == 14


@pytest.mark.usefixtures("week")
@pytest.mark.parametrize(
    "start", ["garbage", "2026-02-30", "2026-13-01", "99999-01-01", "0000-00-00", "", "1e9"]
)
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "fragment"])
def test_bad_start_values_show_the_first_window(
    client: Client, dora: DoctorProfile, start: str, fragment: bool
) -> None:
    response = client.get(grid_url(dora) if fragment else page_url(dora), {"start": start})

    assert response.status_code == 200
    assert response.context["start"] == TODAY


@pytest.mark.usefixtures("week")
def test_a_doctor_not_taking_bookings_says_so_and_offers_no_link(
    client: Client, dora: DoctorProfile
) -> None:
    DoctorProfile._base_manager.filter(pk=dora.pk).update(accepting_bookings=False)

    for url in (page_url(dora), grid_url(dora)):
        page = html(client.get(url))
        assert "is not taking bookings at the moment" in page
        assert "/book/" not in page


@pytest.mark.usefixtures("week")
def test_no_free_time_this_fortnight_names_the_next_free_one(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    TimeOffFactory(doctor=dora, start_date=TODAY, end_date=dt.date(2026, 6, 14))

    page = html(client.get(page_url(dora)))

    assert "No free time in these two weeks." in page
    assert "The next free one is on" in page
    assert book_url(dora, MONDAY_15, monday_9) in page
    assert "Monday 15 June at 09:00" in page


@pytest.mark.usefixtures("week")
def test_no_free_time_at_all_says_so(client: Client, dora: DoctorProfile) -> None:
    TimeOffFactory(doctor=dora, start_date=TODAY, end_date=LAST_DAY)

    page = html(client.get(page_url(dora)))

    assert "There is no free time in the coming weeks." in page
    assert "/book/" not in page


def test_a_doctor_without_slots_has_nothing_to_offer(client: Client, dora: DoctorProfile) -> None:
    page = html(client.get(page_url(dora)))

    assert "There is no free time in the coming weeks." in page
    assert "No consultations" in page


@pytest.mark.parametrize("suffix", ["", "availability/", "book/?date=2026-06-08&slot=x"])
def test_an_inactive_doctor_is_not_found(
    client: Client, dora: DoctorProfile, monday_9: Slot, suffix: str
) -> None:
    User._base_manager.filter(pk=dora.user_id).update(is_active=False)
    client.force_login(PatientFactory())

    assert client.get(page_url(dora) + suffix).status_code == 404


@pytest.mark.parametrize("suffix", ["", "availability/"])
def test_an_unlisted_doctor_is_not_found(client: Client, dora: DoctorProfile, suffix: str) -> None:
    DoctorProfile._base_manager.filter(pk=dora.pk).update(specialty=None)

    assert client.get(page_url(dora) + suffix).status_code == 404


@pytest.mark.parametrize(
    "path", ["/doctors/nobody/", "/doctors/nobody/availability/", "/doctors/nobody/book/"]
)
def test_an_unknown_slug_is_not_found(client: Client, now: dt.datetime, path: str) -> None:
    client.force_login(PatientFactory())

    assert client.get(path).status_code == 404


@pytest.mark.usefixtures("week")
@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "15 Jun – 28 Jun 2026"), ("de", "15. Jun – 28. Jun 2026")],
)
def test_the_pager_names_the_window_in_the_visitors_language(
    client: Client, dora: DoctorProfile, language: str, label: str
) -> None:
    page = html(client.get(page_url(dora), {"start": "2026-06-15"}, HTTP_ACCEPT_LANGUAGE=language))

    assert f"<strong>{label}</strong>" in page
