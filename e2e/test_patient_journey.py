"""A new patient, as a person would in a browser: registers (first with mistakes), waits for
the admin, who activates the account in Django admin, logs in, finds a dermatologist, books,
sees the appointment, moves it and cancels it."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.conftest import Visitor
from e2e.helpers import snap

NEW_PASSWORD = "violet-harbour-1873"


def field_error(page: Page, field_id: str) -> str:
    """The error shown in the same form field as the input, tied to it for screen readers."""
    field = page.locator(".field", has=page.locator(f"#{field_id}"))
    error = field.locator(".field-error")
    expect(error).to_be_visible()
    box = page.locator(f"#{field_id}")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert f"{field_id}_error" in (box.get_attribute("aria-describedby") or "").split()
    return error.inner_text()


def test_new_patient_registers_is_activated_books_moves_and_cancels(
    visitor: Callable[..., Visitor],
) -> None:
    n = random.randrange(10**6, 10**7)
    national_id = f"8{n}"
    rita = visitor()
    page = rita.go("/")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Create your patient account")).to_be_visible()

    # Bad input: each error appears next to its field, and nothing is created.
    page.get_by_label("National ID").fill("12")
    page.get_by_label("Full name").fill("Rita Rahman")
    page.get_by_label("E-mail").fill("rita-at-example")
    page.get_by_label("Phone").fill("+49 30 5" + str(n)[:6])
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill("something-else-1873")
    page.get_by_label("Date of birth").fill("2099-01-01")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the")
    assert "national ID of 5 to 20" in field_error(page, "id_national_id")
    assert "valid email address" in field_error(page, "id_email")
    assert "The two passwords differ." in field_error(page, "id_password2")
    assert "future" in field_error(page, "id_date_of_birth")
    # What was typed stays, but the passwords are never sent back.
    expect(page.get_by_label("Full name")).to_have_value("Rita Rahman")
    snap(page, "02-register-errors")

    page.get_by_label("National ID").fill(national_id)
    page.get_by_label("E-mail").fill(f"rita{n}@example.com")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_label("Date of birth").fill("1961-03-14")
    page.get_by_label("Medical history").fill("Type 2 diabetes.")
    page.get_by_role("button", name="Create my account").click()
    thanks = page.get_by_role("heading", name="Thank you, your registration is received")
    expect(thanks).to_be_visible()
    snap(page, "03-register-done")

    # Not yet: the account waits for an admin.
    rita.log_in(national_id, NEW_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("waiting for an admin to activate it")

    # The admin activates it in Django admin, by clicking as an admin does.
    ada = visitor()
    admin = ada.go("/admin/")
    admin.locator("#id_username").fill("100000001")
    admin.locator("#id_password").fill("demo-pass-123")
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("link", name="Users").first.click()
    first_row = admin.locator("#result_list tbody tr").first
    expect(first_row).to_contain_text(national_id)  # pending accounts first
    expect(first_row).to_contain_text("Waiting for activation")
    snap(admin, "20-admin-users", check=False)
    first_row.locator("input.action-select").check()
    admin.locator("select[name=action]").select_option(label="Activate the selected accounts")
    admin.get_by_role("button", name="Run").click()
    expect(admin.locator(".messagelist")).to_contain_text("1 account activated.")
    expect(admin.locator("#result_list tbody tr", has_text=national_id)).to_contain_text("Active")

    # Now Rita logs in and lands on her (empty) appointments.
    rita.log_in(national_id, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/appointments/$"))
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()
    snap(page, "06-my-appointments-empty")

    # Home → the dermatologists → a doctor → the first free time.
    page.get_by_role("link", name="Clinic", exact=False).first.click()
    page.get_by_role("link", name=re.compile(r"^Dermatologist")).click()
    expect(page.get_by_role("heading", name="Dermatologists", level=1)).to_be_visible()
    page.get_by_role("link", name="Dr. Clara Schmidt", exact=True).click()
    expect(page.get_by_role("heading", name="Dr. Clara Schmidt", level=1)).to_be_visible()
    first_free = page.locator("#grid a.slot").first
    chosen = first_free.get_attribute("aria-label") or ""
    first_free.click()

    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    when = chosen.removeprefix("Book ")
    day = " ".join(when.split()[:3])  # e.g. "Monday 24 November"
    expect(page.locator(".facts")).to_contain_text(day)
    page.get_by_label("Reason for the visit").fill("Itchy rash on the left arm.")
    snap(page, "08-book-confirm")
    page.get_by_role("button", name="Book this appointment").click()

    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
    expect(page.locator(".detail-head .badge")).to_have_text("Scheduled")
    expect(page.locator(".facts")).to_contain_text("Itchy rash on the left arm.")
    # Add to calendar downloads this appointment's .ics; Print is there (shown by clinic.js).
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Add to calendar").click()
    assert download.value.suggested_filename == "appointment.ics"
    ics = Path(download.value.path()).read_text()
    assert "BEGIN:VEVENT" in ics
    assert "Dr. Clara Schmidt" in ics
    snap(page, "09-appointment-booked")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    upcoming = page.locator("section", has=page.locator("#upcoming-h"))
    expect(upcoming.locator(".appt")).to_have_count(1)
    expect(upcoming).to_contain_text("Dr. Clara Schmidt")
    snap(page, "10-my-appointments")

    # Move it to another free time.
    upcoming.get_by_role("link", name=re.compile("^Details")).click()
    page.get_by_role("button", name="Change the time").click()
    expect(page.get_by_role("heading", name="Change the time")).to_be_visible()
    new_time = page.locator("#grid a.slot").first
    new_label = (new_time.get_attribute("aria-label") or "").removeprefix("Book ")
    assert new_label != when
    new_time.click()
    expect(page.get_by_text("New time:")).to_be_visible()
    snap(page, "11-reschedule-confirm")
    page.get_by_role("button", name="Move my appointment to this time").click()
    expect(page.get_by_role("status")).to_contain_text("moved to the new time")
    new_hour = new_label.split()[-1]
    expect(page.locator(".facts")).to_contain_text(new_hour)

    # And cancel it.
    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_role("heading", name="Cancel the appointment?")).to_be_visible()
    snap(page, "12-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status")).to_contain_text("cancelled and the time is free again")
    expect(page.locator(".detail-head .badge")).to_have_text("Cancelled")
    snap(page, "13-appointment-cancelled")

    page.get_by_role("link", name="Back to my appointments").click()
    history = page.locator("section", has=page.locator("#past-h"))
    expect(history.locator(".badge-cancelled")).to_have_count(1)
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()
