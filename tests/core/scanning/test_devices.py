"""The coarse device class of a scan, from its user agent (which is never stored)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.codes.verify import check_url
from tracemark.models import ScanEvent
from tracemark.scanning.devices import device_class
from tracemark.scanning.scans import Client, record_and_judge

AGENTS = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "mobile",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36": "mobile",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15": "tablet",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 Chrome/126.0 Safari/537.36": (
        "tablet"
    ),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36": (
        "desktop"
    ),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15": (
        "desktop"
    ),
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0": "desktop",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": "bot",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X) Chrome/126.0 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1)": "bot",
    "curl/8.5.0": "bot",
    "python-requests/2.32.3": "bot",
    "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0 Safari/537.36": "bot",
    "": "other",
    "Nokia3310": "other",
}


@pytest.mark.parametrize(("agent", "expected"), list(AGENTS.items()))
def test_user_agents_fall_into_five_classes(agent, expected):
    assert device_class(agent) == expected


def test_hostile_agents_are_classified_without_trouble():
    assert device_class(None) == "other"
    assert device_class("\x00" * 100_000) == "other"
    assert device_class("x" * 600 + "iPhone") == "other"  # only the first 512 characters count
    assert device_class("ANDROID MOBILE") == "mobile"


def test_the_scan_event_keeps_the_class_not_the_agent(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 1, PASSPHRASE)
    agent = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) secret-build-42"
    with db.sessions.begin() as session:
        url = next(
            url for _s, url, _p in batch_urls(session, session.merge(demo.batch), "http://x")
        )
        client = Client(ip="198.51.100.7", user_agent=agent, accept_language="en", locale="en")
        record_and_judge(session, check_url(session, url), client, secret=b"s")
    with db.sessions() as session:
        event = session.scalars(select(ScanEvent).order_by(ScanEvent.id.desc())).first()
    assert event.device_class == "tablet"
    assert "secret-build" not in " ".join(str(v) for v in vars(event).values())
