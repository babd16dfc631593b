"""Every key page at 1280 px and 390 px (screenshots in var/screenshots/), checked by axe-core;
the friendly error pages; the contact form from the visitor's side to the admin's."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory
from playwright.sync_api import Route, expect

from clinic.views import server_error
from e2e.conftest import Visitor
from e2e.helpers import snap


def test_public_pages(visitor: Callable[..., Visitor]) -> None:
    anon = visitor()
    page = anon.go("/")
    expect(page.get_by_role("heading", name="Book a doctor in a few clicks")).to_be_visible()
    snap(page, "01-home")

    page.get_by_role("link", name="See all doctors").click()
    expect(page.locator(".doctor-card")).to_have_count(12)
    # Each card names the doctor's next free time, in the clinic's currency.
    expect(page.locator(".doctor-card .next-free a")).to_have_count(12)
    expect(page.locator(".doctor-card").first).to_contain_text(re.compile(r"Fee \d+\.\d\d EUR"))
    snap(page, "04-doctors")
    page.get_by_label("Name").fill("Dr. Weber")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".doctor-card")).to_have_count(1)
    expect(page.locator(".doctor-card")).to_contain_text("Dr. Anna Weber")
    page.goto(anon.base + "/doctors/")

    page.get_by_label("Specialty").select_option(label="Cardiologist")
    page.get_by_label("Branch").select_option(label="Riverside")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"specialty=cardiologist&branch=riverside"))
    expect(page.locator(".doctor-card")).to_have_count(1)

    page.get_by_label("Name").fill("Nobody Atall")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No doctor matches these filters")).to_be_visible()
    snap(page, "04-doctors-none")

    page.get_by_role("link", name="Clear the filters").click()
    page.get_by_role("link", name="Dr. Grace Kim", exact=True).click()
    expect(page.locator("#grid .day")).to_have_count(14)
    snap(page, "05-doctor")
    # The next fortnight loads in place, with a skeleton while it comes.
    page.get_by_role("link", name="Later →").click()
    expect(page.get_by_role("link", name="← Earlier")).to_be_visible()

    # A page that needs a login sends there with a word of why.
    page = anon.go("/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/dashboard/$"))
    expect(page.locator(".message-info")).to_have_text("Please log in to see that page.")
    snap(page, "07-login")
    # Four wrong passwords for one national ID: the page warns before the fifth locks it.
    for _ in range(4):
        page.get_by_label("National ID").fill("300000098")
        page.get_by_label("Password", exact=True).fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    expect(page.locator(".message-warning")).to_contain_text(
        "One more failed attempt locks this national ID for 15 minutes."
    )
    snap(page, "07-login-last-attempt")
    page = anon.go("/about/")
    expect(page.get_by_role("heading", name="About Clinic")).to_be_visible()
    snap(page, "21-about")


def test_contact_form_reaches_the_admin(visitor: Callable[..., Visitor]) -> None:
    subject = f"Parking at Riverside {random.randrange(10**6)}"
    anon = visitor(phone=True)
    page = anon.go("/")
    page.locator(".nav-menu > summary").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contact").click()
    snap(page, "22-contact")

    page.get_by_label("Your e-mail").fill("not an address")
    page.get_by_label("Message").fill("Hi")
    page.get_by_role("button", name="Send the message").click()
    for field, words in [
        ("id_name", "Please tell us your name."),
        ("id_email", "This does not look like an e-mail address."),
        ("id_subject", "Please give your message a subject."),
        ("id_message", "at least 10 characters"),
    ]:
        error = page.locator(".field", has=page.locator(f"#{field}")).locator(".field-error")
        expect(error).to_contain_text(words)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    snap(page, "23-contact-errors")

    page.get_by_label("Your name").fill("Hanna Hoffmann")
    page.get_by_label("Your e-mail").fill("hanna@example.com")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill("Is there parking for wheelchair users at Riverside?")
    page.get_by_role("button", name="Send the message").click()
    expect(page).to_have_url(re.compile(r"/contact/$"))
    expect(page.get_by_role("status")).to_contain_text("Thank you, your message has reached")
    expect(page.get_by_label("Your name")).to_have_value("")
    snap(page, "24-contact-sent")

    ada = visitor()
    admin = ada.go("/admin/")
    admin.locator("#id_username").fill("100000001")
    admin.locator("#id_password").fill("demo-pass-123")
    admin.get_by_role("button", name="Log in").click()
    expect(admin.locator("#site-name")).to_contain_text(f"{settings.CLINIC_NAME} administration")
    snap(admin, "25-admin-index", check=False)
    admin.get_by_role("link", name="Contact messages").first.click()
    row = admin.locator("#result_list tbody tr", has_text=subject)
    expect(row).to_contain_text("Hanna Hoffmann")
    snap(admin, "26-admin-contact-messages", check=False)
    row.get_by_role("link", name=subject).click()
    expect(admin.locator(".readonly", has_text="wheelchair")).to_be_visible()
    # Read-only: nothing to save, nothing to delete.
    expect(admin.locator("input[type=submit][name=_save]")).to_have_count(0)
    expect(admin.get_by_role("link", name="Delete")).to_have_count(0)


def test_signed_in_pages(visitor: Callable[..., Visitor]) -> None:
    paula = visitor()
    paula.log_in("300000001")
    page = paula.page
    page.get_by_role("link", name="Paula").first.click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    snap(page, "17-profile")

    # The demo's history, today and upcoming visits.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    expect(
        page.locator("section", has=page.locator("#upcoming-h")).locator(".appt")
    ).not_to_have_count(0)
    expect(page.locator("section", has=page.locator("#past-h")).locator(".appt")).not_to_have_count(
        0
    )
    snap(page, "13-demo-my-appointments")

    anna = visitor()
    anna.log_in("200000001")
    page = anna.page
    # The demo doctor's day has appointments to show (on a working day) and more to come.
    upcoming = page.locator("section", has=page.locator("#upcoming-h")).locator("tbody tr")
    expect(upcoming).not_to_have_count(0)
    snap(page, "35-demo-dashboard")
    tabs = page.get_by_role("navigation", name="Dashboard")
    tabs.get_by_role("link", name="Time off").click()
    expect(page.get_by_role("heading", name="Time off", level=1)).to_be_visible()
    snap(page, "33-doctor-time-off")
    tabs.get_by_role("link", name="My patients").click()
    expect(page.get_by_role("heading", name="My patients", level=1)).to_be_visible()
    snap(page, "34-doctor-patients")


def _fulfil(html: str, status: int) -> Callable[[Route], None]:
    def answer(route: Route) -> None:
        route.fulfill(status=status, body=html, content_type="text/html; charset=utf-8")

    return answer


def test_friendly_error_pages(visitor: Callable[..., Visitor]) -> None:
    anon = visitor()
    response = anon.page.goto(anon.base + "/no-such-page/")
    assert response is not None
    assert response.status == 404
    expect(anon.page.get_by_role("heading", name="We cannot find that page")).to_be_visible()
    snap(anon.page, "40-error-404")

    paula = visitor()
    paula.log_in("300000001")
    response = paula.page.goto(paula.base + "/dashboard/")
    assert response is not None
    assert response.status == 403
    expect(paula.page.get_by_role("heading", name="not open to your account")).to_be_visible()
    expect(paula.page.get_by_text("The dashboard is for doctors.")).to_be_visible()
    snap(paula.page, "41-error-403")

    # Neither a crash nor a rate limit can be provoked on a healthy server with its limits
    # off: the server's own templates, rendered as the app renders them, are served at a
    # path of the real origin, so that its static files and its CSP apply.
    page = anon.page
    crashed = server_error(RequestFactory().get("/")).content.decode()
    assert "{{" not in crashed
    page.route("**/e2e/500/", _fulfil(crashed, 500))
    page.goto(anon.base + "/e2e/500/")
    expect(page.get_by_role("heading", name="something went wrong on our side")).to_be_visible()
    snap(page, "42-error-500")

    limited = render_to_string(
        "429.html", {"retry_after_minutes": 15}, request=RequestFactory().get("/accounts/login/")
    )
    page.route("**/e2e/429/", _fulfil(limited, 429))
    page.goto(anon.base + "/e2e/429/")
    expect(page.get_by_role("heading", name="Please slow down")).to_be_visible()
    expect(page.get_by_text("Please try again in 15 minutes.")).to_be_visible()
    snap(page, "43-error-429")
