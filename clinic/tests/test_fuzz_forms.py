"""Property tests: whatever a client sends to the forms and query strings (dates that do not
exist, ids of nothing, unicode, null bytes, huge and empty values), the answer is never a 500
(the test client raises on one) and a write either happens whole or not at all.

Each example runs in a savepoint rolled back at its end, against the same scene.
"""

from __future__ import annotations

import datetime as dt
import itertools
import string
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlencode

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from hypothesis import event, given
from hypothesis import example as explicit_example
from hypothesis import strategies as st

from accounts.models import DoctorProfile, PatientProfile, User
from accounts.tests.factories import BranchFactory, SpecialtyFactory
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.conftest import NEXT_MONDAY
from scheduling.tests.factories import TimeOffFactory
from scheduling.tests.view_helpers import booked

pytestmark = pytest.mark.django_db

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "None",
    "null",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "2026-06-15",
    "2026-06-15T09:00",
    "24:00",
    "09:60",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "😀",
    "٣٠٠٠٠٠٠٠١",  # Arabic-Indic digits
    "３００-０００-００１",  # full-width digits
    "%00",
    "../../etc/passwd",
    "00000000-0000-0000-0000-000000000000",
]

junk = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(alphabet=string.digits + "-: ", max_size=20),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.uuids().map(str),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    # Huge, cheap to make.
    st.integers(min_value=1_000, max_value=200_000).map(lambda n: "x" * n),
)
near_dates = st.dates(min_value=dt.date(2026, 5, 25), max_value=dt.date(2026, 8, 20)).map(
    dt.date.isoformat
)
times = st.times().map(lambda t: t.strftime("%H:%M"))


def maybe(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly plausible values, so some examples get past validation and write."""
    return st.one_of(valid, valid, junk)


def fields(**strategies: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    """A form's fields, each sometimes missing."""
    return st.fixed_dictionaries({}, optional=strategies)


@contextmanager
def example() -> Iterator[None]:
    """One example: its own savepoint (rolled back) and fresh rate-limit counters."""
    for each in caches.all():
        each.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "patients": PatientProfile.objects.count(),
        "doctors": DoctorProfile.objects.count(),
        "appointments": Appointment.objects.count(),
        "cancelled": Appointment.objects.filter(status="cancelled").count(),
        "slots": Slot.objects.count(),
        "active_slots": Slot.objects.filter(is_active=True).count(),
        "time_off": TimeOff.objects.count(),
    }


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


# --- Registration --------------------------------------------------------------------------


@given(
    data=fields(
        national_id=maybe(st.from_regex(r"\A[0-9 -]{9,12}\Z")),
        full_name=maybe(st.text(min_size=1, max_size=30)),
        email=maybe(st.emails()),
        phone=maybe(st.sampled_from(["+49 30 5550001", "030 5550002", "+1 202 555 0143"])),
        password1=maybe(st.just("copper-kettle-sings-at-dawn")),
        password2=maybe(st.just("copper-kettle-sings-at-dawn")),
        date_of_birth=maybe(st.dates(dt.date(1900, 1, 1), dt.date(2026, 5, 1)).map(str)),
        medical_history=junk,
        specialty=maybe(st.just("SPECIALTY")),
        branch=maybe(st.just("BRANCH")),
        consultation_fee=maybe(st.decimals(0, 10**6, places=2).map(str)),
    ),
    as_doctor=st.booleans(),
)
# Besides the random ones, one valid form of each kind: the write path always runs.
@explicit_example(
    data={
        "national_id": "400 000-001",
        "full_name": "Rita Register",
        "email": "rita@example.com",
        "phone": "+49 30 5550001",
        "password1": "copper-kettle-sings-at-dawn",
        "password2": "copper-kettle-sings-at-dawn",
        "date_of_birth": "1990-01-02",
        "specialty": "SPECIALTY",
        "branch": "BRANCH",
        "consultation_fee": "80",
    },
    as_doctor=True,
).via("the valid doctor application")
def test_registration_never_fails_and_never_half_writes(
    client: Client, data: dict[str, str], as_doctor: bool
) -> None:
    with example():
        SpecialtyFactory(slug="cardiology")
        BranchFactory(slug="riverside")
        before = counts()
        from directory.models import Branch, Specialty

        ids = {"SPECIALTY": Specialty.objects.get().pk, "BRANCH": Branch.objects.get().pk}
        data = {k: str(ids.get(v, v)) for k, v in data.items()}
        response = client.post("/accounts/register/" + ("?as=doctor" if as_doctor else ""), data)
        event(f"answered {response.status_code}")
        diff = changed(before, counts())

        assert response.status_code in (302, 400)
        if response.status_code == 302:
            profile = "doctors" if as_doctor else "patients"
            assert diff == {"users": 1, profile: 1}
            assert User.objects.order_by("-pk").first().is_active is False
        else:
            assert diff == {}


# --- Booking, cancelling, rescheduling -----------------------------------------------------


@given(
    data=fields(date=maybe(near_dates), slot=maybe(st.just("MONDAY_9")), reason=junk),
    query=fields(date=maybe(near_dates), slot=maybe(st.just("MONDAY_9"))),
)
@explicit_example(
    data={"date": "2026-06-15", "slot": "MONDAY_9", "reason": "Check-up"},
    query={"date": "2026-06-15", "slot": "MONDAY_9"},
).via("a valid booking")
def test_booking_never_fails_and_books_whole_or_not_at_all(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot, data: dict, query: dict
) -> None:
    url = f"/doctors/{dora.slug}/book/"
    for form in (data, query):
        for key, value in form.items():
            if value == "MONDAY_9":
                form[key] = str(monday_9.public_id)
    with example():
        client.force_login(patient)
        # 422: the scheduling rules' status for a time that cannot be booked (past, too soon...).
        assert client.get(url, query).status_code in (200, 400, 409, 422)
        before = counts()
        response = client.post(url, data)
        event(f"answered {response.status_code}")
        diff = changed(before, counts())

        assert response.status_code in (302, 400, 409, 422)
        if response.status_code == 302:
            assert diff == {"appointments": 1}
            made = Appointment.objects.get(patient=patient)
            assert made.status == "scheduled"
            assert made.reason == data.get("reason", "").strip()
        else:
            assert diff == {}


@given(data=fields(reason=junk), as_doctor=st.booleans())
def test_cancelling_never_fails_and_cancels_whole_or_not_at_all(
    client: Client,
    patient: User,
    doctor: User,
    monday_9: Slot,
    data: dict,
    as_doctor: bool,
) -> None:
    with example():
        appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
        client.force_login(doctor if as_doctor else patient)
        response = client.post(f"/appointments/{appointment.public_id}/cancel/", data)
        event(f"answered {response.status_code}")
        appointment.refresh_from_db()

        assert response.status_code in (302, 400, 409)
        if response.status_code == 302:
            assert appointment.status == "cancelled"
            assert appointment.cancelled_at is not None
            assert appointment.cancelled_by == (doctor if as_doctor else patient)
        else:
            assert appointment.status == "scheduled"
            assert appointment.cancelled_at is None


@given(
    data=fields(date=maybe(near_dates), slot=maybe(st.just("SLOT")), start=junk),
    query=fields(date=maybe(near_dates), slot=maybe(st.just("SLOT")), start=maybe(near_dates)),
    htmx=st.booleans(),
)
@explicit_example(
    data={"date": "2026-06-10", "slot": "SLOT"}, query={"start": "2026-06-08"}, htmx=False
).via("a valid move")
def test_rescheduling_never_fails_and_moves_whole_or_not_at_all(
    client: Client,
    patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    data: dict,
    query: dict,
    htmx: bool,
) -> None:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with example():
        appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
        wednesday = Slot.objects.create(
            doctor=dora, weekday=2, start_time=dt.time(11), end_time=dt.time(11, 30)
        )
        for form in (data, query):
            for key, value in form.items():
                if value == "SLOT":
                    form[key] = str(wednesday.public_id)
        client.force_login(patient)
        url = f"/appointments/{appointment.public_id}/reschedule/"
        assert client.get(url, query, **headers).status_code in (200, 400, 422)
        response = client.post(url, data, **headers)
        event(f"answered {response.status_code}")
        moved = Appointment.objects.get(pk=appointment.pk)

        assert response.status_code in (302, 400, 409, 422)
        assert Appointment.objects.count() == 1
        if response.status_code == 302:
            assert moved.slot == wednesday
            assert moved.starts_at.date() == moved.date
            assert moved.rescheduled_at is not None
        else:
            assert (moved.slot, moved.date, moved.starts_at) == (
                monday_9,
                NEXT_MONDAY,
                appointment.starts_at,
            )


# --- The doctor's calendar -----------------------------------------------------------------


@given(
    data=fields(
        weekday=maybe(st.integers(0, 6).map(str)),
        start_time=maybe(times),
        end_time=maybe(times),
    )
)
@explicit_example(data={"weekday": "4", "start_time": "08:00", "end_time": "08:30"}).via("valid")
def test_slot_form_never_fails_and_adds_one_slot_or_none(
    client: Client, doctor: User, monday_9: Slot, data: dict
) -> None:
    with example():
        client.force_login(doctor)
        before = counts()
        response = client.post("/dashboard/slots/", data)
        event(f"answered {response.status_code}")
        diff = changed(before, counts())

        assert response.status_code in (302, 400)
        if response.status_code == 302:
            assert diff == {"slots": 1, "active_slots": 1}
        else:
            assert diff == {}


@given(
    data=fields(
        start_date=maybe(near_dates),
        end_date=maybe(near_dates),
        start_time=st.one_of(times, junk),
        end_time=st.one_of(times, junk),
        reason=junk,
        cancel_booked=st.sampled_from(["on", "", "yes", "0"]),
    )
)
@explicit_example(
    data={
        "start_date": "2026-06-08",
        "start_time": "09:15",
        "end_time": "13:00",
        "cancel_booked": "on",
    }
).via("a part-day absence over a booking, cancelling it")
@explicit_example(
    data={"start_date": "2026-06-08", "end_date": "2026-06-09", "cancel_booked": "on"}
).via("time off over a booked day, cancelling it")
@explicit_example(data={"start_date": "2026-07-01", "end_date": "2026-07-02"}).via("free days")
def test_time_off_form_never_fails_and_writes_whole_or_not_at_all(
    client: Client, doctor: User, patient: User, monday_9: Slot, data: dict
) -> None:
    with example():
        appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
        client.force_login(doctor)
        before = counts()
        response = client.post("/dashboard/time-off/", data)
        event(f"answered {response.status_code}")
        diff = changed(before, counts())
        appointment.refresh_from_db()

        assert response.status_code in (302, 400, 409)
        if response.status_code == 302:
            period = TimeOff.objects.get()
            covers = period.blocks(NEXT_MONDAY, dt.time(9), dt.time(9, 30))
            assert diff == ({"time_off": 1, "cancelled": 1} if covers else {"time_off": 1})
            assert appointment.status == ("cancelled" if covers else "scheduled")
        else:
            assert diff == {}
            assert appointment.status == "scheduled"


ranges = st.one_of(
    st.sampled_from(["09:00-12:00", "9-12, 14-17", "08:30-09:10", "12-9", "9-12, 11-13"]),
    junk,
)


@given(
    data=fields(
        monday=maybe(ranges),
        tuesday=maybe(ranges),
        saturday=maybe(ranges),
        visit_minutes=maybe(st.sampled_from(["10", "15", "20", "30", "45", "60"])),
        action=st.sampled_from(["save", "preview", "", "junk"]),
        plan=junk,
    )
)
@explicit_example(data={"monday": "08:00-12:00", "visit_minutes": "20", "action": "save"}).via(
    "valid: Mondays at 20 minutes, the 09:00 slot retired"
)
def test_working_hours_never_fail_and_change_the_week_whole_or_not_at_all(
    client: Client, doctor: User, monday_9: Slot, data: dict
) -> None:
    with example():
        client.force_login(doctor)
        before = set(Slot.objects.filter(is_active=True).values_list("pk", flat=True))
        response = client.post("/dashboard/hours/", data)
        event(f"answered {response.status_code}")
        after = list(Slot.objects.filter(is_active=True).order_by("weekday", "start_time"))

        assert response.status_code in (200, 302, 400, 409)
        if response.status_code != 302:
            assert {s.pk for s in after} == before
        for a, b in itertools.pairwise(after):
            assert a.weekday != b.weekday or a.end_time <= b.start_time, (a, b)


@given(
    data=fields(
        date=maybe(near_dates),
        ranges=maybe(ranges),
        visit_minutes=maybe(st.sampled_from(["10", "20", "30"])),
    )
)
@explicit_example(data={"date": "2026-06-06", "ranges": "09:00-12:00", "visit_minutes": "20"}).via(
    "valid: a Saturday morning"
)
def test_extra_hours_never_fail_and_add_whole_or_not_at_all(
    client: Client, doctor: User, monday_9: Slot, data: dict
) -> None:
    with example():
        client.force_login(doctor)
        before = counts()
        response = client.post("/dashboard/extra-hours/", data)
        event(f"answered {response.status_code}")
        diff = changed(before, counts())

        assert response.status_code in (302, 400)
        if response.status_code == 302:
            made = Slot.objects.filter(date__isnull=False)
            assert made.exists()
            assert diff == {"slots": made.count(), "active_slots": made.count()}
        else:
            assert diff == {}


@given(date=junk, page=st.sampled_from(["/dashboard/week/", "/dashboard/print/"]))
def test_the_doctors_calendar_pages_take_any_date(
    client: Client, doctor: User, date: str, page: str
) -> None:
    with example():
        client.force_login(doctor)
        response = client.get(page, {"date": date})

        assert response.status_code in (200, 400)


@given(data=fields(accepting=junk))
def test_accepting_toggle_never_fails(client: Client, doctor: User, data: dict) -> None:
    with example():
        client.force_login(doctor)
        before = DoctorProfile.objects.get(user=doctor).accepting_bookings
        response = client.post("/dashboard/accepting/", data)
        accepting = DoctorProfile.objects.get(user=doctor).accepting_bookings
        if any("\x00" in key + value for key, value in data.items()):
            # A NUL anywhere is refused at the door (common/badinput.py), nothing changed.
            assert response.status_code == 400
            assert accepting is before
        else:
            assert response.status_code == 302
            assert accepting is (data.get("accepting") == "1")


# --- The contact form ----------------------------------------------------------------------


@given(
    data=fields(
        name=maybe(st.text(min_size=1, max_size=40)),
        email=maybe(st.emails()),
        phone=junk,
        subject=maybe(st.text(min_size=1, max_size=40)),
        message=maybe(st.text(min_size=10, max_size=300)),
    )
)
@explicit_example(
    data={
        "name": "Hanna Hoffmann",
        "email": "hanna@example.com",
        "subject": "Parking",
        "message": "Is there parking for wheelchair users?",
    }
).via("a valid message")
def test_contact_form_never_fails_and_stores_whole_messages(client: Client, data: dict) -> None:
    from clinic.models import ContactMessage

    with example():
        response = client.post("/contact/", data)
        event(f"answered {response.status_code}")

        assert response.status_code in (302, 400)
        stored = list(ContactMessage.objects.all())
        if response.status_code == 302:
            assert len(stored) == 1
            assert all((stored[0].name, stored[0].email, stored[0].subject))
            assert len(stored[0].message) >= 10
        else:
            assert stored == []


# --- Query strings and paths ---------------------------------------------------------------


@given(
    query=fields(specialty=junk, branch=junk, q=junk, page=junk, start=junk, date=junk, slot=junk),
    page=st.sampled_from(
        [
            "/",
            "/doctors/",
            "/doctors/{slug}/",
            "/doctors/{slug}/availability/",
            "/doctors/{slug}/book/",
            "/appointments/",
            "/appointments/{appointment}/",
            "/appointments/{appointment}/reschedule/",
            "/dashboard/",
            "/dashboard/slots/",
            "/accounts/register/",
        ]
    ),
    htmx=st.booleans(),
)
def test_query_strings_never_cause_a_server_error(
    client: Client,
    patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    query: dict,
    page: str,
    htmx: bool,
) -> None:
    with example():
        appointment = booked(monday_9, NEXT_MONDAY, patient=patient)
        TimeOffFactory(doctor=dora)
        client.force_login(patient)
        path = page.format(slug=dora.slug, appointment=appointment.public_id)
        response = client.get(
            f"{path}?{urlencode(query)}", **({"HTTP_HX_REQUEST": "true"} if htmx else {})
        )

        assert response.status_code < 500
        assert response.status_code in (200, 302, 400, 403, 404, 409)


@given(segment=junk, section=st.sampled_from(["appointments", "doctors", "dashboard/slots"]))
@explicit_example(segment="#", section="appointments").via("a fragment, not a segment")
@explicit_example(segment="?x=1", section="dashboard/slots").via("a query, not a segment")
def test_odd_path_segments_are_not_found(
    client: Client, patient: User, segment: str, section: str
) -> None:
    with example():
        client.force_login(patient)
        # One path segment, whatever it holds ("#", "?" and "/" included, percent-encoded).
        response = client.get(f"/{section}/{quote(segment, safe='')}/remove/")
        event(f"answered {response.status_code}")

        # A NUL is refused at the door (common/badinput.py), before any URL is looked up.
        assert response.status_code in ((400,) if "\x00" in segment else (404, 405))
