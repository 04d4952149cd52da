"""Each verdict as a shopper sees it on a phone (390 by 844) in English, Chinese and Arabic.

What the eye needs and only a browser can tell: the verdict's banner sits at the top of
the screen (the language switcher takes one line), each kind of verdict has its own icon
shape and its own tint (a copy is not a hold, a recall is not a forgery), the PIN form
is not offered where claiming makes no sense, and nothing sticks out of the screen.
Screenshots of every verdict go to ``test-artifacts/browser/verdicts/`` and are compared
with the references in ``tests/portal/screenshots/`` (eight verdicts, including a claimed
code and a sent forgery report, in three locales; see :mod:`tests.helpers.screenshots`),
so any change of layout, colour or wording is seen. Guarded like the portal's browser
test (see ``tests/portal/test_browser.py``).
"""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, forge, furnish
from tests.helpers.browser import ARTIFACTS, HOST, LOCALES, OUTSIDE_VIEWPORT, PHONE, watched_page
from tests.helpers.screenshots import fixed_clock, mismatch
from tests.helpers.verdicts import code_paths, genuine_states, held_and_recalled
from tracemark.codes import issuance, pins

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

#: verdict → the tone (icon shape and colours) it is drawn in
TONES = {
    "genuine_first_scan": "ok",
    "genuine_scanned_before": "ok",
    "suspicious_copy": "copy",
    "batch_on_hold": "hold",
    "batch_recalled": "recall",
    "not_genuine": "forged",
}
#: how far down the screen the verdict's banner may start (the bar is one line)
BANNER_TOP = 90
#: the stored reference screenshots, ``<verdict>-<locale>.png`` (see tests/helpers/screenshots.py)
SCREENSHOTS = Path(__file__).with_name("screenshots")


@pytest.fixture
def codes(db, demo, app, monkeypatch) -> dict[str, dict[str, str]]:
    """Per locale: a code in each verdict's state, and the PIN of the fresh one. The
    serials and the clock are the same on every run, so the pages are too."""
    fixed_clock(monkeypatch)
    draw = random.Random(17)
    monkeypatch.setattr(
        issuance,
        "new_serial",
        lambda: base64.b32encode(draw.randbytes(8)).decode("ascii")[:13],
    )
    n = len(LOCALES)
    issuance.issue(db.sessions, demo.batch.id, 4 * n, PASSPHRASE, with_pin=True)
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        batch.product.brand.name = "Demo Olive Oil Co."
        furnish(session, batch, journey=())
    on_hold, gone = held_and_recalled(db.sessions, demo.batch, n)
    with db.sessions() as session:
        pin_key = pins.brand_pin_key("test-pin-secret", demo.brand.id)
        main = code_paths(session, session.merge(demo.batch), pin_key)
    found = genuine_states(app, main, LOCALES)
    for i, locale in enumerate(LOCALES):
        found[locale].update(
            batch_on_hold=on_hold[i], batch_recalled=gone[i], not_genuine=forge(main[3 * n + i][0])
        )
    return found


def _look(page) -> dict:
    return page.evaluate(
        """() => {
      const v = document.querySelector('[data-verdict]');
      const icon = v.querySelector('svg.verdict-icon');
      const box = v.getBoundingClientRect(), iconBox = icon.getBoundingClientRect();
      const style = getComputedStyle(v);
      return {verdict: v.dataset.verdict, top: box.top, icon: icon.dataset.icon,
              iconShown: iconBox.width >= 24 && iconBox.height >= 24,
              tint: style.backgroundColor, frame: style.borderTopColor,
              headline: getComputedStyle(v.querySelector('h1')).color,
              pinForm: !!document.querySelector('form.claim'),
              bidi: v.querySelector('h1').innerText.trim().length > 0};
    }"""
    )


@pytest.mark.parametrize("locale", list(LOCALES))
def test_each_verdict_reads_at_a_glance_on_a_phone(browser, server, codes, locale):
    browser_locale, _lang, direction = LOCALES[locale]
    context = browser.new_context(
        locale=browser_locale, viewport=PHONE, device_scale_factor=1, is_mobile=True
    )
    context.set_default_timeout(5_000)
    page, requests, errors = watched_page(context)
    shots = ARTIFACTS / "verdicts"
    shots.mkdir(parents=True, exist_ok=True)
    looks, problems = {}, []

    def shoot(name: str) -> None:
        """Save the page's screenshot and compare it with its stored reference."""
        png = page.screenshot(
            path=shots / f"{locale}-{name}.png", full_page=True, animations="disabled"
        )
        problems.append(mismatch(png, SCREENSHOTS / f"{name}-{locale}.png", shots))

    try:
        mine = codes[locale]
        for verdict in TONES:
            response = page.goto(server + mine[verdict])
            assert response is not None and response.status == 200
            assert page.locator("html").get_attribute("dir") == direction
            look = looks[verdict] = _look(page)
            assert look["verdict"] == verdict
            assert look["icon"] == TONES[verdict] and look["iconShown"]
            assert look["top"] <= BANNER_TOP, f"{verdict} starts {look['top']} px down"
            assert look["bidi"]
            if verdict in ("suspicious_copy", "batch_recalled", "not_genuine"):
                assert not look["pinForm"], f"a PIN form under {verdict}"
            assert page.evaluate(OUTSIDE_VIEWPORT) == []
            shoot(verdict)
            if verdict == "not_genuine":
                # a forged label leads to the report form, and the report is sent
                with page.expect_navigation():
                    page.locator("[data-report-link]").click()
                page.fill("#shop", "Mercado Central")
                page.fill("#city", "Valencia")
                assert page.evaluate(OUTSIDE_VIEWPORT) == []
                page.screenshot(path=shots / f"{locale}-report_form.png", full_page=True)
                with page.expect_navigation():
                    page.locator(".report-form button").click()
                assert page.locator('[data-report="sent"] svg.verdict-icon').is_visible()
                shoot("report_sent")
            if verdict == "genuine_first_scan":
                assert look["pinForm"]
                # the owner claims it; the page then says so, with no form
                page.fill("#pin", mine["pin"])
                with page.expect_navigation():
                    page.locator("form.claim button").click()
                assert page.locator("[data-claim]").get_attribute("data-claim") == "claimed"
                page.goto(server + mine[verdict])
                assert page.locator(".claimed").is_visible()
                assert not page.locator("form.claim").count()
                shoot("claimed")
    finally:
        context.close()
    # every verdict looks as stored: a layout change shows as a failure with a diff picture
    differing = [problem for problem in problems if problem]
    assert not differing, "\n".join(differing)
    # distinct at a glance: a copy is not a hold, a recall is not a forgery
    for a, b in (("suspicious_copy", "batch_on_hold"), ("batch_recalled", "not_genuine")):
        assert looks[a]["tint"] != looks[b]["tint"] and looks[a]["frame"] != looks[b]["frame"]
        assert looks[a]["icon"] != looks[b]["icon"]
    assert looks["genuine_first_scan"]["tint"] != looks["not_genuine"]["tint"]
    elsewhere = [u for u in requests if not u.startswith(f"http://{HOST}:")]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
