"""The doctor's live grid as a keyboard user and a phone user meet it: the 10-second refresh
morphs the grid in place (focus and scroll stay, even when a time before the focused one is
taken meanwhile), the fortnight shown is in the address (reload keeps it), the booking
horizon is explained, and every time is a touch target of at least 44 px."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from e2e.conftest import Server, Visitor
from e2e.helpers import axe_violations, snap
from e2e.test_keyboard import tab_to

DOCTOR = "/doctors/leila-haddad/"  # a doctor no other journey books or changes

_COUNT_SWAPS = """() => {
  window.__swaps = 0;
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target.id === "grid") window.__swaps++;
  });
}"""


def no_axe_findings(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], found


def test_keyboard_focus_stays_on_the_same_time_through_two_refreshes(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    kim = visitor()
    page = kim.go(DOCTOR)
    # Into the grid by keyboard, a few times along so that earlier times exist.
    tab_to(page, lambda f: "slot" in f["classes"].split() and f["tag"] == "a", limit=150)
    for _ in range(3):
        page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused
    assert focused.startswith("Book "), focused
    page.evaluate("window.__focused = document.activeElement")
    page.evaluate(_COUNT_SWAPS)
    scroll = page.evaluate("window.scrollY")
    earlier_href = page.locator("#grid a.slot").first.get_attribute("href")
    earlier_label = page.locator("#grid a.slot").first.get_attribute("aria-label")
    assert earlier_href
    assert earlier_label
    assert earlier_label != focused

    # Meanwhile someone else books a time before the focused one, through the site (so the
    # server's calendar version changes and the next poll gets a new grid).
    # Omar, a demo patient no other journey signs in as: a booking by Quentin would sit at
    # the time the waitlist journey offers him (one person, one appointment at a time).
    omar = visitor()
    omar.log_in("300000004")
    other = omar.go(earlier_href)
    other.get_by_label("Reason for the visit").fill("Check-up.")
    other.get_by_role("button", name="Book this appointment").click()
    expect(other.get_by_role("status")).to_contain_text("Your appointment is booked.")
    page.wait_for_timeout(25_000)

    assert page.evaluate("window.__swaps") >= 2
    assert page.evaluate("document.activeElement === window.__focused")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == focused
    assert page.evaluate("window.scrollY") == scroll
    expect(page.locator(f'#grid a.slot[aria-label="{earlier_label}"]')).to_have_count(0)
    # The person carries on where they were: Enter books the focused time.
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=.*book"))


def test_a_phone_user_pages_on_reloads_and_reaches_the_horizon(
    visitor: Callable[..., Visitor], server: Server
) -> None:
    phone = visitor(phone=True)
    page = phone.go(DOCTOR)
    expect(page.locator("#grid .day")).to_have_count(14)
    first = page.locator(".grid-pager strong").inner_text()

    # Every time on the grid is a touch target: at least 44 px high and wide, measured.
    sizes = page.locator("#grid .slot:not(.legend .slot)").evaluate_all(
        "els => els.filter(e => !e.closest('.legend'))"
        ".map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])"
    )
    assert len(sizes) > 20, sizes
    assert min(h for _, h in sizes) >= 44, sizes
    assert min(w for w, _ in sizes) >= 44, sizes

    page.get_by_role("link", name="Later →").click()
    later_start = (server.today() + dt.timedelta(days=14)).isoformat()
    expect(page).to_have_url(re.compile(rf"{DOCTOR}\?start={later_start}$"))
    second = page.locator(".grid-pager strong").inner_text()
    assert second != first
    page.reload()
    expect(page.locator(".grid-pager strong")).to_have_text(second)
    expect(page.get_by_role("link", name="← Earlier")).to_be_visible()

    # On to the booking horizon: the grid says why it ends there.
    for _ in range(10):
        later = page.get_by_role("link", name="Later →")
        if not later.count():
            break
        later.click()
        page.wait_for_load_state()
        expect(page.locator(".skeleton-overlay.htmx-request")).to_have_count(0)
    note = page.locator("#horizon-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("days ahead")
    expect(note).to_contain_text("is the last day that can be booked")
    expect(page).to_have_url(re.compile(r"\?start=\d{4}-\d{2}-\d{2}$"))
    no_axe_findings(page)
    snap(page, "30-grid-horizon")
    page.reload()
    expect(page.locator("#horizon-note")).to_be_visible()
