"""A parent books a priced service for her child; another patient waits for that doctor; the
parent cancels, and the waiting patient gets the freed time by e-mail and books it from the
link, as people would in a browser."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from playwright.sync_api import expect

from e2e.conftest import Server, Visitor
from e2e.helpers import snap
from e2e.test_front_desk import mails_to

# Dr. Emma Laurent offers a priced skin check (a demo without services otherwise).
SERVICE = """
from decimal import Decimal
from accounts.models import DoctorProfile
from directory.models import Service
emma = DoctorProfile.objects.get(user__national_id="200000009")
service, _ = Service.objects.get_or_create(
    branch=emma.branch, name="Skin check", defaults={"price": Decimal("45.00")}
)
service.doctors.add(emma)
print(emma.slug)
"""


def test_a_child_is_booked_a_priced_service_and_the_freed_time_goes_to_the_waitlist(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    slug = server.shell(SERVICE).strip().splitlines()[-1]

    # Paula adds her daughter on her profile.
    paula = visitor()
    paula.log_in("300000001")
    page = paula.go("/accounts/profile/")
    family = page.locator("section", has=page.locator("#family-h"))
    family.get_by_label("Full name").fill("Lina Patient")
    family.get_by_label("Date of birth").fill("2017-05-06")
    family.get_by_label("Relationship").select_option(label="Child")
    family.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Lina Patient is on your profile")
    expect(page.locator(".family-list")).to_contain_text("Lina Patient")
    snap(page, "60-profile-family")

    # She books Dr. Laurent's skin check for Lina at the first free time.
    page = paula.go(f"/doctors/{slug}/")
    first_free = page.locator("#grid a.slot").first
    when = (first_free.get_attribute("aria-label") or "").removeprefix("Book ")
    first_free.click()
    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    who = page.get_by_role("group", name="Who is this appointment for?")
    expect(who.get_by_label("Me (Paula Patient)")).to_be_checked()
    who.get_by_label("Lina Patient").check()
    page.get_by_label("Service").select_option(label="Skin check · 45.00 EUR")
    snap(page, "61-book-for-child")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Lina Patient")
    expect(facts).to_contain_text("Skin check")
    expect(facts).to_contain_text("45.00 EUR")
    snap(page, "62-child-appointment")
    appointment_url = page.url

    # Quentin finds no time that suits him and joins Dr. Laurent's waitlist.
    quentin = visitor()
    quentin.log_in("300000009")
    page = quentin.go(f"/doctors/{slug}/")
    page.get_by_role("link", name="Join the waitlist").click()
    today = server.today()
    page.get_by_label("From").fill(today.isoformat())
    page.get_by_label("Until").fill((today + dt.timedelta(days=45)).isoformat())
    snap(page, "63-waitlist-join")
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_role("status")).to_contain_text("You are on Dr. Emma Laurent's waitlist")
    expect(page.locator(".appt")).to_contain_text("Dr. Emma Laurent")
    snap(page, "64-my-waitlists")

    # Paula cancels Lina's appointment: the time is offered to Quentin.
    page = paula.page
    page.goto(appointment_url)
    page.get_by_role("button", name="Cancel the appointment").click()
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status")).to_contain_text("cancelled and the time is free again")

    output = server.manage("run_worker", "--once")
    [offer_mail] = [m for m in mails_to(output, "quentin@clinic.example") if "is free" in m]
    assert "Dr. Emma Laurent" in offer_mail
    link = re.search(r"http://127\.0\.0\.1:\d+/waitlist/offers/[0-9a-f-]+/", offer_mail)
    assert link is not None, offer_mail

    # He follows the link and books the time held for him.
    page = quentin.page
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="A time held for you")).to_be_visible()
    hour = when.split()[-1]
    expect(page.locator(".facts")).to_contain_text(hour)
    snap(page, "65-waitlist-offer")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
    expect(page.locator(".facts")).to_contain_text(hour)
    expect(page.locator(".detail-head .badge")).to_have_text("Scheduled")
    snap(page, "66-booked-from-waitlist")
