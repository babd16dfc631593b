"""What the browser tests share: screenshots at both widths with an axe-core check, and the
ways a person finds things on our pages."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page

from e2e.conftest import DESKTOP, PHONE, SCREENSHOTS

# axe-core's own impact levels; "serious" and "critical" fail the test.
FAILING = ("serious", "critical")

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(_AXE_RUN)


def snap(page: Page, name: str, *, check: bool = True) -> None:
    """Screenshots of the page as it is now at 1280 px and at 390 px (full length), into
    var/screenshots/<name>-<width>.png, and axe-core's check at each width: no serious or
    critical violation. Milder findings are written to var/screenshots/axe-<name>.json."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    was = page.viewport_size
    found: dict[str, list[dict[str, Any]]] = {}
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.screenshot(
            path=SCREENSHOTS / f"{name}-{size['width']}.png", full_page=True, animations="disabled"
        )
        if check:
            found[str(size["width"])] = axe_violations(page)
    if was:
        page.set_viewport_size(was)
    if not check:
        return
    report = SCREENSHOTS / f"axe-{name}.json"
    report.write_text(json.dumps({"url": page.url, "violations": found}, indent=2))
    failing = [v for vs in found.values() for v in vs if v["impact"] in FAILING]
    assert not failing, f"axe-core on {name} ({page.url}): {json.dumps(failing, indent=2)}"


def mark_no_reload(page: Page) -> None:
    """Sets a flag that a reload would wipe: `still_same_document` proves none happened."""
    page.evaluate("window.__e2eNoReload = true")


def still_same_document(page: Page) -> bool:
    return page.evaluate("window.__e2eNoReload === true")
