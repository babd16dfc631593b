"""The doctor's day, with two patients in their own browsers at once.

Dr. Anna Weber (the demo doctor) opens a slot for this evening, pauses and resumes bookings;
Paula and Quentin both look at her free times; Paula books this evening's slot, which
disappears from Quentin's grid and appears in Anna's queue by itself (no reload anywhere);
Anna checks Paula in and completes the visit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from e2e.conftest import Server, Visitor
from e2e.helpers import mark_no_reload, snap, still_same_document

# The grid refreshes every 10 s; the issue allows 15 s for a change to show.
LIVE = 15_000


def open_doctor_page(page: Page, surname: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a doctor").click()
    page.get_by_label("Name").fill(surname)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile(rf"^Dr\. \w+ {surname}$")).click()


def test_doctor_runs_the_day_while_two_patients_book_live(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    today = server.today()
    evening = f"Book {today:%A} {today.day} {today:%B} 18:00"

    anna = visitor()
    anna.log_in("200000001")
    day = anna.page
    expect(day.get_by_role("heading", name="Dr. Anna Weber", level=1)).to_be_visible()
    tabs = day.get_by_role("navigation", name="Dashboard")

    # A slot this evening, on today's weekday.
    tabs.get_by_role("link", name="Working hours").click()
    day.get_by_role("button", name="Add or remove single slots").click()
    day.get_by_label("Day", exact=True).select_option(label=f"{today:%A}")
    day.get_by_label("From", exact=True).fill("18:00")
    day.get_by_label("To", exact=True).fill("18:30")
    day.get_by_role("button", name="Add the slot").click()
    expect(day.get_by_role("status")).to_contain_text("The slot is added.")
    snap(day, "31-doctor-weekly-hours")

    # Paused: a patient is told so and offered no time.
    tabs.get_by_role("link", name="My day").click()
    day.get_by_role("button", name="Pause new bookings").click()
    expect(day.get_by_role("status")).to_contain_text("New bookings are paused.")
    expect(day.locator(".accepting .badge")).to_have_text("Bookings paused")
    paula = visitor()
    paula.log_in("300000001")
    open_doctor_page(paula.page, "Weber")
    expect(paula.page.get_by_text("is not taking bookings at the moment")).to_be_visible()
    expect(paula.page.locator("#grid a.slot")).to_have_count(0)
    snap(paula.page, "15-doctor-not-taking-bookings")

    day.get_by_role("button", name="Take bookings again").click()
    expect(day.get_by_role("status")).to_contain_text("You are taking bookings.")
    expect(day.locator(".accepting .badge")).to_have_text("Taking bookings")
    mark_no_reload(day)

    # Two patients look at the same free times; Quentin on his phone.
    paula.page.reload()
    quentin = visitor(phone=True)
    quentin.log_in("300000009")
    quentin.page.locator(".nav-menu > summary").click()
    snap(quentin.page, "16-phone-menu-open", check=False)
    open_doctor_page(quentin.page, "Weber")
    expect(quentin.page.get_by_role("link", name=evening)).to_be_visible()
    mark_no_reload(quentin.page)

    paula.page.get_by_role("link", name=evening).click()
    paula.page.get_by_label("Reason for the visit").fill("Palpitations after climbing stairs.")
    paula.page.get_by_role("button", name="Book this appointment").click()
    expect(paula.page.get_by_role("status")).to_contain_text("Your appointment is booked.")

    # Gone from Quentin's grid, by itself.
    expect(quentin.page.get_by_role("link", name=evening)).to_have_count(0, timeout=LIVE)
    expect(quentin.page.locator("#grid .slot-taken", has_text="18:00").first).to_be_visible()
    assert still_same_document(quentin.page)

    # In Anna's queue, by itself.
    row = day.locator("#live table.queue tbody tr", has_text="Paula Patient")
    expect(row).to_be_visible(timeout=LIVE)
    expect(row).to_contain_text("18:00")
    expect(row.locator(".badge")).to_have_text("Scheduled")
    assert still_same_document(day)
    snap(day, "30-dashboard")

    # Check-in (numbered in the queue), then the visit is completed.
    row.get_by_role("button", name="Check in Paula Patient").click()
    expect(row.locator(".badge")).to_have_text("Checked in")
    expect(row.locator(".queue-no")).to_have_text("#1")
    snap(day, "32-dashboard-checked-in")
    row.get_by_role("button", name="Mark completed: Paula Patient").click()
    expect(row.locator(".badge")).to_have_text("Completed")
    assert still_same_document(day)

    # Paula sees the visit in her history.
    paula.page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My appointments"
    ).click()
    history = paula.page.locator("section", has=paula.page.locator("#past-h"))
    expect(history.locator(".appt", has_text="Dr. Anna Weber").locator(".badge")).to_have_text(
        "Completed"
    )
    snap(paula.page, "14-my-appointments-history")
