"""The booking flow by keyboard alone: Tab to move, Enter to follow or press, typing to fill.
Every stop on the way shows a visible focus ring."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from e2e.conftest import Visitor
from e2e.helpers import snap

_FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || "").trim(),
    label: el.getAttribute("aria-label") || "", classes: el.className || "",
    outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
  };
}"""


def tab_to(page: Page, matches: Callable[[dict], bool], *, limit: int = 80) -> dict:
    """Presses Tab until the focused element matches; returns it. Fails after `limit` tabs."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if matches(focused):
            # A keyboard user must see where they are.
            assert focused["outline"] != "none", focused
            assert focused["outlineWidth"] >= 2, focused
            return focused
    raise AssertionError(f"no element matched after {limit} tabs")


def test_a_patient_books_by_keyboard_alone(visitor: Callable[..., Visitor]) -> None:
    paula = visitor()
    paula.log_in("300000001")
    page = paula.go("/")

    # The first Tab reaches the skip link, which then shows on screen.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0, box
    assert box["y"] >= 0, box

    tab_to(page, lambda f: f["text"].startswith("General Physician"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="General Physicians", level=1)).to_be_visible()

    tab_to(page, lambda f: f["text"] == "Dr. Felix Wagner")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dr. Felix Wagner", level=1)).to_be_visible()

    slot = tab_to(page, lambda f: "slot" in f["classes"].split() and f["tag"] == "a", limit=150)
    snap(page, "05-doctor-keyboard-focus", check=False)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    when = slot["label"].removeprefix("Book ")
    expect(page.locator(".facts")).to_contain_text(" ".join(when.split()[:3]))

    tab_to(page, lambda f: f["id"] == "id_reason")
    page.keyboard.type("Follow-up on blood pressure.")
    tab_to(page, lambda f: f["text"] == "Book this appointment")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Your appointment is booked.")
    expect(page.locator(".facts")).to_contain_text("Dr. Felix Wagner")
    expect(page.locator(".facts")).to_contain_text(when.split()[-1])
