"""The booking journey in German and in Arabic, the language chosen from the header as a
person does; in Arabic the doctor page, the confirm page and the doctor's dashboard at 1280
and 390 px (right to left), with no axe-core finding of any impact."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import SCREENSHOTS, Server, Visitor
from e2e.helpers import snap

PASSWORD = "demo-pass-123"

# Two patients of their own, so that these bookings meet no other journey's.
PATIENTS = """
from accounts import services
from accounts.models import User
import datetime as dt
for nid, name, phone in (("300000021", "Greta Gruber", "+49 30 4000021"),
                         ("300000022", "Layla Haddad", "+968 9200 0022")):
    if not User.objects.filter(national_id=nid).exists():
        user = services.register_patient(
            national_id=nid, password="demo-pass-123", email=f"{nid}@clinic.example",
            full_name=name, phone=phone, date_of_birth=dt.date(1985, 5, 6), medical_history="",
        )
        services.activate(user=user)
"""


@pytest.fixture
def patients(server: Server) -> None:
    server.shell(PATIENTS)


def snap_clean(page: Page, name: str) -> None:
    """snap() at both widths, and not one axe-core finding, whatever its impact."""
    snap(page, name)
    report = json.loads((SCREENSHOTS / f"axe-{name}.json").read_text())
    assert report["violations"] == {"1280": [], "390": []}, report


def choose_language(page: Page, name: str) -> None:
    """The header's switcher (in the phone menu on a narrow screen)."""
    switcher = page.locator(".nav-wide").get_by_role(
        "group", name=re.compile("Language|Sprache|اللغة")
    )
    switcher.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def log_in(
    page: Page, national_id: str, *, id_label: str, password_label: str, button: str
) -> None:
    page.get_by_label(id_label).fill(national_id)
    page.get_by_label(password_label, exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name=button).click()
    page.wait_for_load_state()


def book_first_free_time(page: Page, doctor: str) -> str:
    page.get_by_role("link", name=doctor).first.click()
    expect(page.get_by_role("heading", name=doctor, level=1)).to_be_visible()
    first_free = page.locator("#grid a.slot").first
    label = first_free.get_attribute("aria-label") or ""
    first_free.click()
    return label


@pytest.mark.usefixtures("patients")
def test_a_patient_books_in_german_after_choosing_it_in_the_header(
    visitor: Callable[..., Visitor],
) -> None:
    greta = visitor()
    page = greta.go("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    choose_language(page, "Deutsch")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", name="Arzttermin mit wenigen Klicks buchen")).to_be_visible()

    page.get_by_role("link", name="Anmelden").first.click()
    log_in(
        page, "300000021", id_label="Ausweisnummer", password_label="Passwort", button="Anmelden"
    )
    expect(page.get_by_role("heading", name="Meine Termine", level=1)).to_be_visible()

    page.get_by_role("navigation", name="Hauptmenü").get_by_role(
        "link", name="Ärztin oder Arzt finden"
    ).click()
    label = book_first_free_time(page, "Dr. Sofia Rossi")
    assert label.startswith("Buchen ")
    expect(page.get_by_role("heading", name="Termin bestätigen")).to_be_visible()
    page.get_by_label("Anlass des Besuchs").fill("Zahnschmerzen links oben.")
    page.get_by_role("button", name="Diesen Termin buchen").click()

    expect(page.get_by_role("status")).to_contain_text("Ihr Termin ist gebucht.")
    expect(page.locator(".detail-head .badge")).to_have_text("Geplant")
    # The date in German order: weekday, comma, day with a full stop.
    expect(page.locator(".facts")).to_contain_text(re.compile(r"\w+, \d{1,2}\. \w+ \d{4}"))
    snap(page, "60-de-appointment-booked")


@pytest.mark.usefixtures("patients")
def test_a_patient_books_in_arabic_right_to_left_and_the_doctor_reads_her_day(
    visitor: Callable[..., Visitor],
) -> None:
    layla = visitor()
    page = layla.go("/")
    choose_language(page, "العربيّة")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    page.get_by_role("link", name="تسجيل الدخول").first.click()
    log_in(
        page,
        "300000022",
        id_label="رقم الهوية الوطنية",
        password_label="كلمة المرور",
        button="تسجيل الدخول",
    )
    expect(page.get_by_role("heading", name="مواعيدي", level=1)).to_be_visible()

    page.get_by_role("navigation", name="القائمة الرئيسية").get_by_role(
        "link", name="ابحث عن طبيب"
    ).click()
    page.get_by_role("link", name="Dr. Leila Haddad").first.click()
    expect(page.get_by_role("heading", name="الأوقات المتاحة")).to_be_visible()
    # Mirrored: the profile's initials sit at the right, the grid's first day at the right.
    width = page.viewport_size["width"] if page.viewport_size else 1280
    initials = page.locator(".doctor-profile .initials").bounding_box()
    assert initials
    assert initials["x"] > width / 2
    days = page.locator("#grid .day")
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert first
    assert second
    assert first["x"] > second["x"]
    snap_clean(page, "61-ar-doctor")

    first_free = page.locator("#grid a.slot").first
    label = first_free.get_attribute("aria-label") or ""
    assert label.startswith("احجز ")
    first_free.click()
    expect(page.get_by_role("heading", name="أكّد موعدك")).to_be_visible()
    # Times stay left to right inside the right-to-left page.
    expect(page.locator(".facts strong[dir=ltr]")).to_have_text(
        re.compile(r"^\d\d:\d\d–\d\d:\d\d$")
    )
    snap_clean(page, "62-ar-book-confirm")
    page.get_by_role("button", name="احجز هذا الموعد").click()
    expect(page.get_by_role("status")).to_contain_text("تم حجز موعدك.")
    expect(page.locator(".detail-head .badge")).to_have_text("محجوز")

    # The doctor chooses Arabic before she logs in: her account keeps it from then on.
    leila = visitor()
    desk = leila.go("/accounts/login/")
    choose_language(desk, "العربيّة")
    log_in(
        desk,
        "200000003",
        id_label="رقم الهوية الوطنية",
        password_label="كلمة المرور",
        button="تسجيل الدخول",
    )
    expect(desk.get_by_role("heading", name="Dr. Leila Haddad", level=1)).to_be_visible()
    expect(desk.locator("html")).to_have_attribute("dir", "rtl")
    expect(desk.locator("#live")).to_contain_text("Layla Haddad")
    snap_clean(desk, "63-ar-dashboard")


def test_the_directorys_next_free_times_and_the_grids_horizon_right_to_left(
    visitor: Callable[..., Visitor],
) -> None:
    omar = visitor()
    page = omar.go("/")
    choose_language(page, "العربيّة")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    page = omar.go("/doctors/")
    card = page.locator(".doctor-card", has_text="Dr. Anna Weber")
    expect(card.locator(".next-free")).to_contain_text("أقرب وقت متاح:")
    # The time reads left to right, the words around it right to left.
    expect(card.locator(".next-free a strong")).to_have_text(re.compile(r"\d\d:\d\d$"))
    snap_clean(page, "64-ar-directory")

    # Past the horizon the grid starts at its last days and says why it ends there.
    page = omar.go("/doctors/leila-haddad/?start=2999-01-01")
    note = page.locator("#horizon-note")
    expect(note).to_contain_text("آخر يوم يمكن حجزه")
    expect(page.get_by_role("link", name="لاحقًا ←")).to_have_count(0)
    snap_clean(page, "65-ar-grid-horizon")
