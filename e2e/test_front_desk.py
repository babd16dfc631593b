"""The front desk's journey, and the admin's: by real clicks in Chromium.

Fiona (the demo's front desk at City Centre) registers a walk-in patient, books them with
Dr. Anna Weber this evening, and later checks them in from the branch's queue; the patient
sets their own password from the e-mail, logs in and sees the appointment. The admin adds a
doctor in Django admin and activates a pending patient from the user's own page; the
activation e-mail goes out once.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable

from playwright.sync_api import expect

from e2e.conftest import DESKTOP, Server, Visitor
from e2e.helpers import snap

WALK_IN_ID = "300000077"
WALK_IN_EMAIL = "wanda.walkin@example.com"
WALK_IN_PASSWORD = "wandas-own-secret-58"

# Anna's slot at 19:00 on today's weekday: today's appointments are the ones checked in.
EVENING_SLOT = """
import datetime as dt
from accounts.models import DoctorProfile
from scheduling import clock, services
from scheduling.models import Slot
anna = DoctorProfile.objects.get(user__national_id="200000001")
day = clock.today().weekday()
if not Slot.objects.active().filter(doctor=anna, weekday=day, start_time=dt.time(19)).exists():
    services.add_slot(doctor=anna, weekday=day, start_time=dt.time(19), end_time=dt.time(19, 30))
"""


def mails_to(output: str, address: str) -> list[str]:
    """The subject and text of each message to `address` in the console mail backend's
    output of one worker run (as a mail client shows it: quoted-printable decoded)."""
    found = []
    for raw in re.split(r"\n-{20,}\n", output):
        message = email.message_from_string(raw.strip(), policy=email.policy.default)
        if message["To"] != address:
            continue
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        found.append(f"Subject: {message['Subject']}\n\n{text}")
    return found


def test_front_desk_registers_books_and_checks_in_a_walk_in_patient(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    server.shell(EVENING_SLOT)
    today = server.today()
    evening = f"Book {today:%A} {today.day} {today:%B} 19:00"

    fiona = visitor()
    fiona.log_in("400000001")
    page = fiona.page
    expect(page).to_have_url(re.compile(r"/front-desk/$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Today, "))).to_be_visible()
    snap(page, "40-front-desk-day")

    # A walk-in patient, whose ID card Fiona has seen.
    tabs = page.get_by_role("navigation", name="Front desk")
    tabs.get_by_role("link", name="Register a patient").click()
    page.get_by_label("National ID", exact=True).fill("300 000 077")
    page.get_by_label("Full name").fill("Wanda Walkin")
    page.get_by_label("E-mail").fill(WALK_IN_EMAIL)
    page.get_by_label("Phone", exact=True).fill("030 5000077")
    page.get_by_label("Date of birth").fill("1968-09-21")
    snap(page, "41-front-desk-register")
    page.get_by_role("button", name="Register the patient").click()
    expect(page.get_by_role("status")).to_contain_text("Wanda Walkin is registered")
    expect(page.get_by_role("heading", name="Wanda Walkin", level=1)).to_be_visible()

    # Booked with Dr. Anna Weber this evening.
    page.get_by_role("link", name=re.compile(r"^Book with Dr\. Anna Weber")).click()
    expect(page.get_by_role("heading", name="Dr. Anna Weber", level=1)).to_be_visible()
    snap(page, "42-front-desk-book-grid")
    page.get_by_role("link", name=evening).click()
    expect(page.get_by_role("heading", name="Confirm the booking")).to_be_visible()
    page.get_by_label("Reason for the visit").fill("Walk-in: sore throat.")
    snap(page, "43-front-desk-book-confirm")
    page.get_by_role("button", name="Book for Wanda Walkin").click()
    expect(page.get_by_role("status")).to_contain_text("Booked: Wanda Walkin with Dr. Anna Weber")
    upcoming = page.locator("section", has=page.locator("#upcoming-h"))
    expect(upcoming).to_contain_text("19:00")
    snap(page, "44-front-desk-patient")

    # The patient's mail: a link to choose their own password.
    output = server.manage("run_worker", "--once")
    [welcome] = [m for m in mails_to(output, WALK_IN_EMAIL) if "choose your password" in m]
    link = re.search(r"http://127\.0\.0\.1:\d+/accounts/reset/\S+/", welcome)
    assert link is not None, welcome
    assert mails_to(output, WALK_IN_EMAIL) != [welcome], "the booking confirmation goes too"

    wanda = visitor(phone=True)
    wanda.page.goto(link.group(0))
    wanda.page.get_by_label("New password", exact=True).fill(WALK_IN_PASSWORD)
    wanda.page.get_by_label(re.compile(r"^New password (again|confirmation)")).fill(
        WALK_IN_PASSWORD
    )
    wanda.page.get_by_role("button", name=re.compile("password", re.I)).click()
    expect(wanda.page).to_have_url(re.compile(r"/accounts/reset/done/$"))
    wanda.log_in(WALK_IN_ID, WALK_IN_PASSWORD)
    expect(wanda.page).to_have_url(re.compile(r"/appointments/$"))
    mine = wanda.page.locator("section", has=wanda.page.locator("#upcoming-h"))
    expect(mine).to_contain_text("Dr. Anna Weber")
    expect(mine).to_contain_text("19:00")
    snap(wanda.page, "45-walk-in-patient-appointments")

    # Wanda arrives: Fiona checks her in from the branch's queue.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Front desk").click()
    page.get_by_role("button", name="Check in Wanda Walkin").click()
    row = page.locator("tr", has_text="Wanda Walkin")
    expect(row.locator(".badge")).to_have_text("Checked in")
    expect(row.locator(".queue-no")).to_be_visible()
    snap(page, "46-front-desk-checked-in")


def test_front_desk_finds_a_patient_and_moves_and_cancels_for_them(
    visitor: Callable[..., Visitor],
) -> None:
    """A phone call: Paula wants to see Dr. Grace Kim, then to move the visit, then to
    cancel it. Every page the desk passes through speaks of Paula, not of "your"
    appointment."""
    fiona = visitor()
    fiona.log_in("400000001")
    page = fiona.page

    # Found by her national ID as she spells it on the phone.
    page.get_by_role("search").get_by_role("searchbox").fill("300 000 001")
    page.get_by_role("search").get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="Find a patient", level=1)).to_be_visible()
    snap(page, "47-front-desk-found")
    page.get_by_role("link", name="Paula Patient").click()
    expect(page.get_by_role("heading", name="Paula Patient", level=1)).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Book with Dr\. Grace Kim")).click()
    page.locator("a.slot").last.click()
    page.get_by_role("button", name="Book for Paula Patient").click()
    expect(page.get_by_role("status")).to_contain_text("Booked: Paula Patient with Dr. Grace Kim")

    upcoming = page.locator("section", has=page.locator("#upcoming-h"))
    row = upcoming.locator("tr", has_text="Dr. Grace Kim")
    row.get_by_role("link", name=re.compile(r"^Change the time")).click()
    expect(page.locator(".page-head")).to_contain_text("Paula Patient's current time stays")
    page.locator("a.slot").first.click()
    expect(page.get_by_role("heading", name="Confirm the new time")).to_be_visible()
    snap(page, "48-front-desk-reschedule")
    page.get_by_role("button", name="Move Paula Patient's appointment to this time").click()
    expect(page.get_by_role("status")).to_contain_text("Paula Patient's appointment is moved")
    expect(
        page.get_by_role("heading", name="Paula Patient's appointment with Dr. Grace Kim")
    ).to_be_visible()
    snap(page, "49-front-desk-appointment")

    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_role("heading", name="Cancel Paula Patient's appointment?")).to_be_visible()
    page.get_by_label("Reason").fill("Paula called: she is travelling.")
    snap(page, "49-front-desk-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status")).to_contain_text("Paula Patient's appointment is cancelled")
    expect(page.locator("main")).not_to_contain_text("Your appointment")
    page.get_by_role("link", name="← Back to Paula Patient").click()
    expect(page.get_by_role("heading", name="Paula Patient", level=1)).to_be_visible()


def test_admin_adds_a_doctor_and_activates_a_pending_patient_from_their_page(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    ada = visitor()
    admin = ada.go("/admin/")
    admin.locator("#id_username").fill("100000001")
    admin.locator("#id_password").fill("demo-pass-123")
    admin.get_by_role("button", name="Log in").click()
    panel = admin.locator("#waiting")
    expect(panel).to_contain_text("waiting for activation")
    snap(admin, "50-admin-index", check=False)

    # A new doctor, by the add form.
    admin.locator("#content-main").get_by_role("link", name="Users").first.click()
    # The users table fits 1280 px: nothing to scroll sideways, the last column in view.
    expect(admin.locator("#result_list")).to_be_visible()
    snap(admin, "51-admin-users", check=False)
    assert admin.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    assert admin.evaluate(
        "(() => { const r = document.querySelector('#result_list').parentElement;"
        " return r.scrollWidth <= r.clientWidth; })()"
    )
    expect(admin.locator("#result_list thead")).to_contain_text("Joined")
    admin.get_by_role("link", name=re.compile(r"Add user")).click()
    admin.get_by_label("National ID").fill("200-000-050")
    admin.get_by_label("Full name").fill("Nadia Neumann")
    admin.get_by_label("E-mail").fill("nadia.neumann@clinic.example")
    admin.get_by_label("Phone").fill("030 3000050")
    admin.get_by_label("Role").select_option(label="Doctor")
    admin.get_by_label("Specialty").select_option(label="Dermatologist")
    admin.get_by_label("Branch").select_option(label="Riverside")
    admin.get_by_label("Password:", exact=True).fill("nadias-first-pass-81")
    admin.get_by_label("Password again").fill("nadias-first-pass-81")
    expect(admin.get_by_label("Active at once")).to_be_checked()
    snap(admin, "52-admin-add-doctor", check=False)
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("was added successfully")
    doctors = ada.context.new_page()
    doctors.goto(f"{server.url}/doctors/nadia-neumann/")
    expect(doctors.get_by_role("heading", name="Dr. Nadia Neumann", level=1)).to_be_visible()

    # Her page's Deactivate button takes her out again (the other journeys count the demo's
    # twelve doctors).
    admin.get_by_role("button", name="Deactivate", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("Nadia Neumann is deactivated")
    expect(admin.get_by_role("button", name="Activate", exact=True)).to_be_visible()
    doctors.goto(f"{server.url}/doctors/?q=Neumann")
    expect(doctors.locator(".doctor-card")).to_have_count(0)
    doctors.close()

    # Peter (pending) activated from his own page: one click, one mail.
    admin.goto(f"{server.url}/admin/accounts/user/?status=pending")
    admin.get_by_role("link", name="Peter Pending").click()
    snap(admin, "53-admin-user-pending", check=False)
    admin.get_by_role("button", name="Activate", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("Peter Pending is active")
    expect(admin.get_by_role("button", name="Deactivate", exact=True)).to_be_visible()
    snap(admin, "54-admin-user-activated", check=False)

    output = server.manage("run_worker", "--once")
    again = server.manage("run_worker", "--once")
    activated = [m for m in mails_to(output, "pending@clinic.example") if "is active" in m]
    assert len(activated) == 1
    assert mails_to(again, "pending@clinic.example") == []
    assert "/accounts/login/" in activated[0]
