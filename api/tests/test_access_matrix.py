"""Who may call what: every API operation for each of the clinic's actors (anonymous,
patients A and B, doctors X and Y, the admin, an inactive user, the front desk of doctor X's
branch), the status each gets, the
database state after, and that nobody reads another person's data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client

from accounts.models import Dependant, DoctorProfile, User
from accounts.tests.factories import front_desk
from api.api import api
from api.tests.conftest import API, ApiClient
from scheduling import clock
from scheduling.models import Appointment, Slot, WaitlistEntry, WaitlistOffer
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory

ACTORS = ("anonymous", "alice", "bob", "dora", "otto", "admin", "inactive", "fay")
# Alice's appointments are seen by Alice, her doctor Dora, the admin and Fay (the front desk
# of Dora's branch), by nobody else.
PARTIES = {"alice", "dora", "admin", "fay"}


@dataclass
class Scene:
    users: dict[str, User | None]
    appointment: Appointment  # Alice with Dora next Monday 09:00
    today: Appointment  # Alice with Dora today 09:00 (it has started: now is 10:00)
    free_slot: Slot  # Dora's Mondays 10:00
    mia: Dependant  # Alice's daughter
    waiting: WaitlistEntry  # Alice on Dora's waitlist
    offer: WaitlistOffer  # Dora's Wednesday 15:00 next week, held for Alice


@pytest.fixture
def scene(
    now: dt.datetime,
    patient: User,
    other_patient: User,
    dora: DoctorProfile,
    otto: DoctorProfile,
    admin_user: User,
    inactive_user: User,
    alices_appointment: Appointment,
    monday_10: Slot,
) -> Scene:
    early = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(8), end_time=dt.time(8, 30))
    today = AppointmentFactory(patient=patient, slot=early, date=TODAY)
    waiting = WaitlistEntry.objects.create(
        patient=patient,
        doctor=dora,
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=20),
    )
    wednesday = SlotFactory(
        doctor=dora, weekday=2, start_time=dt.time(15), end_time=dt.time(15, 30)
    )
    held = dt.date(2026, 6, 10)
    window = clock.slot_window(held, dt.time(15), dt.time(15, 30))
    assert window is not None
    offer = WaitlistOffer.objects.create(
        entry=waiting,
        doctor=dora,
        slot=wednesday,
        date=held,
        starts_at=window[0],
        ends_at=window[1],
        expires_at=now + dt.timedelta(minutes=30),
    )
    return Scene(
        users={
            "anonymous": None,
            "alice": patient,
            "bob": other_patient,
            "dora": dora.user,
            "otto": otto.user,
            "admin": admin_user,
            "inactive": inactive_user,
            "fay": front_desk(dora.branch),
        },
        appointment=alices_appointment,
        today=today,
        free_slot=monday_10,
        mia=Dependant.objects.create(
            guardian=patient, full_name="Mia Patient", date_of_birth=dt.date(2018, 3, 4)
        ),
        waiting=waiting,
        offer=offer,
    )


def _status(appointment: Appointment) -> str:
    appointment.refresh_from_db()
    return appointment.status


@dataclass
class Route:
    method: str
    template: str  # as in the OpenAPI schema, under /api/v1
    expected: dict[str, int]
    path: Callable[[Scene], str] = lambda s: ""
    body: Callable[[Scene], object] | None = None
    # The change a successful call makes, read from the database (None: read-only).
    changed: Callable[[Scene], bool] | None = None
    private: bool = field(default=True)  # shows Alice's appointment to its parties only


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: int, **others: int) -> dict[str, int]:
    signed = (*ACTORS[1:6], "fay")
    return {"anonymous": 401, "inactive": 401, **dict.fromkeys(signed, status), **others}


def _patients(status: int) -> dict[str, int]:
    return signed_in(status, dora=403, otto=403, admin=403, fay=403)


def _alices(status: int) -> dict[str, int]:
    return signed_in(404, alice=status)


def appt(s: Scene) -> str:
    return str(s.appointment.public_id)


def todays(s: Scene) -> str:
    return str(s.today.public_id)


ROUTES = [
    Route(
        "POST", "/auth/token", everyone(401), body=lambda s: {"national_id": "1", "password": "x"}
    ),
    Route("POST", "/auth/refresh", everyone(401), body=lambda s: {"refresh": "not-a-token"}),
    Route("GET", "/me", signed_in(200)),
    Route("GET", "/specialties", everyone(200), private=False),
    Route("GET", "/branches", everyone(200), private=False),
    Route("GET", "/services", everyone(200), private=False),
    Route("GET", "/doctors", everyone(200), private=False),
    Route("GET", "/doctors/{slug}", everyone(200), path=lambda s: "dora-doctor", private=False),
    Route(
        "GET",
        "/doctors/{slug}/availability",
        everyone(200),
        path=lambda s: "dora-doctor",
        private=False,
    ),
    Route("GET", "/appointments", signed_in(200)),
    Route(
        "POST",
        "/appointments",
        signed_in(201, dora=403, otto=403, admin=403, fay=403),
        body=lambda s: {
            "doctor": "dora-doctor",
            "slot": str(s.free_slot.public_id),
            "date": NEXT_MONDAY.isoformat(),
        },
        changed=lambda s: Appointment.objects.filter(slot=s.free_slot).exists(),
    ),
    Route(
        "GET",
        "/appointments/{appointment_id}",
        signed_in(200, bob=404, otto=404),
        path=appt,
    ),
    Route(
        "POST",
        "/appointments/{appointment_id}/cancel",
        signed_in(200, bob=404, otto=404),
        path=appt,
        body=lambda s: {"reason": "The doctor is ill."},
        changed=lambda s: _status(s.appointment) == "cancelled",
    ),
    Route(
        "POST",
        "/appointments/{appointment_id}/reschedule",
        signed_in(200, bob=404, otto=404),
        path=appt,
        body=lambda s: {"slot": str(s.free_slot.public_id), "date": NEXT_MONDAY.isoformat()},
        changed=lambda s: Appointment.objects.get(pk=s.appointment.pk).slot == s.free_slot,
    ),
    Route(
        "POST",
        "/appointments/{appointment_id}/check-in",
        signed_in(200, alice=403, bob=404, otto=404),
        path=todays,
        changed=lambda s: _status(s.today) == "checked_in",
    ),
    Route(
        "POST",
        "/appointments/{appointment_id}/complete",
        signed_in(200, alice=403, bob=404, otto=404, fay=403),
        path=todays,
        changed=lambda s: _status(s.today) == "completed",
    ),
    Route(
        "POST",
        "/appointments/{appointment_id}/no-show",
        signed_in(200, alice=403, bob=404, otto=404),
        path=todays,
        changed=lambda s: _status(s.today) == "no_show",
    ),
    Route("GET", "/doctor/queue", signed_in(403, dora=200, otto=200)),
    Route("GET", "/doctor/accepting-bookings", signed_in(403, dora=200, otto=200)),
    Route(
        "PUT",
        "/doctor/accepting-bookings",
        signed_in(403, dora=200, otto=200),
        body=lambda s: {"accepting": False},
        changed=lambda s: (
            not DoctorProfile.objects.get(user=s.users["dora"]).accepting_bookings
            or not DoctorProfile.objects.get(user=s.users["otto"]).accepting_bookings
        ),
    ),
    # The front desk finds a patient (any branch's: patients are the clinic's), as admins
    # can; for anyone else the search is a 403, whatever it would find.
    Route(
        "POST",
        "/patients/search",
        signed_in(403, admin=200, fay=200),
        body=lambda s: {"q": "Alice"},
    ),
    Route("GET", "/admin/users/pending", signed_in(403, admin=200)),
    Route(
        "POST",
        "/admin/users/{user_id}/activate",
        signed_in(403, admin=200),
        path=lambda s: str(s.users["inactive"].public_id),
        changed=lambda s: User.objects.get(pk=s.users["inactive"].pk).is_active,
    ),
    Route(
        "POST",
        "/admin/users/{user_id}/deactivate",
        signed_in(403, admin=200),
        path=lambda s: str(s.users["bob"].public_id),
        changed=lambda s: not User.objects.get(pk=s.users["bob"].pk).is_active,
    ),
    Route("GET", "/me/family", _patients(200)),
    Route(
        "POST",
        "/me/family",
        _patients(201),
        body=lambda s: {"full_name": "Noah Newchild", "date_of_birth": "2021-02-03"},
        changed=lambda s: Dependant.objects.filter(full_name="Noah Newchild").exists(),
    ),
    Route(
        "POST",
        "/me/family/{dependant_id}/remove",
        _alices(200),
        path=lambda s: str(s.mia.public_id),
        changed=lambda s: not Dependant.objects.get(pk=s.mia.pk).is_active,
    ),
    Route("GET", "/waitlist", _patients(200)),
    Route(
        "POST",
        "/waitlist",
        _patients(201),
        body=lambda s: {
            "doctor": s.users["otto"].doctor_profile.slug,  # type: ignore[union-attr]
            "start_date": "2026-06-02",
            "end_date": "2026-06-20",
        },
        changed=lambda s: WaitlistEntry.objects.exclude(pk=s.waiting.pk).exists(),
    ),
    Route(
        "POST",
        "/waitlist/{entry_id}/leave",
        _alices(200),
        path=lambda s: str(s.waiting.public_id),
        changed=lambda s: WaitlistEntry.objects.get(pk=s.waiting.pk).status == "left",
    ),
    Route(
        "POST",
        "/waitlist/offers/{offer_id}/claim",
        _alices(201),
        path=lambda s: str(s.offer.public_id),
        changed=lambda s: WaitlistOffer.objects.get(pk=s.offer.pk).status == "booked",
    ),
]


def _url(route: Route, scene: Scene) -> str:
    value = route.path(scene)
    url = route.template
    names = (
        "{slug}",
        "{appointment_id}",
        "{user_id}",
        "{dependant_id}",
        "{entry_id}",
        "{offer_id}",
    )
    for name in names:
        url = url.replace(name, value)
    return url


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_access(route: Route, actor: str, scene: Scene) -> None:
    user = scene.users[actor]
    # The inactive user holds a token issued while it was valid; it no longer opens anything.
    client = ApiClient(user)
    body = route.body(scene) if route.body else None
    response = client.request(route.method, _url(route, scene), json=body)

    expected = route.expected[actor]
    assert response.status_code == expected, response.content
    assert response["Content-Type"].startswith("application/json")
    if expected >= 400:
        assert set(response.json()) >= {"detail", "code"}
    if route.changed is not None:
        assert route.changed(scene) is (expected < 300)
    if route.private and actor not in PARTIES:
        content = response.content.decode()
        assert scene.users["alice"].national_id not in content
        assert str(scene.appointment.public_id) not in content
        assert str(scene.today.public_id) not in content
        assert scene.users["alice"].email not in content


def test_every_api_operation_has_a_row_in_the_matrix() -> None:
    schema = api.get_openapi_schema()
    operations = {
        (method.upper(), path.removeprefix(API))
        for path, item in schema["paths"].items()
        for method in item
    }
    assert operations == {(r.method, r.template) for r in ROUTES}


def test_a_session_signed_in_browser_may_call_the_api(patient: User, scene: Scene) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)

    listed = client.get(f"{API}/appointments")
    assert listed.status_code == 200
    assert listed.json()["items"][0]["id"] == str(scene.appointment.public_id)

    # Unsafe methods need the CSRF token, as on the pages.
    url = f"{API}/appointments/{scene.appointment.public_id}/cancel"
    refused = client.post(url, {}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert _status(scene.appointment) == "scheduled"

    client.get("/accounts/profile/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    done = client.post(url, {}, content_type="application/json", headers={"X-CSRFToken": token})
    assert done.status_code == 200
    assert _status(scene.appointment) == "cancelled"


def test_an_anonymous_post_is_a_401_not_a_csrf_403(scene: Scene) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{API}/appointments", {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
