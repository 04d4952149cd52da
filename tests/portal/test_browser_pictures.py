"""Pictures and a Markdown story on the verdict page in a real headless Chromium.

A phone lays the page out without sideways scrolling, lazy pictures keep their space
before they load (width and height, so nothing shifts), they load from our own host under
the Content-Security-Policy, and nothing in the story runs.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from tests.helpers.browser import ARTIFACTS, HOST, OUTSIDE_VIEWPORT, PHONE, watched_page
from tests.helpers.content import photo
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.models import PublishState

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
def code_path(db, demo) -> str:
    issuance.issue(db.sessions, demo.batch.id, 1, PASSPHRASE)
    with db.sessions.begin() as session:
        batch, product = session.merge(demo.batch), session.merge(demo.product)
        bottle = images.add_image(session, product, photo((1600, 1200)), "The bottle")
        images.set_state(bottle, PublishState.PUBLISHED)
        grove = images.add_image(session, batch, photo((1200, 800)), "The grove")
        body = (
            "## From the grove\n\nPicked **in October** on the hills.\n\n"
            f"![The grove](image:{grove.id})\n\n- pressed cold\n- filtered\n\n"
            "[Our mill](https://mill.example/) <img src=x onerror=\"document.title='owned'\">"
        )
        content.add_story(session, batch, "en", "Harvest 2026", body, publish=True)
        url = next(url for _serial, url, _pin in batch_urls(session, batch, "http://x"))
    return url[url.index("/01/") :]


def test_pictures_and_story_on_a_phone(browser, server, code_path):
    context = browser.new_context(
        locale="en-US", viewport=PHONE, device_scale_factor=1, is_mobile=True
    )
    context.set_default_timeout(5_000)
    page, requests, errors = watched_page(context)
    try:
        assert page.goto(server + code_path).status == 200
        pictures = page.locator("main img")
        assert pictures.count() == 2
        # space kept before loading: each box already has the picture's proportions
        for i in range(2):
            box = pictures.nth(i).bounding_box()
            width, height = (int(pictures.nth(i).get_attribute(a)) for a in ("width", "height"))
            assert box["width"] <= PHONE["width"]
            assert abs(box["height"] - box["width"] * height / width) < 2
        page.mouse.wheel(0, 5000)
        page.wait_for_function(
            "[...document.querySelectorAll('main img')].every(i => i.complete && i.naturalWidth)"
        )
        assert page.evaluate(OUTSIDE_VIEWPORT) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.title() != "owned"
        assert page.locator(".story-body h2").inner_text() == "From the grove"
        assert page.locator(".story-body a").get_attribute("rel") == "nofollow noopener"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "verdict-pictures.png", full_page=True)
    finally:
        context.close()
    elsewhere = [u for u in requests if not u.startswith(f"http://{HOST}:")]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
