"""What every browser test shares: Debian's Chromium, its launch options, and a page that
records every request and console error.

Needs ``/usr/bin/chromium`` (Debian's ``chromium`` package) and the ``playwright`` package;
browsers are never downloaded by Playwright. Without them a browser test is skipped, unless
``TRACEMARK_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets), which makes that a failure.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("TRACEMARK_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "browser"
HOST = "127.0.0.1"
PHONE = {"width": 390, "height": 844}
#: locale → (browser locale, hence Accept-Language; expected <html lang>; expected dir)
LOCALES = {
    "zh_Hans": ("zh-CN", "zh-Hans", "ltr"),
    "ar": ("ar", "ar", "rtl"),
    "en": ("en-US", "en", "ltr"),
}
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # the same pixels on every run and machine, for the screenshot comparisons
    # (tests/helpers/screenshots.py): no display colour profile, no font hinting, no
    # subpixel (LCD) text
    "--force-color-profile=srgb",
    "--font-render-hinting=none",
    "--disable-lcd-text",
]
#: Elements whose box sticks out of the viewport on either side (RTL overflow to the
#: start side is not scrollable, so scrollWidth alone would not see it).
OUTSIDE_VIEWPORT = """() => {
  const width = window.innerWidth;
  return [...document.body.querySelectorAll('*')].flatMap((el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return [];
    if (box.left >= -1 && box.right <= width + 1) return [];
    const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
    return [`${name} [${Math.round(box.left)}, ${Math.round(box.right)}]`];
  });
}"""


def unavailable(message: str) -> None:
    if os.environ.get("TRACEMARK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (TRACEMARK_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(message)


def watched_page(context) -> tuple[Any, list[str], list[str]]:
    """A new page of ``context``, with the lists that record every request it makes and
    every console error and uncaught exception: what each browser test asserts on."""
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("console", lambda message: _console_error(message, errors))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return page, requests, errors


def _console_error(message, errors: list[str]) -> None:
    """Keep console errors, CSP violations among them."""
    if message.type != "error":
        return
    source = message.location.get("url", "")
    errors.append(f"{message.text} ({source or 'page'})")


LAPTOP = {"width": 1280, "height": 800}
#: Per chart: how many shapes it drew, its tick labels and axis titles (non-empty).
DRAWN = """(svg) => ({
  shapes: svg.querySelectorAll('g.tm-bar rect, g.tm-series polyline').length,
  nonEmptyBars: [...svg.querySelectorAll('g.tm-bar rect')].filter(
    (r) => r.getBBox().width > 0).length,
  ticks: [...svg.querySelectorAll('.tm-tick')].map((t) => t.textContent.trim()).filter(Boolean),
  titles: [...svg.querySelectorAll('.tm-axis-title')].map((t) => t.textContent.trim()),
  box: [svg.getBoundingClientRect().width, svg.getBoundingClientRect().height],
  values: Object.fromEntries([...svg.querySelectorAll('g.tm-bar')].map(
    (g) => [g.dataset.label, g.dataset.value])),
})"""


#: axe-core's findings as one line per rule and element (only these cross back to Python).
_AXE_RUN = """() => axe.run(document, {resultTypes: ['violations']}).then((results) =>
  results.violations.flatMap((rule) => rule.nodes.map((node) =>
    `${rule.id} (${rule.impact}) ${node.target.join(' ')}: ${node.failureSummary}`)))"""


def load_axe(context) -> None:
    """Have axe-core (bundled by ``axe-playwright-python``) in every page ``context``
    opens from now on, put there by the browser itself before the page's own code (no
    copy of it crosses to the browser per page, as :func:`axe_violations` must send it
    otherwise). The page's Content-Security-Policy does not apply to it."""
    from axe_playwright_python.base import AXE_FILE_PATH

    context.add_init_script(path=AXE_FILE_PATH)


def axe_violations(page) -> list[str]:
    """What axe-core finds wrong on the page as it is now, one line per rule and element:
    every rule axe runs by default, WCAG 2.x A and AA and axe's best practices alike.
    Evaluated through the DevTools protocol, so the page's Content-Security-Policy does
    not stand in the way."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate(_AXE_RUN)
