"""Demo data for a first look at Clinic. Idempotent: running it again changes nothing.

It makes no events: a receiver (n8n) must not hear of accounts activated for a demo."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as account_services
from accounts.models import DoctorProfile, PatientProfile, User
from directory.models import Branch, Specialty
from scheduling import services as scheduling_services
from scheduling.models import Slot

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

        self.stdout.write(
            f"Demo data ready: {DoctorProfile.objects.count()} doctors, "
            f"{PatientProfile.objects.count()} patients, {created} account(s) created now."
        )
