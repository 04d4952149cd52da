"""The verdict as real people meet it: the device cookie, views against scans, staff
scans, the owner and the shopper of a claimed unit, the country header and PIN budgets."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSPHRASE
from tests.helpers.admin import PASSWORD, login
from tracemark.accounts import users as accounts
from tracemark.codes import issuance, pins
from tracemark.codes.printing import batch_urls
from tracemark.models import Role, ScanEvent

HOME = {"REMOTE_ADDR": "198.51.100.7"}
MOBILE = {"REMOTE_ADDR": "100.64.3.9"}


@pytest.fixture
def codes(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE, with_pin=True)
    with db.sessions() as session:
        urls = batch_urls(session, session.merge(demo.batch), "http://x")
        return [url[url.index("/01/") :] for _s, url, _p in urls]


def _verdict(response) -> str:
    return re.search(r'data-verdict="([a-z_]+)"', response.get_data(as_text=True)).group(1)


def _kinds(db, path: str) -> list[str]:
    with db.sessions() as session:
        serial = path.split("/21/")[1].split("?")[0]
        from tracemark.models import Unit

        unit = session.query(Unit).filter_by(serial=serial).one()
        events = session.query(ScanEvent).filter_by(unit_id=unit.id).order_by(ScanEvent.id)
        return [event.kind for event in events]


def test_the_device_cookie_is_signed_first_party_and_lasting(app, codes):
    client = app.test_client()
    response = client.get(codes[0], environ_base=HOME)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("tm_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=63072000" in cookie
    assert "." in cookie.split(";")[0]  # the id and its signature
    again = client.get(codes[0], environ_base=HOME)
    assert not any(h.startswith("tm_device=") for h in again.headers.getlist("Set-Cookie"))


def test_reloads_and_language_switches_stay_genuine(app, db, codes):
    client = app.test_client()
    assert _verdict(client.get(codes[0], environ_base=HOME)) == "genuine_first_scan"
    assert _verdict(client.get(codes[0], environ_base=HOME)) == "genuine_first_scan"
    client.get(f"/lang/fr?next={codes[0]}")
    page = client.get(codes[0], environ_base=MOBILE)
    assert _verdict(page) == "genuine_first_scan"
    assert _kinds(db, codes[0]) == ["scan", "view", "view"]


def test_a_forged_device_cookie_is_a_new_device(app, db, codes):
    client = app.test_client()
    client.get(codes[0], environ_base=HOME)
    client.set_cookie("tm_device", "made-up-id.bad-signature")
    response = client.get(codes[0], environ_base=HOME, headers={"User-Agent": "other"})
    assert _verdict(response) == "genuine_scanned_before"
    assert any(h.startswith("tm_device=") for h in response.headers.getlist("Set-Cookie"))


def test_signed_in_members_of_the_brand_scan_as_staff(app, db, demo, codes):
    with db.sessions.begin() as session:
        user = accounts.create_user(session, "picker@example.com", PASSWORD, "Picker")
        accounts.grant(session, user, session.merge(demo.brand), Role.STAFF)
    staff = app.test_client()
    assert login(staff, "picker@example.com").status_code == 302
    staff.get(codes[1], environ_base=HOME)
    shopper = app.test_client().get(codes[1], environ_base=MOBILE)
    assert _verdict(shopper) == "genuine_first_scan"
    assert _kinds(db, codes[1]) == ["staff", "scan"]


def _claim(client, demo, path, environ, pin=None):
    html = client.get(path, environ_base=environ).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    serial = path.split("/21/")[1].split("?")[0]
    pin = pin or pins.pin_for(pins.brand_pin_key("test-pin-secret", demo.brand.id), serial)
    data = {"csrf_token": token, "code": path, "pin": pin}
    return client.post("/claim", data=data, environ_base=environ)


def test_the_owner_on_mobile_data_is_the_owner_and_others_are_not_accused(app, demo, codes):
    owner = app.test_client()
    done = _claim(owner, demo, codes[2], HOME)
    assert 'data-claim="claimed"' in done.get_data(as_text=True)
    mine = owner.get(codes[2], environ_base=MOBILE).get_data(as_text=True)
    assert "data-owner" in mine and "suspicious" not in mine
    assert "You registered this product as yours on" in mine
    shopper = app.test_client().get(codes[2], environ_base={"REMOTE_ADDR": "203.0.113.5"})
    html = shopper.get_data(as_text=True)
    assert _verdict(shopper) == "genuine_scanned_before"
    assert (
        "Claimed by its owner on" in html
        and "If you were sold this as new, ask the seller." in html
    )
    assert "data-owner" not in html


def test_the_owner_adds_a_second_phone_with_the_pin(app, demo, codes):
    _claim(app.test_client(), demo, codes[2], HOME)
    tablet = app.test_client()
    added = _claim(tablet, demo, codes[2], MOBILE)
    assert 'data-claim="device_added"' in added.get_data(as_text=True)
    assert "data-owner" in tablet.get(codes[2], environ_base=MOBILE).get_data(as_text=True)


def test_strangers_wrong_pins_do_not_lock_out_the_buyer(app, demo, codes):
    for n in range(12):
        stranger = app.test_client()
        _claim(stranger, demo, codes[1], {"REMOTE_ADDR": f"203.0.{n}.1"}, pin="00000001")
    buyer = _claim(app.test_client(), demo, codes[1], HOME)
    assert buyer.status_code == 200 and 'data-claim="claimed"' in buyer.get_data(as_text=True)


def test_a_locked_network_is_told_when_to_try_again(app, demo, codes):
    client = app.test_client()
    responses = [_claim(client, demo, codes[0], HOME, pin="00000001") for _ in range(3)]
    assert responses[-1].status_code == 429
    assert "Try again in 1 minute." in responses[-1].get_data(as_text=True)


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_country_header_counts_only_behind_a_proxy(app, db, codes, proxies):
    app.config.update(TRACEMARK_COUNTRY_HEADER="CF-IPCountry", TRACEMARK_PROXIES=proxies)
    app.test_client().get(codes[0], headers={"CF-IPCountry": "BR"}, environ_base=HOME)
    with db.sessions() as session:
        event = session.query(ScanEvent).order_by(ScanEvent.id.desc()).first()
    assert event.country == ("BR" if proxies else None)
