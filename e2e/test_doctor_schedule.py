"""The doctor's schedule: working hours in one go, a part-day absence over a booking, a
Saturday clinic, the week and a day to print.

Dr. Hassan Ali (a demo doctor nobody else's journey touches) replaces his demo hours with
Monday to Friday 09:00-12:00 at 20 minutes in one submit, seeing the slots before saving;
adds one Wednesday afternoon slot, which Quentin books; takes that afternoon off, sees
Quentin listed and cancels him on purpose; adds a Saturday morning; then reads his week,
moves through it by day and week, writes a note on Thursday's visit and opens that day to
print.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from e2e.conftest import Server, Visitor
from e2e.helpers import snap

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def next_weekday(today: dt.date, weekday: int) -> dt.date:
    """The first date on `weekday` after today (a week ahead when today is that day)."""
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)


def status(page: Page) -> object:
    return expect(page.get_by_role("status"))


def test_doctor_sets_the_week_takes_an_afternoon_off_and_prints_a_day(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    today = server.today()
    wednesday = next_weekday(today, 2)
    saturday = next_weekday(wednesday, 5)

    hassan = visitor()
    hassan.log_in("200000012")
    page = hassan.page
    tabs = page.get_by_role("navigation", name="Dashboard")

    # Working hours: five mornings at 20 minutes, previewed live, saved in one submit.
    tabs.get_by_role("link", name="Working hours").click()
    expect(page.get_by_label("Tuesday")).to_have_value("09:00-12:00, 14:00-16:00")
    for day in WEEKDAYS:
        page.get_by_label(day).fill("09:00-12:00")
    page.get_by_label("Length of a visit").select_option(label="20 minutes")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("45 new slots of 20 minutes")
    expect(preview).to_contain_text("38 retired")
    expect(preview).to_contain_text("Wednesday: 9 slots, 09:00–12:00")
    snap(page, "35-doctor-working-hours")
    page.get_by_role("button", name="Save the working hours").click()
    status(page).to_contain_text("45 slots made, 38 retired")
    expect(page.get_by_label("Monday")).to_have_value("09:00-12:00")

    # One more slot, on Wednesday afternoon, which Quentin books.
    page.get_by_role("button", name="Add or remove single slots").click()
    page.get_by_label("Day", exact=True).select_option(label="Wednesday")
    page.get_by_label("From", exact=True).fill("14:00")
    page.get_by_label("To", exact=True).fill("14:20")
    page.get_by_role("button", name="Add the slot").click()
    status(page).to_contain_text("The slot is added.")
    expect(page.get_by_label("Day", exact=True)).to_have_value("2")  # stays on Wednesday

    quentin = visitor()
    quentin.log_in("300000009")
    quentin.go("/doctors/hassan-ali/")
    quentin.page.get_by_role(
        "link", name=f"Book {wednesday:%A} {wednesday.day} {wednesday:%B} 14:00"
    ).click()
    quentin.page.get_by_label("Reason for the visit").fill("Persistent cough")
    quentin.page.get_by_role("button", name="Book this appointment").click()
    status(quentin.page).to_contain_text("Your appointment is booked.")
    booked_url = quentin.page.url
    # And the next morning at nine, which the day to print will show.
    thursday = wednesday + dt.timedelta(days=1)
    quentin.go("/doctors/hassan-ali/")
    quentin.page.get_by_role(
        "link", name=f"Book {thursday:%A} {thursday.day} {thursday:%B} 09:00"
    ).click()
    quentin.page.get_by_label("Reason for the visit").fill("Follow-up")
    quentin.page.get_by_role("button", name="Book this appointment").click()
    status(quentin.page).to_contain_text("Your appointment is booked.")

    # Wednesday afternoon off: Quentin is listed, nothing is saved until the box is ticked.
    tabs.get_by_role("link", name="Time off").click()
    page.get_by_label("First day").fill(wednesday.isoformat())
    page.get_by_label(re.compile(r"^From")).fill("13:00")
    page.get_by_label(re.compile(r"^To")).fill("18:00")
    page.get_by_label(re.compile(r"^Reason")).fill("Training")
    page.get_by_role("button", name="Save time off").click()
    conflicts = page.locator("#conflicts")
    expect(conflicts).to_contain_text("Quentin Quill")
    expect(conflicts.get_by_role("link", name="030 4000009")).to_have_attribute(
        "href", "tel:+49304000009"
    )
    expect(page.get_by_text("No time off planned.")).to_be_visible()
    snap(page, "36-doctor-time-off-conflict")
    page.get_by_label("Cancel the appointments already booked in this time").check()
    page.get_by_role("button", name="Save time off").click()
    status(page).to_contain_text("The booked appointments are cancelled and the patients told.")
    expect(page.get_by_role("region", name="Planned time off")).to_contain_text("13:00–18:00")
    quentin.page.goto(booked_url)
    expect(quentin.page.locator(".detail-head .badge")).to_have_text("Cancelled")
    expect(quentin.page.locator(".facts")).to_contain_text("unavailable at that time")

    # A Saturday morning clinic.
    tabs.get_by_role("link", name="Extra hours").click()
    page.get_by_label("Date", exact=True).fill(saturday.isoformat())
    page.get_by_label("Hours", exact=True).fill("09:00-12:00")
    page.get_by_label("Length of a visit").select_option(label="20 minutes")
    page.get_by_role("button", name="Add the extra hours").click()
    status(page).to_contain_text("9 extra slots added")
    snap(page, "37-doctor-extra-hours")

    # The week of that Wednesday, then a day on, then the day to print.
    tabs.get_by_role("link", name="Week").click()
    if wednesday - dt.timedelta(days=wednesday.weekday()) > today:
        page.get_by_role("button", name="Next week →").click()
    week = page.locator("ol.week")
    wednesday_cell = week.locator(".week-day").nth(2)
    expect(wednesday_cell).to_contain_text("09:00–12:00")
    expect(wednesday_cell).to_contain_text("Off 13:00–18:00: Training")
    expect(week.locator(".week-day").nth(5)).to_contain_text("extra 09:00–12:00")
    wednesday_cell.get_by_role("link", name=re.compile(rf"^Wed {wednesday.day} ")).click()
    expect(page).to_have_url(re.compile(rf"\?date={wednesday.isoformat()}$"))
    expect(
        page.get_by_role("heading", level=2, name=f"{wednesday:%A} {wednesday.day}")
    ).to_be_visible()
    snap(page, "38-doctor-week")
    page.get_by_role("button", name="Next day →").click()
    expect(page).to_have_url(re.compile(rf"\?date={thursday.isoformat()}$"))
    # Thursday's patient: the page is titled with him; a private note for the doctor.
    page.get_by_role("region", name=re.compile(r"^Thursday")).get_by_role(
        "link", name="Quentin Quill"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quentin Quill")
    page.get_by_label("Your notes").fill("Ask about the cough from last week.")
    page.get_by_role("button", name="Save the notes").click()
    status(page).to_contain_text("Your notes are saved.")
    expect(page.get_by_label("Your notes")).to_have_value("Ask about the cough from last week.")
    snap(page, "40-doctor-appointment")
    page.get_by_role("link", name="← Back to the week").click()
    page.get_by_role("button", name="Print this day").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Dr. Hassan Ali — {thursday:%A} {thursday.day} {thursday:%B %Y}"
    )
    expect(page.locator("tbody tr")).to_have_text(
        re.compile(r"09:00–09:20\s*Quentin Quill\s*030 4000009\s*Follow-up")
    )
    expect(page.get_by_role("link", name="030 4000009")).to_have_attribute(
        "href", "tel:+49304000009"
    )
    expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.get_by_role("button")).to_have_count(0)
    snap(page, "39-doctor-day-print")
