"""Forgery reports: from the verdict page of a forged label to the claimed brand's board."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets

import pytest
from PIL import Image
from sqlalchemy import select

from signing.gs1 import gtin_check_digit
from tests.admin.accounts.test_auth import PASSWORD, login
from tests.conftest import PASSPHRASE, forge, fresh_prefix, gtin_under
from tracemark import catalog
from tracemark.accounts import users as accounts
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import AuditLog, Brand, ForgeryReport, Role
from tracemark.scanning.attribution import claimed_brand


@pytest.fixture
def codes(db, demo) -> list[str]:
    issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE)
    with db.sessions() as session:
        urls = [u for _s, u, _p in batch_urls(session, session.merge(demo.batch), "http://x")]
    return [url[url.index("/01/") :] for url in urls]


def _photo_with_metadata() -> bytes:
    picture = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x8825] = {2: (40.0, 24.0, 0.0)}  # GPS latitude: where the shopper stood
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _form(client, path: str) -> tuple[str, dict[str, str]]:
    """The report link of the verdict page at ``path``, and its form's hidden fields."""
    page = client.get(path).get_data(as_text=True)
    link = re.search(r'href="(/report\?[^"]+)" data-report-link', page).group(1)
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    return link, {k: v.replace("&amp;", "&") for k, v in hidden.items()}


def test_a_forged_label_is_reported_for_the_brand_it_claims(db, demo, client, codes):
    forged = forge(codes[0])
    _link, hidden = _form(client, forged)
    assert hidden["verdict"] == "not_genuine" and hidden["code"] == forged
    photo = _photo_with_metadata()
    sent = client.post(
        "/report",
        data={**hidden, "shop": "Mercado Central", "city": "Valencia", "contact": "ana@example.com",
              "photo": (io.BytesIO(photo), "label.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert sent.status_code == 201 and 'data-report="sent"' in sent.get_data(as_text=True)
    with db.sessions() as session:
        [report] = session.scalars(select(ForgeryReport).where(ForgeryReport.code == forged))
        assert report.brand_id == demo.brand.id  # by the key id the code carries
        assert (report.shop, report.city, report.gtin) == ("Mercado Central", "Valencia",
                                                           "09506000134352")  # fmt: skip
        stored = Image.open(io.BytesIO(report.photo))
        assert report.photo != photo and not stored.getexif()  # re-encoded, metadata gone
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "forgery.report")).all()
        assert any(e.object_id == str(report.id) and "ana@" not in str(e.details) for e in entry)


def test_a_report_needs_a_place_and_a_real_picture(client, codes):
    _link, hidden = _form(client, forge(codes[1]))
    nowhere = client.post(
        "/report", data={**hidden, "contact": "me"}, headers={"Accept-Language": "fr"}
    )
    assert nowhere.status_code == 400 and "data-error" in nowhere.get_data(as_text=True)
    assert "Indiquez où vous l" in nowhere.get_data(as_text=True)
    not_a_picture = client.post(
        "/report",
        data={**hidden, "city": "Lyon", "photo": (io.BytesIO(b"<svg/>"), "x.png")},
        content_type="multipart/form-data",
    )
    assert not_a_picture.status_code == 400
    bad_link = client.post("/report", data={**hidden, "online_url": "javascript:alert(1)"})
    assert bad_link.status_code == 400
    assert client.get("/report?code=/x&verdict=not_genuine").status_code == 404
    assert client.get(f"/report?code={codes[1]}&verdict=genuine_first_scan").status_code == 404


def test_reports_are_rate_limited(settings, codes):
    from dataclasses import replace

    from tracemark.app import close, create_app

    app = create_app(replace(settings, report_rate_limit="2/day"), {"TESTING": True})
    client = app.test_client()
    _link, hidden = _form(client, forge(codes[2]))
    statuses = [
        client.post("/report", data={**hidden, "city": "Lyon"}).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    close(app)


def _gtin(body13: str) -> str:
    return body13 + str(gtin_check_digit(body13))


def test_a_code_is_attributed_by_key_then_gtin_then_company_prefix(db, demo):
    mine = gtin_under(demo.prefix, 7)  # a product of the brand's own
    with db.sessions.begin() as session:
        brand = session.get(Brand, demo.brand.id)
        catalog.create_product(session, brand, mine, "Vinegar")
        assert claimed_brand(session, None, demo.kid) == demo.brand.id
        assert claimed_brand(session, mine, "NOSUCHKEY") == demo.brand.id
        # a GTIN several brands use names none of them
        assert claimed_brand(session, "09506000134352", None) != demo.brand.id
        prefix = fresh_prefix()
        catalog.claim_prefix(session, brand, prefix)
        assert claimed_brand(session, _gtin(f"0{prefix}123"), None) == demo.brand.id
        assert claimed_brand(session, "00000000000000", None) is None


def test_the_reports_board_shows_places_and_exports_csv(app, db, demo, client, codes):
    _link, hidden = _form(client, forge(codes[0]))
    for shop in ("Kiosk 5", "Kiosk 5", "Bazar"):
        client.post("/report", data={**hidden, "shop": shop, "city": "Lyon"})
    client.post("/report", data={**hidden, "online_url": "https://cheap-oil.example/x?id=1"})
    email = f"m-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        user = accounts.create_user(session, email, PASSWORD, "Marketing")
        accounts.grant(session, user, session.get(Brand, demo.brand.id), Role.MARKETING)
    admin = app.test_client()
    assert login(admin, email).status_code == 302
    base = f"/admin/brands/{demo.brand.slug}/reports"
    page = admin.get(base).get_data(as_text=True)
    assert 'data-place="|Lyon"' in page and "Kiosk 5, Bazar" in page
    assert page.count('data-verdict="not_genuine"') == 4
    assert '<span dir="ltr" data-online>cheap-oil.example</span>' in page  # an online shop
    rows = list(csv.reader(io.StringIO(admin.get(f"{base}.csv").get_data(as_text=True))))
    assert rows[0][:3] == ["filed_at", "verdict", "gtin"] and len(rows) == 5
    assert {row[8] for row in rows[1:]} == {"Kiosk 5", "Bazar", ""}


def test_forged_scans_count_for_the_brand_the_code_names(db, demo, client, codes):
    from tracemark.models import ScanEvent, ScanRollup
    from tracemark.models.analytics import ALL_PRODUCTS
    from tracemark.models.base import utcnow
    from tracemark.reporting import rollups

    forged = forge(codes[1])
    assert 'data-verdict="not_genuine"' in client.get(forged).get_data(as_text=True)
    with db.sessions() as session:
        event = session.scalars(
            select(ScanEvent)
            .where(ScanEvent.verdict == "not_genuine")
            .order_by(ScanEvent.id.desc())
        ).first()
        assert event.brand_id == demo.brand.id and event.unit_id is None
    rollups.roll_up(db.sessions, now=utcnow() + dt.timedelta(days=3650))  # all settled
    with db.sessions() as session:
        total = session.scalar(
            select(ScanRollup.not_genuine).where(
                ScanRollup.brand_id == demo.brand.id,
                ScanRollup.dimension == "total",
                ScanRollup.product_id == ALL_PRODUCTS,
            )
        )
    assert total == 1
