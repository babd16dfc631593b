"""Who may open or post to every URL of the project: one matrix over every URL pattern.

`test_every_url_pattern_has_a_row` walks the whole URLconf (Django admin included) and fails
for a pattern without a row, so a new page cannot ship without its access rules. Seven actors:
anonymous; Alice and Bob, two patients; Dora and Otto, two doctors (Alice is Dora's patient,
Bob is Otto's); Ada, an admin; Ivy, a deactivated patient with a live session cookie; Fay,
the front desk of Dora's branch (Otto works at another).

Each case asserts, for each actor: the status; for a refused or read-only request, that the
database is exactly as before (and for an allowed write, that it changed, so the row cannot
pass by accident); and that the answer contains nobody else's personal data (names of
patients, national IDs, e-mails, phones, medical history). Each actor's request runs in a
savepoint that is rolled back, so every actor meets the same scene.

Django admin's generated pages follow one rule (non-admins are sent to the admin login; the
admin's answer per model is in ADMIN_MODELS), checked for every registered model.
`test_state_changing_requests_without_a_csrf_token_are_refused` posts every writing case again
without a CSRF token: 403 for everyone, nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Dependant, DoctorProfile, PatientProfile, User
from accounts.tests.factories import DoctorFactory, PatientFactory, front_desk
from audit.models import AuditEntry
from clinic.models import ContactMessage
from directory.models import Service
from notifications.models import WebhookEndpoint
from scheduling import clock, services
from scheduling.models import Appointment, Slot, TimeOff, WaitlistEntry, WaitlistOffer
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import TimeOffFactory
from scheduling.tests.view_helpers import booked, slot_at

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "alice", "bob", "dora", "otto", "admin", "ivy", "fay")
Expected = tuple[int, int, int, int, int, int, int, int]

PUBLIC: Expected = (200, 200, 200, 200, 200, 200, 200, 200)
ANONYMOUS_ONLY: Expected = (200, 302, 302, 302, 302, 302, 200, 302)
SIGNED_IN: Expected = (302, 200, 200, 200, 200, 200, 302, 200)
ALL_REDIRECT: Expected = (302, 302, 302, 302, 302, 302, 302, 302)
PATIENTS: Expected = (302, 200, 200, 403, 403, 403, 302, 403)
PATIENTS_POST: Expected = (302, 302, 302, 403, 403, 403, 302, 403)
MY_APPOINTMENTS: Expected = (302, 200, 200, 302, 302, 302, 302, 302)
# Alice's appointment with Dora: its patient, its doctor and the admin; a 404 for the others
# (a 403 would confirm that it exists).
PARTIES: Expected = (302, 200, 404, 200, 404, 200, 302, 200)
PARTIES_POST: Expected = (302, 302, 404, 302, 404, 302, 302, 302)
DOCTORS: Expected = (302, 403, 403, 200, 200, 403, 302, 403)
DOCTORS_POST: Expected = (302, 403, 403, 302, 302, 403, 302, 403)
# Dora's own slot, time off or appointment: Otto gets a 404.
OWN_DOCTOR_POST: Expected = (302, 403, 403, 302, 404, 403, 302, 403)
# The doctor's notes on Alice's appointment with Dora: Dora and the admin write them.
NOTES_POST: Expected = (302, 404, 404, 302, 404, 302, 302, 404)
# The JSON API answers 401 where a page would redirect to the login.
API_SIGNED_IN: Expected = (401, 200, 200, 200, 200, 200, 401, 200)
API_PARTIES: Expected = (401, 200, 404, 200, 404, 200, 401, 200)
API_DOCTORS: Expected = (401, 403, 403, 200, 200, 403, 401, 403)
API_ADMINS: Expected = (401, 403, 403, 403, 403, 200, 401, 403)
API_FORM_POST: Expected = (401, 400, 400, 400, 400, 400, 401, 400)
API_PATIENTS: Expected = (401, 200, 200, 403, 403, 403, 401, 403)
# An id nobody holds: a 404 for everyone signed in.
API_NOBODYS: Expected = (401, 404, 404, 404, 404, 404, 401, 404)
API_VISIT: Expected = (401, 404, 403, 404, 409, 409, 401, 404)
API_ADMIN_POST: Expected = (401, 403, 403, 403, 403, 404, 401, 403)
# Fay, the front desk of Dora's branch: her pages are hers alone.
FRONT_DESK: Expected = (302, 403, 403, 403, 403, 403, 302, 200)
FRONT_DESK_POST: Expected = (302, 403, 403, 403, 403, 403, 302, 302)
# Something of Otto's branch: not Fay's to see.
OTHER_BRANCH: Expected = (302, 403, 403, 403, 403, 403, 302, 404)
NOBODY = "5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30"


# --- The scene -----------------------------------------------------------------------------


@dataclass
class Scene:
    users: dict[str, User | None]
    dora: DoctorProfile
    otto: DoctorProfile
    monday_9: Slot
    spare_slot: Slot
    time_off: TimeOff
    appointment: Appointment  # Alice with Dora, next Monday 09:00
    today: Appointment  # Alice with Dora, today 14:00
    bobs: Appointment  # Bob with Otto, next Monday 10:00
    private: dict[str, set[str]] = field(default_factory=dict)
    medical: set[str] = field(default_factory=set)

    def secrets_hidden_from(self, actor: str) -> set[str]:
        """What must not appear in this actor's answers: everyone else's personal data."""
        visible = {
            "anonymous": set(),
            "alice": {"alice"},
            "bob": {"bob"},
            "dora": {"dora", "alice"},
            "otto": {"otto", "bob"},
            "admin": set(self.private),
            "ivy": set(),  # a deactivated account is signed out: she sees what anyone sees
            # The front desk finds any patient by name, ID, phone or e-mail, but never reads
            # a medical history.
            "fay": {"fay", "alice", "bob", "ivy"},
        }[actor]
        hidden = {
            s for person, strings in self.private.items() if person not in visible for s in strings
        }
        return hidden | self.medical if actor == "fay" else hidden


def _patient(name: str, national_id: str, history: str, n: int, **kwargs: Any) -> User:
    user = PatientFactory(
        full_name=name,
        national_id=national_id,
        email=f"{name.split()[0].lower()}.private@example.com",
        # Outside the factories' sequence (+49 30 7nnnnnn counts from 0): never the same number.
        phone=f"+49 30 79{n:05d}",
        **kwargs,
    )
    profile = user.patient_profile
    profile.medical_history = history
    profile.save()
    return user


@pytest.fixture
def scene(dora: DoctorProfile, monday_9: Slot, admin_user: User) -> Scene:
    alice = _patient("Alice Patient", "300000001", "Penicillin allergy of Alice", 11)
    bob = _patient("Bob Patient", "300000003", "Asthma of Bob", 12)
    ivy = _patient("Ivy Inactive", "300000009", "Migraine of Ivy", 13)
    accounts.deactivate(user=ivy)
    otto = DoctorFactory(
        full_name="Otto Other",
        national_id="200000002",
        email="otto.private@example.com",
        phone="+49 30 7100002",
    ).doctor_profile
    otto_10 = slot_at(otto, 0, dt.time(10))
    # One booking through the service, so the outbox has an event and deliveries to list.
    bobs = services.book(patient=bob, doctor=otto, slot=otto_10, date=NEXT_MONDAY)
    WebhookEndpoint.objects.create(name="n8n", url="https://n8n.example/webhook/clinic")
    # A priced service Dora offers: its admin pages are opened below.
    Service.objects.create(branch=dora.branch, name="Check-up", price="40.00").doctors.add(dora)
    # A visitor's message to the clinic: for the admins' eyes only.
    ContactMessage.objects.create(
        name="Vera Visitor",
        email="vera.private@example.com",
        subject="Parking",
        message="Is there parking at Riverside?",
    )
    fay = front_desk(dora.branch, email="fay.private@example.com", phone="+49 30 7100009")
    s = Scene(
        users={
            "anonymous": None,
            "alice": alice,
            "bob": bob,
            "dora": dora.user,
            "otto": otto.user,
            "admin": admin_user,
            "ivy": ivy,
            "fay": fay,
        },
        dora=dora,
        otto=otto,
        monday_9=monday_9,
        spare_slot=slot_at(dora, 2, dt.time(15)),
        time_off=TimeOffFactory(doctor=dora, start_date=dt.date(2026, 7, 1)),
        appointment=booked(monday_9, NEXT_MONDAY, patient=alice),
        today=booked(slot_at(dora, 0, dt.time(14)), TODAY, patient=alice),
        bobs=bobs,
    )
    for person, user in (("alice", alice), ("bob", bob), ("ivy", ivy)):
        s.private[person] = {
            user.full_name,
            user.national_id,
            user.email,
            user.phone,
            user.patient_profile.medical_history,
        }
        s.medical.add(user.patient_profile.medical_history)
    staff = (("dora", dora.user), ("otto", otto.user), ("admin", admin_user), ("fay", fay))
    for person, user in staff:
        # Doctors' names are public (the directory); their own contact details are not.
        s.private[person] = {user.national_id, user.email, user.phone}
    s.private["admin"].add(admin_user.full_name)
    # Dora's notes on Alice's visit: for Dora and the admins only, not for Alice herself.
    services.set_doctor_notes(
        appointment=s.appointment, by=dora.user, notes="Private note of Dora on Alice"
    )
    s.private["dora"].add("Private note of Dora on Alice")
    s.private["visitor"] = {"Vera Visitor", "vera.private@example.com"}
    # Alice's daughter, and Alice on Dora's waitlist with a time held for her (a Wednesday
    # at 15:00, the spare slot).
    mia = Dependant.objects.create(
        guardian=alice, full_name="Mia Private", date_of_birth=dt.date(2018, 3, 4)
    )
    s.private["alice"].add(mia.full_name)
    entry = WaitlistEntry.objects.create(
        patient=alice,
        doctor=dora,
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=20),
    )
    held = dt.date(2026, 6, 10)
    starts_at, ends_at = clock.slot_window(held, dt.time(15), dt.time(15, 30))  # type: ignore[misc]
    WaitlistOffer.objects.create(
        entry=entry,
        doctor=dora,
        slot=s.spare_slot,
        date=held,
        starts_at=starts_at,
        ends_at=ends_at,
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return s


def mias(s: Scene) -> str:
    return str(Dependant.objects.get(full_name="Mia Private").public_id)


def alices_wait(s: Scene) -> str:
    return str(WaitlistEntry.objects.get().public_id)


def alices_offer(s: Scene) -> str:
    return str(WaitlistOffer.objects.get().public_id)


def waiting_dates(s: Scene) -> dict[str, str]:
    return {"start_date": "2026-06-02", "end_date": "2026-06-20"}


def snapshot() -> dict[str, Any]:
    """Everything a request could change (the audit trail aside: refusals are recorded)."""
    return {
        "appointments": set(
            Appointment.objects.values_list(
                "public_id",
                "status",
                "slot_id",
                "date",
                "checked_in_at",
                "cancelled_at",
                "doctor_notes",
            )
        ),
        "slots": set(Slot.objects.values_list("public_id", "is_active")),
        "time_off": set(
            TimeOff.objects.values_list("public_id", "is_active", "reason", "start_time")
        ),
        "doctors": set(
            DoctorProfile.objects.values_list(
                "slug", "accepting_bookings", "bio", "consultation_fee"
            )
        ),
        "users": set(
            User.objects.values_list(
                "national_id",
                "full_name",
                "email",
                "phone",
                "role",
                "is_active",
                "password",
                "language",
            )
        ),
        "histories": set(PatientProfile.objects.values_list("user_id", "medical_history")),
        "webhooks": set(WebhookEndpoint.objects.values_list("url", "is_active")),
        "family": set(Dependant.objects.values_list("public_id", "is_active", "user_id")),
        "waitlist": set(WaitlistEntry.objects.values_list("public_id", "status")),
        "offers": set(WaitlistOffer.objects.values_list("public_id", "status")),
        "contact_messages": ContactMessage.objects.count(),
    }


# --- The matrix ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[Scene], str]
    expected: Expected
    data: Callable[[Scene], dict[str, Any]] = lambda s: {}
    # An allowed 302 answer to this request must have changed the database.
    writes: bool = False
    # Anyone may write through it, signed in or not (the contact form).
    public: bool = False


def free_time(s: Scene) -> dict[str, str]:
    return {"date": "2026-06-15", "slot": str(s.monday_9.public_id)}


def appt(s: Scene) -> str:
    return f"/appointments/{s.appointment.public_id}"


def alice_at_desk(s: Scene) -> str:
    return f"/front-desk/patients/{s.users['alice'].public_id}"  # type: ignore[union-attr]


def walk_in(s: Scene) -> dict[str, str]:
    return {
        "national_id": "300-000-077",
        "full_name": "Walter Walkin",
        "email": "walter@example.com",
        "phone": "+49 30 7000077",
        "date_of_birth": "1970-03-04",
    }


MATRIX: dict[str, list[Case]] = {
    "home": [Case("get", lambda s: "/", PUBLIC)],
    "about": [Case("get", lambda s: "/about/", PUBLIC)],
    "contact": [
        Case("get", lambda s: "/contact/", PUBLIC),
        Case(
            "post",
            lambda s: "/contact/",
            ALL_REDIRECT,
            data=lambda s: {
                "name": "Hanna Hoffmann",
                "email": "hanna@example.com",
                "subject": "Parking",
                "message": "Is there parking for wheelchair users?",
            },
            writes=True,
            public=True,
        ),
        Case("post", lambda s: "/contact/", (400,) * 8),
    ],
    "health": [Case("get", lambda s: "/health/", PUBLIC)],
    # Anyone may choose a language (a cookie); a signed-in person's choice is kept on the
    # account too.
    "set-language": [
        Case("get", lambda s: "/i18n/setlang/", (405,) * 8),
        Case(
            "post",
            lambda s: "/i18n/setlang/",
            ALL_REDIRECT,
            data=lambda s: {"language": "de", "next": "/about/"},
            writes=True,
        ),
    ],
    "accounts:register": [
        Case("get", lambda s: "/accounts/register/", ANONYMOUS_ONLY),
        Case("get", lambda s: "/accounts/register/?as=doctor", ANONYMOUS_ONLY),
        Case("post", lambda s: "/accounts/register/", (400, 302, 302, 302, 302, 302, 400, 302)),
    ],
    "accounts:register-done": [Case("get", lambda s: "/accounts/register/done/", PUBLIC)],
    "accounts:login": [
        Case("get", lambda s: "/accounts/login/", ANONYMOUS_ONLY),
        Case("post", lambda s: "/accounts/login/", ANONYMOUS_ONLY),
    ],
    "accounts:logout": [
        Case("get", lambda s: "/accounts/logout/", (405,) * 8),
        Case("post", lambda s: "/accounts/logout/", ALL_REDIRECT),
    ],
    "accounts:after-login": [Case("get", lambda s: "/accounts/welcome/", ALL_REDIRECT)],
    "accounts:profile": [
        Case("get", lambda s: "/accounts/profile/", SIGNED_IN),
        Case("post", lambda s: "/accounts/profile/", (302, 400, 400, 400, 400, 400, 302, 400)),
    ],
    "accounts:password-change": [
        Case("get", lambda s: "/accounts/password_change/", SIGNED_IN),
        Case("post", lambda s: "/accounts/password_change/", SIGNED_IN),
    ],
    "accounts:password-change-done": [
        Case("get", lambda s: "/accounts/password_change/done/", SIGNED_IN)
    ],
    "accounts:password-reset": [
        Case("get", lambda s: "/accounts/password_reset/", PUBLIC),
        Case(
            "post",
            lambda s: "/accounts/password_reset/",
            ALL_REDIRECT,
            data=lambda s: {"email": "nobody@example.com"},
        ),
    ],
    "accounts:password-reset-done": [
        Case("get", lambda s: "/accounts/password_reset/done/", PUBLIC)
    ],
    "accounts:password-reset-confirm": [
        Case("get", lambda s: "/accounts/reset/MQ/not-a-token/", PUBLIC),
        Case(
            "post",
            lambda s: "/accounts/reset/MQ/not-a-token/",
            PUBLIC,
            data=lambda s: {"new_password1": "x", "new_password2": "x"},
        ),
    ],
    "accounts:password-reset-complete": [Case("get", lambda s: "/accounts/reset/done/", PUBLIC)],
    "directory:doctor-list": [
        Case("get", lambda s: "/doctors/", PUBLIC),
        Case("get", lambda s: "/doctors/?q=Patient", PUBLIC),
    ],
    "scheduling:doctor": [Case("get", lambda s: f"/doctors/{s.dora.slug}/", PUBLIC)],
    "scheduling:availability": [
        Case("get", lambda s: f"/doctors/{s.dora.slug}/availability/", PUBLIC)
    ],
    "scheduling:book": [
        Case("get", lambda s: f"/doctors/{s.dora.slug}/book/", PATIENTS, data=free_time),
        Case("post", lambda s: f"/doctors/{s.dora.slug}/book/", PATIENTS_POST, free_time, True),
    ],
    "scheduling:my-appointments": [Case("get", lambda s: "/appointments/", MY_APPOINTMENTS)],
    "scheduling:appointment": [Case("get", lambda s: f"{appt(s)}/", PARTIES)],
    "scheduling:cancel": [
        Case("get", lambda s: f"{appt(s)}/cancel/", PARTIES),
        Case(
            "post",
            lambda s: f"{appt(s)}/cancel/",
            PARTIES_POST,
            data=lambda s: {"reason": "The clinic is closed."},
            writes=True,
        ),
    ],
    "scheduling:reschedule": [
        Case("get", lambda s: f"{appt(s)}/reschedule/", PARTIES),
        Case("post", lambda s: f"{appt(s)}/reschedule/", PARTIES_POST, free_time, True),
    ],
    "scheduling:dashboard": [Case("get", lambda s: "/dashboard/", DOCTORS)],
    "scheduling:slots": [
        Case("get", lambda s: "/dashboard/slots/", DOCTORS),
        Case(
            "post",
            lambda s: "/dashboard/slots/",
            DOCTORS_POST,
            data=lambda s: {"weekday": "4", "start_time": "08:00", "end_time": "08:30"},
            writes=True,
        ),
    ],
    "scheduling:time-off": [
        Case("get", lambda s: "/dashboard/time-off/", DOCTORS),
        Case(
            "post",
            lambda s: "/dashboard/time-off/",
            DOCTORS_POST,
            data=lambda s: {"start_date": "2026-07-20", "end_date": "2026-07-21"},
            writes=True,
        ),
    ],
    "scheduling:patients": [Case("get", lambda s: "/dashboard/patients/", DOCTORS)],
    "scheduling:week": [
        Case("get", lambda s: "/dashboard/week/", DOCTORS),
        Case("get", lambda s: "/dashboard/week/?date=2026-06-08", DOCTORS),
    ],
    "scheduling:day-print": [Case("get", lambda s: "/dashboard/print/?date=2026-06-08", DOCTORS)],
    "scheduling:hours": [
        Case("get", lambda s: "/dashboard/hours/", DOCTORS),
        Case(
            "post",
            lambda s: "/dashboard/hours/",
            DOCTORS_POST,
            data=lambda s: {"friday": "16:00-17:00", "visit_minutes": "30", "action": "save"},
            writes=True,
        ),
    ],
    "scheduling:extra-hours": [
        Case("get", lambda s: "/dashboard/extra-hours/", DOCTORS),
        Case(
            "post",
            lambda s: "/dashboard/extra-hours/",
            DOCTORS_POST,
            data=lambda s: {"date": "2026-06-06", "ranges": "09:00-10:00", "visit_minutes": "30"},
            writes=True,
        ),
    ],
    "scheduling:appointment-notes": [
        Case(
            "post",
            lambda s: f"{appt(s)}/notes/".replace("/appointments/", "/dashboard/appointments/"),
            NOTES_POST,
            data=lambda s: {"doctor_notes": "Check the blood pressure again."},
            writes=True,
        )
    ],
    "scheduling:toggle-accepting": [
        Case("post", lambda s: "/dashboard/accepting/", DOCTORS_POST, writes=True)
    ],
    "scheduling:appointment-action": [
        Case(
            "post",
            lambda s: f"/dashboard/appointments/{s.today.public_id}/check-in/",
            OWN_DOCTOR_POST,
            writes=True,
        ),
        # Allowed for Dora, but 14:00 has not come: refused by a rule, nothing changes.
        Case(
            "post",
            lambda s: f"/dashboard/appointments/{s.today.public_id}/complete/",
            OWN_DOCTOR_POST,
        ),
    ],
    "scheduling:slot-deactivate": [
        Case(
            "post",
            lambda s: f"/dashboard/slots/{s.spare_slot.public_id}/remove/",
            OWN_DOCTOR_POST,
            writes=True,
        )
    ],
    "scheduling:time-off-remove": [
        Case(
            "post",
            lambda s: f"/dashboard/time-off/{s.time_off.public_id}/remove/",
            OWN_DOCTOR_POST,
            writes=True,
        )
    ],
    # --- The front desk (Fay, at Dora's branch).
    "front-desk:day": [Case("get", lambda s: "/front-desk/", FRONT_DESK)],
    "front-desk:appointment-action": [
        Case(
            "post",
            lambda s: f"/front-desk/appointments/{s.today.public_id}/check-in/",
            FRONT_DESK_POST,
            writes=True,
        ),
        # 14:00 has not come: refused by a rule, nothing changes.
        Case(
            "post",
            lambda s: f"/front-desk/appointments/{s.today.public_id}/no-show/",
            FRONT_DESK_POST,
        ),
        # Bob's appointment with Otto, at another branch.
        Case(
            "post",
            lambda s: f"/front-desk/appointments/{s.bobs.public_id}/check-in/",
            OTHER_BRANCH,
        ),
    ],
    "front-desk:patients": [
        Case("get", lambda s: "/front-desk/patients/", FRONT_DESK),
        Case("post", lambda s: "/front-desk/patients/", FRONT_DESK_POST, lambda s: {"q": "Alice"}),
    ],
    "front-desk:patient-new": [
        Case("get", lambda s: "/front-desk/patients/new/", FRONT_DESK),
        Case("post", lambda s: "/front-desk/patients/new/", FRONT_DESK_POST, walk_in, True),
    ],
    "front-desk:patient": [Case("get", lambda s: f"{alice_at_desk(s)}/", FRONT_DESK)],
    "front-desk:book": [
        Case("get", lambda s: f"{alice_at_desk(s)}/book/{s.dora.slug}/", FRONT_DESK),
        Case(
            "get",
            lambda s: f"{alice_at_desk(s)}/book/{s.dora.slug}/",
            FRONT_DESK,
            data=free_time,
        ),
        Case(
            "post",
            lambda s: f"{alice_at_desk(s)}/book/{s.dora.slug}/",
            FRONT_DESK_POST,
            free_time,
            True,
        ),
        Case("get", lambda s: f"{alice_at_desk(s)}/book/{s.otto.slug}/", OTHER_BRANCH),
    ],
    # --- The JSON API (api/), through a browser session here; api/tests/test_access_matrix.py
    # has the API's own matrix with bearer tokens, its successful writes and their effects.
    # These posts send a form, not JSON: a 400 once signed in, so nothing is written.
    "api:api-root": [Case("get", lambda s: "/api/", (404,) * 8)],
    "api:openapi-json": [Case("get", lambda s: "/api/openapi.json", PUBLIC)],
    "api:openapi-view": [Case("get", lambda s: "/api/docs/", PUBLIC)],
    "api:token": [Case("post", lambda s: "/api/v1/auth/token", (400,) * 8)],
    "api:refresh": [Case("post", lambda s: "/api/v1/auth/refresh", (400,) * 8)],
    "api:me": [Case("get", lambda s: "/api/v1/me", API_SIGNED_IN)],
    "api:list_specialties": [Case("get", lambda s: "/api/v1/specialties", PUBLIC)],
    "api:list_branches": [Case("get", lambda s: "/api/v1/branches", PUBLIC)],
    "api:list_services": [Case("get", lambda s: "/api/v1/services", PUBLIC)],
    "api:list_doctors": [Case("get", lambda s: "/api/v1/doctors?q=Patient", PUBLIC)],
    "api:get_doctor": [Case("get", lambda s: f"/api/v1/doctors/{s.dora.slug}", PUBLIC)],
    "api:doctor_availability": [
        Case("get", lambda s: f"/api/v1/doctors/{s.dora.slug}/availability", PUBLIC)
    ],
    "api:appointments": [
        Case("get", lambda s: "/api/v1/appointments?when=all", API_SIGNED_IN),
        Case("post", lambda s: "/api/v1/appointments", API_FORM_POST),
    ],
    "api:appointment": [Case("get", lambda s: f"/api/v1{appt(s)}", API_PARTIES)],
    "api:cancel": [Case("post", lambda s: f"/api/v1{appt(s)}/cancel", API_FORM_POST)],
    "api:reschedule": [Case("post", lambda s: f"/api/v1{appt(s)}/reschedule", API_FORM_POST)],
    # Bob's appointment with Otto next Monday: Otto and the admin are refused by the rules
    # (not today, not started), Bob is its patient but not its doctor, the others never see it.
    "api:check_in": [
        Case("post", lambda s: f"/api/v1/appointments/{s.bobs.public_id}/check-in", API_VISIT)
    ],
    "api:complete": [
        Case("post", lambda s: f"/api/v1/appointments/{s.bobs.public_id}/complete", API_VISIT)
    ],
    "api:no_show": [
        Case("post", lambda s: f"/api/v1/appointments/{s.bobs.public_id}/no-show", API_VISIT)
    ],
    "api:todays_queue": [Case("get", lambda s: "/api/v1/doctor/queue", API_DOCTORS)],
    "api:accepting-bookings": [
        Case("get", lambda s: "/api/v1/doctor/accepting-bookings", API_DOCTORS)
    ],
    # The desk's patient search (JSON only: a form is a 400 before anyone's role is asked;
    # its answer per role is in api/tests/test_access_matrix.py).
    "api:patient-search": [Case("post", lambda s: "/api/v1/patients/search", API_FORM_POST)],
    "api:pending_users": [Case("get", lambda s: "/api/v1/admin/users/pending", API_ADMINS)],
    "api:activate": [
        Case("post", lambda s: f"/api/v1/admin/users/{NOBODY}/activate", API_ADMIN_POST)
    ],
    "api:deactivate": [
        Case("post", lambda s: f"/api/v1/admin/users/{NOBODY}/deactivate", API_ADMIN_POST)
    ],
    # Prometheus: not configured here, so not there at all.
    "metrics": [Case("get", lambda s: "/metrics", (404,) * 8)],
    # A calendar feed opens only with its token.
    "notifications:calendar-feed": [Case("get", lambda s: f"/calendar/{'x' * 43}.ics", (404,) * 8)],
    "accounts:family-add": [
        Case(
            "post",
            lambda s: "/accounts/profile/family/",
            PATIENTS_POST,
            data=lambda s: {
                "full_name": "Noah Newchild",
                "date_of_birth": "2021-02-03",
                "relationship": "child",
            },
            writes=True,
        ),
    ],
    "accounts:family-remove": [
        Case(
            "post",
            lambda s: f"/accounts/profile/family/{mias(s)}/remove/",
            (302, 302, 404, 404, 404, 404, 302, 404),
            writes=True,
        ),
    ],
    "scheduling:waitlist-join": [
        Case("get", lambda s: f"/doctors/{s.otto.slug}/waitlist/", PATIENTS),
        Case(
            "post",
            lambda s: f"/doctors/{s.otto.slug}/waitlist/",
            PATIENTS_POST,
            data=waiting_dates,
            writes=True,
        ),
    ],
    "scheduling:waitlists": [Case("get", lambda s: "/waitlist/", PATIENTS)],
    "scheduling:waitlist-leave": [
        Case(
            "post",
            lambda s: f"/waitlist/{alices_wait(s)}/leave/",
            (302, 302, 404, 404, 404, 404, 302, 404),
            writes=True,
        ),
    ],
    "scheduling:waitlist-offer": [
        Case(
            "get",
            lambda s: f"/waitlist/offers/{alices_offer(s)}/",
            (302, 200, 404, 404, 404, 404, 302, 404),
        ),
        Case(
            "post",
            lambda s: f"/waitlist/offers/{alices_offer(s)}/",
            (302, 302, 404, 404, 404, 404, 302, 404),
            writes=True,
        ),
    ],
    "api:list_family": [Case("get", lambda s: "/api/v1/me/family", API_PATIENTS)],
    "api:add_family_member": [Case("post", lambda s: "/api/v1/me/family", API_FORM_POST)],
    "api:remove_family_member": [
        Case("post", lambda s: f"/api/v1/me/family/{NOBODY}/remove", API_NOBODYS)
    ],
    "api:list_waitlist": [Case("get", lambda s: "/api/v1/waitlist", API_PATIENTS)],
    "api:join_waitlist": [Case("post", lambda s: "/api/v1/waitlist", API_FORM_POST)],
    "api:leave_waitlist": [Case("post", lambda s: f"/api/v1/waitlist/{NOBODY}/leave", API_NOBODYS)],
    "api:claim_offer": [
        Case("post", lambda s: f"/api/v1/waitlist/offers/{NOBODY}/claim", API_NOBODYS)
    ],
    # "Add to calendar" on an appointment's page: for those who may see the page.
    "notifications:appointment-ics": [Case("get", lambda s: f"{appt(s)}/calendar.ics", PARTIES)],
    "accounts:calendar-feed": [
        Case(
            "get", lambda s: "/accounts/profile/calendar/", (302, 405, 405, 405, 405, 405, 302, 405)
        ),
        Case("post", lambda s: "/accounts/profile/calendar/", ALL_REDIRECT, writes=False),
    ],
}

# Django admin: the admin's answer per registered model, (list, add form, change form); every
# other actor is sent to the admin login. Deleting is a 403 for everyone (test_no_hard_deletes).
ADMIN_MODELS: dict[str, tuple[int, int, int]] = {
    "accounts.User": (200, 200, 200),
    "accounts.PatientProfile": (200, 200, 200),
    "accounts.DoctorProfile": (200, 200, 200),
    "accounts.AdminProfile": (200, 200, 200),
    "accounts.FrontDeskProfile": (200, 200, 200),
    # Groups are maintained in code (accounts.services); admins hold no permission on them.
    "auth.Group": (403, 403, 403),
    "directory.Specialty": (200, 200, 200),
    "directory.Branch": (200, 200, 200),
    "directory.Service": (200, 200, 200),
    # Patients add their family members; the admin links them (no add form).
    "accounts.Dependant": (200, 403, 200),
    "scheduling.Slot": (200, 200, 200),
    "scheduling.TimeOff": (200, 200, 200),
    "scheduling.Appointment": (200, 200, 200),
    "notifications.WebhookEndpoint": (200, 200, 200),
    # The outbox, visitors' messages and the audit trail are read-only: no add form.
    "clinic.ContactMessage": (200, 403, 200),
    "notifications.Delivery": (200, 403, 200),
    "notifications.Event": (200, 403, 200),
    "audit.AuditEntry": (200, 403, 200),
}
# The admin site's own pages: (path, the admin's status, everyone else's status).
ADMIN_SITE: dict[str, list[tuple[str, str, int, int]]] = {
    "admin:index": [("get", "/admin/", 200, 302)],
    "admin:login": [("get", "/admin/login/", 302, 200)],
    # A POST only (CSRF-protected); a GET is refused, and non-admins never reach the view.
    "admin:logout": [("get", "/admin/logout/", 405, 302)],
    "admin:password_change": [("get", "/admin/password_change/", 200, 302)],
    "admin:password_change_done": [("get", "/admin/password_change/done/", 200, 302)],
    "admin:autocomplete": [
        (
            "get",
            "/admin/autocomplete/?app_label=scheduling&model_name=appointment&field_name=doctor",
            200,
            302,
        )
    ],
    "admin:jsi18n": [("get", "/admin/jsi18n/", 200, 302)],
    # Our models have no page outside admin to send anyone to.
    "admin:view_on_site": [("get", "/admin/r/1/1/", 404, 302)],
    "admin:app_list": [("get", "/admin/scheduling/", 200, 302)],
    "admin:auth_user_password_change": [("get", "/admin/accounts/user/{user}/password/", 200, 302)],
    # The Activate / Deactivate buttons of a user's page: POST only.
    "admin:accounts_user_activate": [
        ("get", "/admin/accounts/user/{user}/activate/", 405, 302),
        ("post", "/admin/accounts/user/{user}/activate/", 302, 302),
    ],
    "admin:accounts_user_deactivate": [
        ("get", "/admin/accounts/user/{user}/deactivate/", 405, 302),
        ("post", "/admin/accounts/user/{user}/deactivate/", 302, 302),
    ],
    "admin/(?P<url>.*)$": [("get", "/admin/no-such-page/", 404, 302)],
}


# --- Walking the URLconf -------------------------------------------------------------------


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(key, route) of every pattern: the key is the URL name with its namespaces, or the
    route for an unnamed pattern."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, route, inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


def admin_model_keys(model: type) -> dict[str, str]:
    """Each of a registered model's admin patterns, by the page it is."""
    app, name = model._meta.app_label, model._meta.model_name
    return {
        "changelist": f"admin:{app}_{name}_changelist",
        "add": f"admin:{app}_{name}_add",
        "change": f"admin:{app}_{name}_change",
        "history": f"admin:{app}_{name}_history",
        "delete": f"admin:{app}_{name}_delete",
        "redirect": f"admin/{app}/{name}/<path:object_id>/",
    }


def covered_keys() -> set[str]:
    keys = set(MATRIX) | set(ADMIN_SITE)
    for model in admin.site._registry:
        keys |= set(admin_model_keys(model).values())
    return keys


def test_every_url_pattern_has_a_row() -> None:
    patterns = {key for key, _ in url_patterns()}

    missing = patterns - covered_keys()
    stale = (set(MATRIX) | set(ADMIN_SITE)) - patterns
    registered = {model._meta.label for model in admin.site._registry}

    assert not missing, f"URL patterns without a row in the access matrix: {sorted(missing)}"
    assert not stale, f"rows for URL patterns that no longer exist: {sorted(stale)}"
    assert registered == set(ADMIN_MODELS), "a model registered in admin needs its row"


# --- Running the cases ---------------------------------------------------------------------


def as_actor(client: Client, scene: Scene, actor: str) -> None:
    client.logout()
    user = scene.users[actor]
    if user is not None:
        client.force_login(user)


def check_answer(scene: Scene, actor: str, what: str, response: Any) -> list[str]:
    body = response.content.decode(errors="replace")
    leaked = sorted(s for s in scene.secrets_hidden_from(actor) if s and s in body)
    return [f"{actor} {what}: shows someone else's data {leaked}"] if leaked else []


def run_case(client: Client, scene: Scene, case: Case, actor: str) -> list[str]:
    """Runs the case as the actor in a savepoint that is rolled back; the problems found."""
    expected = case.expected[ACTORS.index(actor)]
    problems: list[str] = []
    with transaction.atomic():
        as_actor(client, scene, actor)
        path = case.path(scene)
        before = snapshot()
        response = getattr(client, case.method)(path, case.data(scene))
        after = snapshot()
        what = f"{case.method.upper()} {path}"
        if response.status_code != expected:
            problems.append(f"{actor} {what}: {response.status_code}, expected {expected}")
        elif expected == 302 and scene.users[actor] is None:
            location = response["Location"]
            if case.method == "get" and "/accounts/login/" in location:
                assert location.startswith("/accounts/login/?next=")
        signed_out = scene.users[actor] is None or actor == "ivy"
        allowed_write = case.writes and expected == 302 and (case.public or not signed_out)
        if allowed_write and after == before:
            problems.append(f"{actor} {what}: allowed, but changed nothing")
        if not allowed_write and after != before:
            problems.append(f"{actor} {what}: changed the database")
        problems += check_answer(scene, actor, what, response)
        transaction.set_rollback(True)
    return problems


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_access(client: Client, scene: Scene, key: str) -> None:
    problems = [
        problem
        for case in MATRIX[key]
        for actor in ACTORS
        for problem in run_case(client, scene, case, actor)
    ]

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", sorted(k for k in MATRIX if not k.startswith("api:")))
def test_head_answers_as_get_does_with_no_body(client: Client, scene: Scene, key: str) -> None:
    """Uptime monitors and link checkers ask with HEAD: every page answers it as its GET
    (the same status for the same person), without a body. The JSON API is left out: its
    clients GET."""
    problems = []
    for case in MATRIX[key]:
        if case.method != "get":
            continue
        for actor in ACTORS:
            expected = case.expected[ACTORS.index(actor)]
            with transaction.atomic():
                as_actor(client, scene, actor)
                path = case.path(scene)
                response = client.head(path, case.data(scene))
                if response.status_code != expected:
                    problems.append(f"{actor} HEAD {path}: {response.status_code}, not {expected}")
                elif response.content:
                    problems.append(f"{actor} HEAD {path}: has a body")
                transaction.set_rollback(True)

    assert not problems, "\n".join(problems)


def example_ids(scene: Scene, model: type) -> str:
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the scene has no {model._meta.label} to open"
    return str(obj.pk)


def at_login(response: Any) -> bool:
    return str(response["Location"]).startswith("/admin/login/")


def others_in_admin(actor: str, signed_out_status: int) -> int:
    """Django admin for everyone but an admin: the signed-out are sent to its login (or see
    it); a signed-in patient, doctor or front desk gets a plain 404, not a login form that
    names them."""
    return signed_out_status if actor in ("anonymous", "ivy") else 404


@pytest.mark.parametrize("label", sorted(ADMIN_MODELS))
def test_admin_pages_of_each_model(client: Client, scene: Scene, label: str) -> None:
    model = next(m for m in admin.site._registry if m._meta.label == label)
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    pk = example_ids(scene, model)
    changelist, add, change = ADMIN_MODELS[label]
    pages = {
        "changelist": (base, changelist),
        "add": (f"{base}add/", add),
        "change": (f"{base}{pk}/change/", change),
        "history": (f"{base}{pk}/history/", change),
        "delete": (f"{base}{pk}/delete/", 403),
        "redirect": (f"{base}{pk}/", 302),
    }
    assert set(pages) == set(admin_model_keys(model))
    problems = []
    for actor in ACTORS:
        with transaction.atomic():
            as_actor(client, scene, actor)
            before = snapshot()
            for page, (path, admins_status) in pages.items():
                response = client.get(path)
                expected = admins_status if actor == "admin" else others_in_admin(actor, 302)
                if response.status_code != expected:
                    problems.append(f"{actor} {page} {path}: {response.status_code} != {expected}")
                elif actor != "admin" and expected == 302 and not at_login(response):
                    problems.append(f"{actor} {page} {path}: sent to {response['Location']}")
            if snapshot() != before:
                problems.append(f"{actor}: reading admin pages changed the database")
            transaction.set_rollback(True)

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", sorted(ADMIN_SITE))
def test_admin_site_pages(client: Client, scene: Scene, key: str) -> None:
    problems = []
    for method, template, admins_status, others_status in ADMIN_SITE[key]:
        path = template.format(user=scene.users["alice"].pk)
        for actor in ACTORS:
            with transaction.atomic():
                as_actor(client, scene, actor)
                response = getattr(client, method)(path)
                expected = (
                    admins_status if actor == "admin" else others_in_admin(actor, others_status)
                )
                if response.status_code != expected:
                    problems.append(f"{actor} {path}: {response.status_code} != {expected}")
                if actor != "admin":
                    problems += check_answer(scene, actor, path, response)
                transaction.set_rollback(True)

    assert not problems, "\n".join(problems)


def test_the_leak_check_can_fail(client: Client, scene: Scene) -> None:
    """Dora's patient list shows Alice's medical history: fine for Dora, a leak for Otto."""
    client.force_login(scene.users["dora"])
    response = client.get("/dashboard/patients/")

    assert check_answer(scene, "dora", "patients", response) == []
    assert "Penicillin allergy of Alice" in check_answer(scene, "otto", "patients", response)[0]


# --- CSRF ----------------------------------------------------------------------------------

WRITING_CASES = [
    (key, n)
    for key, cases in sorted(MATRIX.items())
    for n, c in enumerate(cases)
    # The API's token endpoints take no session (the credentials are in the body, the
    # tokens in the answer a cross-site page cannot read): there is no CSRF to check.
    if c.method == "post" and key not in ("api:token", "api:refresh")
]


def refused_without_csrf(path: str, actor: str) -> int:
    """403, but the JSON API answers a request with no session at all 401: nobody is
    signed in whose session a forged request could use."""
    if path.startswith("/api/") and actor in ("anonymous", "ivy"):
        return 401
    return 403


@pytest.mark.parametrize(("key", "n"), WRITING_CASES)
def test_state_changing_requests_without_a_csrf_token_are_refused(
    scene: Scene, key: str, n: int
) -> None:
    case = MATRIX[key][n]
    browser = Client(enforce_csrf_checks=True)
    problems = []
    for actor in ACTORS:
        with transaction.atomic():
            as_actor(browser, scene, actor)
            before = snapshot()
            response = browser.post(case.path(scene), case.data(scene))
            if response.status_code != refused_without_csrf(case.path(scene), actor):
                problems.append(f"{actor} POST {case.path(scene)}: {response.status_code}")
            if snapshot() != before:
                problems.append(f"{actor} POST {case.path(scene)}: changed the database")
            transaction.set_rollback(True)

    assert not problems, "\n".join(problems)


def test_admin_writes_without_a_csrf_token_are_refused(scene: Scene) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(scene.users["admin"])
    appointment = f"/admin/scheduling/appointment/{scene.appointment.pk}/change/"
    posts = [
        (
            "/admin/scheduling/appointment/",
            {"action": "cancel_appointments", "_selected_action": [scene.appointment.pk]},
        ),
        (appointment, {"slot": scene.spare_slot.pk, "date": "2026-06-10"}),
        (
            "/admin/scheduling/slot/add/",
            {"doctor": scene.dora.pk, "weekday": 4, "start_time": "07:00", "end_time": "07:30"},
        ),
        (
            "/admin/accounts/user/",
            {"action": "deactivate_accounts", "_selected_action": [scene.users["alice"].pk]},
        ),
        ("/admin/logout/", {}),
        ("/admin/login/", {"username": "100000001", "password": "sturdy-lantern-417"}),
    ]
    before = snapshot()

    statuses = [browser.post(path, data).status_code for path, data in posts]

    assert statuses == [403] * len(posts)
    assert snapshot() == before
    assert AuditEntry.objects.filter(action="access.denied").count() == len(posts)


@pytest.mark.parametrize(
    ("actor", "location"),
    [
        ("dora", "/dashboard/"),
        ("admin", "/admin/scheduling/appointment/"),
        ("fay", "/front-desk/"),
    ],
)
def test_staff_looking_for_my_appointments_are_sent_to_their_own_list(
    client: Client, scene: Scene, actor: str, location: str
) -> None:
    client.force_login(scene.users[actor])

    response = client.get("/appointments/")

    assert response["Location"] == location
    assert client.get(location).status_code == 200
