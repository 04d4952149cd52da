"""The verdict page's journey and sensor alerts in a real headless Chromium: events
captured out of order show in time order, an excursion shows its value and limit in the
page's language. Guarded like ``test_browser``."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from tests.core.trace.trace_chain import ALARM, document, event
from tests.helpers.browser import ARTIFACTS, PHONE, watched_page
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.epcis import identifiers as epc
from tracemark.trace import capture

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
def code_path(db, demo) -> str:
    issuance.issue(db.sessions, demo.batch.id, 1, PASSPHRASE)
    batch_class = epc.lot_class("09506000134352", "L2401A")
    events = [
        event("ObjectEvent", "urn:uuid:j-ship", "2026-10-04T09:00:00+02:00", action="OBSERVE",
              bizStep="shipping", quantityList=[{"epcClass": batch_class}],
              bizLocation={"id": "urn:epc:id:sgln:0614141.00001.0"},
              sensorElementList=[{"sensorReport": [ALARM | {"tm:limit": 25}]}]),
        event("ObjectEvent", "urn:uuid:j-pack", "2026-10-02T09:00:00+02:00", action="OBSERVE",
              bizStep="packing", quantityList=[{"epcClass": batch_class}]),
    ]  # fmt: skip
    with db.sessions.begin() as session:
        capture.capture_document(session, session.merge(demo.brand), document(events))
        batch = session.merge(demo.batch)
        url = next(url for _serial, url, _pin in batch_urls(session, batch, "http://x"))
    return url[url.index("/01/") :]


@pytest.mark.parametrize(
    ("locale", "alert"),
    [
        ("en-US", "Temperature reached 31.5 °C (limit 25 °C)"),
        ("de-DE", "Temperatur erreichte 31,5 °C (Grenzwert 25 °C)"),
    ],
)
def test_the_journey_and_a_sensor_alert_show_on_the_verdict_page(
    browser, server, code_path, locale, alert
):
    context = browser.new_context(locale=locale, viewport=PHONE, is_mobile=True)
    context.set_default_timeout(5_000)
    page, _requests, errors = watched_page(context)
    try:
        assert page.goto(server + code_path).status == 200
        steps = page.locator("[data-journey] li")
        assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == [
            "packing",
            "shipping",
        ]
        excursion = page.locator('[data-excursions] li[data-excursion="gs1:Temperature"]')
        assert excursion.is_visible()
        assert excursion.locator("strong").inner_text() == alert
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"verdict-journey-{locale}.png", full_page=True)
    finally:
        context.close()
    assert errors == [], f"console errors: {errors}"
