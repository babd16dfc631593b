"""Demo data for a first look at Clinic. Idempotent: running it again changes nothing.

It makes no events: a receiver (n8n) must not hear of accounts activated for a demo."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from accounts import services as account_services
from accounts.models import DoctorProfile, PatientProfile, User
from directory.models import Branch, Specialty
from scheduling import clock
from scheduling import services as scheduling_services
from scheduling.models import Appointment, Slot

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - printed in the README as the demo's password

SPECIALTIES = [
    ("Cardiologist", "cardiologist", "Heart and blood vessels."),
    ("Dentist", "dentist", "Teeth, gums and mouth."),
    ("Dermatologist", "dermatologist", "Skin, hair and nails."),
    ("General Physician", "general-physician", "Your first stop for most health concerns."),
]
BRANCHES = [
    ("City Centre", "city-centre", "1 Market Square", "+49 30 1000001"),
    ("Riverside", "riverside", "22 River Road", "+49 30 1000002"),
]
# Twelve doctors: three per specialty, spread over both branches.
DOCTORS = [
    ("200000001", "Anna Weber", "cardiologist", "city-centre"),
    ("200000002", "Jonas Becker", "cardiologist", "riverside"),
    ("200000003", "Leila Haddad", "cardiologist", "city-centre"),
    ("200000004", "Mehmet Yilmaz", "dentist", "riverside"),
    ("200000005", "Sofia Rossi", "dentist", "city-centre"),
    ("200000006", "Piotr Nowak", "dentist", "riverside"),
    ("200000007", "Clara Schmidt", "dermatologist", "city-centre"),
    ("200000008", "Daniel Okafor", "dermatologist", "riverside"),
    ("200000009", "Emma Laurent", "dermatologist", "city-centre"),
    ("200000010", "Felix Wagner", "general-physician", "riverside"),
    ("200000011", "Grace Kim", "general-physician", "city-centre"),
    ("200000012", "Hassan Ali", "general-physician", "riverside"),
]


class Command(BaseCommand):
    help = "Loads the demo clinic: specialties, branches, doctors and demo accounts."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        specialties = {
            slug: Specialty.objects.update_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )[0]
            for name, slug, description in SPECIALTIES
        }
        branches = {
            slug: Branch.objects.update_or_create(
                slug=slug, defaults={"name": name, "address": address, "phone": phone}
            )[0]
            for name, slug, address, phone in BRANCHES
        }

        created = 0
        if not User.objects.filter(national_id="100000001").exists():
            account_services.create_admin(
                national_id="100000001",
                password=DEMO_PASSWORD,
                email="admin@clinic.example",
                full_name="Ada Admin",
                phone="+49 30 2000001",
            )
            created += 1

        if not User.objects.filter(national_id="400000001").exists():
            account_services.create_account(
                national_id="400000001",
                password=DEMO_PASSWORD,
                email="frontdesk@clinic.example",
                full_name="Fiona Front",
                phone="+49 30 2000011",
                role=User.Role.FRONT_DESK,
                active=True,
                branch=branches["city-centre"],
                notify=False,
            )
            created += 1

        for n, (nid, name, specialty, branch) in enumerate(DOCTORS, start=1):
            if User.objects.filter(national_id=nid).exists():
                continue
            user = account_services.apply_as_doctor(
                national_id=nid,
                password=DEMO_PASSWORD,
                email=f"doctor{n}@clinic.example",
                full_name=name,
                phone=f"+49 30 3{n:06d}",
                specialty=specialties[specialty],
                branch=branches[branch],
                consultation_fee=Decimal(60 + 10 * (n % 4)),
                bio=f"{name} has cared for patients at our {branches[branch].name} branch "
                "for many years.",
                emergency_contact="Reception, +49 30 1000001",
                notify=False,
            )
            account_services.activate(user=user, notify=False)
            created += 1

        for nid, name, email, phone, active in [
            ("300000001", "Paula Patient", "patient@clinic.example", "+49 30 4000001", True),
            ("300000002", "Peter Pending", "pending@clinic.example", "+49 30 4000002", False),
            # Two more of Dr. Weber's patients, for her day and history.
            ("300000003", "Marta Meyer", "marta@clinic.example", "+49 30 4000003", True),
            ("300000004", "Omar Said", "omar@clinic.example", "+49 30 4000004", True),
        ]:
            if User.objects.filter(national_id=nid).exists():
                continue
            user = account_services.register_patient(
                national_id=nid,
                password=DEMO_PASSWORD,
                email=email,
                full_name=name,
                phone=phone,
                date_of_birth=dt.date(1985, 4, 12),
                medical_history="Penicillin allergy." if active else "",
                notify=False,
            )
            if active:
                account_services.activate(user=user, notify=False)
            created += 1

        # Weekly consultation hours: weekday mornings in half-hour slots, two afternoons.
        for doctor in DoctorProfile.objects.filter(user__national_id__in=[d[0] for d in DOCTORS]):
            if Slot.objects.filter(doctor=doctor).exists():
                continue
            for weekday in range(5):
                hours = [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30)]
                if weekday in (1, 3):
                    hours += [(14, 0), (14, 30), (15, 0), (15, 30)]
                for hour, minute in hours:
                    start = dt.time(hour, minute)
                    end = (
                        dt.datetime.combine(dt.date.min, start) + dt.timedelta(minutes=30)
                    ).time()
                    scheduling_services.add_slot(
                        doctor=doctor, weekday=weekday, start_time=start, end_time=end
                    )

        made = seed_appointments()

        accounts = ngettext("%(n)d account created now", "%(n)d accounts created now", created) % {
            "n": created
        }
        appointments = ngettext("%(n)d appointment added", "%(n)d appointments added", made) % {
            "n": made
        }
        self.stdout.write(
            f"Demo data ready: {DoctorProfile.objects.count()} doctors, "
            f"{PatientProfile.objects.count()} patients, {accounts}, {appointments}."
        )


# The demo's appointments, relative to today: (patient, doctor, days from today, what
# happened). A pair that already has one in that tense (past, today, upcoming) gets no other,
# so a second run adds nothing and a run on a later day adds only what that day lacks.
APPOINTMENTS = [
    ("300000003", "200000001", -14, Appointment.Status.COMPLETED, "Blood pressure check"),
    ("300000004", "200000001", -7, Appointment.Status.NO_SHOW, "Follow-up ECG"),
    ("300000001", "200000011", -21, Appointment.Status.COMPLETED, "Persistent cough"),
    ("300000001", "200000007", -10, Appointment.Status.CANCELLED, "Skin rash"),
    ("300000003", "200000001", 0, None, "Results of the blood tests"),
    ("300000004", "200000001", 0, None, "Chest pain when running"),
    ("300000001", "200000011", 0, None, "Vaccination"),
    ("300000001", "200000001", 3, Appointment.Status.SCHEDULED, "Palpitations"),
    ("300000003", "200000001", 8, Appointment.Status.SCHEDULED, "Annual check-up"),
]


def _day_with_slots(doctor: DoctorProfile, date: dt.date, step: int) -> dt.date | None:
    """The date itself when the doctor works then, else the nearest one in `step`'s
    direction (today has no other: a demo on a Sunday has no appointments today)."""
    for _ in range(7 if step else 1):
        if Slot.objects.active().weekly().filter(doctor=doctor, weekday=date.weekday()).exists():
            return date
        date += dt.timedelta(days=step)
    return None


def seed_appointments() -> int:
    """Past, today's and upcoming appointments of the demo patient and Dr. Anna Weber, written
    as they would stand by now (a past visit completed, a missed one marked no-show), with no
    event: nobody is told of demo visits, and none is reminded."""
    now = timezone.now()
    today = clock.today()
    people = {
        u.national_id: u for u in User.objects.filter(national_id__in={a for a, *_ in APPOINTMENTS})
    }
    doctors = {
        d.user.national_id: d
        for d in DoctorProfile.objects.select_related("user").filter(
            user__national_id__in={d for _, d, *_ in APPOINTMENTS}
        )
    }
    made = 0
    for patient_id, doctor_id, days, status, reason in APPOINTMENTS:
        patient, doctor = people.get(patient_id), doctors.get(doctor_id)
        if patient is None or doctor is None or not patient.is_active:
            continue
        pair = Appointment.objects.filter(patient=patient, doctor=doctor)
        tense = {-1: pair.filter(date__lt=today), 0: pair.filter(date=today)}.get(
            (days > 0) - (days < 0), pair.filter(date__gt=today)
        )
        if tense.exists():
            continue
        date = _day_with_slots(doctor, today + dt.timedelta(days=days), (days > 0) - (days < 0))
        if date is None:
            continue
        slots = list(
            Slot.objects.active()
            .weekly()
            .filter(doctor=doctor, weekday=date.weekday())
            .order_by("start_time")
        )
        taken = set(
            Appointment.objects.holding_slot()
            .filter(doctor=doctor, date=date)
            .values_list("slot_id", flat=True)
        )
        # Today's in the morning, in the order listed; other days from the second slot on.
        start = 0 if days == 0 else 1
        free = [s for s in slots[start:] if s.pk not in taken]
        if not free:
            continue
        slot = free[0]
        window = clock.slot_window(date, slot.start_time, slot.end_time)
        if window is None:
            continue
        starts_at, ends_at = window
        if status is None:  # today's: done if its time has passed, else to come
            status = (
                Appointment.Status.COMPLETED if ends_at <= now else Appointment.Status.SCHEDULED
            )
        appointment = Appointment(
            patient=patient,
            doctor=doctor,
            slot=slot,
            date=date,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
            reason=reason,
            # As a booking of the patient's own records them: who booked, and the fee then.
            booked_by=patient,
            price=doctor.consultation_fee,
            # Nothing to remind: the worker must not mail demo patients about demo visits.
            reminder_sent_at=now,
        )
        if status == Appointment.Status.COMPLETED:
            appointment.completed_at = ends_at
        elif status == Appointment.Status.NO_SHOW:
            appointment.no_show_at = ends_at
        elif status == Appointment.Status.CANCELLED:
            appointment.cancelled_at = starts_at - dt.timedelta(days=2)
            appointment.cancelled_by = patient
            appointment.cancellation_reason = "Feeling better."
        appointment.save()
        made += 1
    return made
