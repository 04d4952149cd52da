"""The quality and supply-chain boards through the Flask test client: roles, figures of
the hand-built chain (``tests.core.reporting.board_chain``), CSV exports, filters and bad input."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass
from unittest import mock

import pytest
from sqlalchemy import update

from tests.core.reporting.board_chain import NOW, ROLLUP_NOW, World, build, late_fail
from tests.helpers.admin import PASSWORD, assert_no_inline_code, login
from tracemark.accounts import users as accounts
from tracemark.models import Batch, Brand, Role
from tracemark.reporting import board_rollup

ROLES = ("owner", "staff", "marketing", "regulator", "outsider")
OCTOBER = "start=2026-10-01&end=2026-10-31"
_KPI = re.compile(r'data-kpi="(\w+)"><dt>[^<]*</dt><dd>([^<]*)</dd>')
_ERROR = re.compile(r'data-error="(\w+)">([^<]*)<')


@dataclass
class Boards:
    world: World
    other: World
    emails: dict[str, str]

    @property
    def quality(self) -> str:
        return f"/admin/brands/{self.world.slug}/quality"

    @property
    def supply(self) -> str:
        return f"/admin/brands/{self.world.slug}/supply-chain"


@pytest.fixture(scope="module")
def boards(db) -> Boards:
    world, other = build(db.sessions), build(db.sessions)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    late_fail(db.sessions, world)
    late_fail(db.sessions, other)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    emails = {}
    with db.sessions.begin() as session:
        for name in ROLES:
            email = f"{name}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, name.title())
            brand = session.get(Brand, other.brand_id if name == "outsider" else world.brand_id)
            accounts.grant(session, user, brand, Role.OWNER if name == "outsider" else Role(name))
            emails[name] = email
    return Boards(world, other, emails)


@pytest.fixture(autouse=True)
def clock():
    """The boards' "now" is 1 Nov 2026, as in the chain's worked answers."""
    with mock.patch("admin.supply_chain.utcnow", return_value=NOW):
        yield


def client_as(app, boards: Boards, role: str):
    client = app.test_client()
    assert login(client, boards.emails[role]).status_code == 302
    return client


def csv_rows(response) -> list[list[str]]:
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("staff", 200), ("marketing", 403), ("regulator", 403), ("outsider", 404)],
)
def test_who_sees_the_boards(app, boards, role, status):
    client = client_as(app, boards, role)
    for base, chart in ((boards.quality, "defects"), (boards.supply, "stock")):
        assert client.get(f"{base}?{OCTOBER}").status_code == status
        assert client.get(f"{base}/{chart}.csv?{OCTOBER}").status_code == status
    nav = client.get(f"/admin/brands/{boards.world.slug}/products").text
    assert ("/supply-chain" in nav) is (status == 200)


def test_marketing_is_told_why(app, boards):
    response = client_as(app, boards, "marketing").get(boards.quality)
    assert "for the brand&#39;s owners and staff" in response.text


def test_signed_out_visitors_are_sent_to_sign_in(app, boards):
    response = app.test_client().get(f"{boards.supply}/stock.csv")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_the_quality_board_shows_the_worked_figures(app, boards):
    response = client_as(app, boards, "staff").get(f"{boards.quality}?{OCTOBER}")
    assert response.status_code == 200
    assert dict(_KPI.findall(response.text)) == {
        "inspected": "4",
        "passed": "1",
        "yield": "25.0%",
    }
    for chart in ("yield_time", "yield_line", "defects"):
        assert f'data-chart="{chart}"' in response.text
    assert "Checking a seal." in response.text  # B2 on hold, with its notice
    assert_no_inline_code(response.text)


def test_quality_csvs_hold_each_charts_data(app, boards):
    client = client_as(app, boards, "owner")
    lines = csv_rows(client.get(f"{boards.quality}/yield_line.csv?{OCTOBER}"))
    assert lines == [
        ["line", "inspected", "passed", "rate"],
        ["L1", "2", "1", "0.5000"],
        ["L2", "2", "0", "0.0000"],
    ]
    weeks = csv_rows(client.get(f"{boards.quality}/yield_time.csv?{OCTOBER}&period=week"))
    assert weeks[1:] == [
        ["2026-10-05", "L1", "2", "1", "0.5000"],
        ["2026-10-05", "L2", "1", "0", "0.0000"],
        ["2026-10-12", "L2", "1", "0", "0.0000"],
    ]
    defects = csv_rows(client.get(f"{boards.quality}/defects.csv?{OCTOBER}"))
    assert defects[1:] == [["leak", "1"], ["weight", "1"]]
    september = "start=2026-09-01&end=2026-09-30"
    suppliers = csv_rows(client.get(f"{boards.quality}/suppliers.csv?{september}"))
    names = [row[1:] for row in suppliers[1:]]
    assert names == [["North", "2", "1", "0.5000"], ["South", "1", "1", "1.0000"]]
    held = csv_rows(client.get(f"{boards.quality}/held.csv?{OCTOBER}"))
    assert [row[1:5] for row in held[1:]] == [["B2", "Olive oil 1 l", "L1", "on_hold"]]


def test_a_held_lot_splitting_into_a_formula_is_inert_in_semicolon_csv(app, db, boards):
    """A lot ``X;=1+1`` is valid GS1; a spreadsheet whose list separator is ``;`` (de,
    fr, es, pt) splits it into ``X`` and ``=1+1``, which must not run."""
    batch_id = boards.world.batches["B2"]
    with db.sessions.begin() as session:
        session.execute(update(Batch).where(Batch.id == batch_id).values(lot="X;=1+1"))
    try:
        response = client_as(app, boards, "owner").get(f"{boards.quality}/held.csv?{OCTOBER}")
    finally:
        with db.sessions.begin() as session:
            session.execute(update(Batch).where(Batch.id == batch_id).values(lot="B2"))
    assert [row[1] for row in csv_rows(response)[1:]] == ["X;'=1+1"]
    document = response.get_data(as_text=True)
    pieces = [piece.lstrip('" ') for line in document.splitlines() for piece in line.split(";")]
    assert any(piece.startswith("'=1+1") for piece in pieces)
    assert not any(piece.startswith("=") for piece in pieces)


def test_the_line_filter(app, boards):
    client = client_as(app, boards, "owner")
    lines = csv_rows(client.get(f"{boards.quality}/yield_line.csv?{OCTOBER}&line=L2"))
    assert lines[1:] == [["L2", "2", "0", "0.0000"]]
    page = client.get(f"{boards.quality}?{OCTOBER}&line=L2")
    assert dict(_KPI.findall(page.text))["inspected"] == "2"


def test_the_supply_chain_board_shows_the_worked_figures(app, boards):
    client = client_as(app, boards, "owner")
    response = client.get(f"{boards.supply}?{OCTOBER}")
    assert response.status_code == 200
    assert dict(_KPI.findall(response.text)) == {"shipments": "1", "objects": "1"}
    assert "Warehouse" in response.text and "11 days" in response.text
    assert_no_inline_code(response.text)
    stock = csv_rows(client.get(f"{boards.supply}/stock.csv?{OCTOBER}"))
    assert stock[0] == ["site_id", "location", "site", "week", "month", "quarter", "older", "total"]
    assert stock[1][2:] == ["Warehouse", "1", "1", "1", "0", "3"]
    transit = csv_rows(client.get(f"{boards.supply}/shipments.csv?{OCTOBER}"))
    assert len(transit) == 2 and transit[1][2] == "Plant" and transit[1][-1] == "11"
    assert transit[1][4] == "urn:epc:id:sgln:9506000.00002.0"
    ages = csv_rows(client.get(f"{boards.supply}/transit.csv?{OCTOBER}"))
    assert ages[1:] == [["week", "0"], ["month", "1"], ["quarter", "0"], ["older", "0"]]
    sites = csv_rows(client.get(f"{boards.supply}/excursions_site.csv?{OCTOBER}"))
    assert [row[2:] for row in sites[1:]] == [["Warehouse", "2"]]
    listed = csv_rows(client.get(f"{boards.supply}/excursions.csv?{OCTOBER}"))
    assert sorted((row[3], row[8], row[10]) for row in listed[1:]) == [
        ("gs1:RelativeHumidity", "ALARM_CONDITION", "B1"),
        ("gs1:Temperature", "", "B1"),
    ]


def test_the_site_filter_and_an_explained_empty_stock(app, boards):
    client = client_as(app, boards, "owner")
    plant = boards.world.sites["Plant"]
    response = client.get(f"{boards.supply}?{OCTOBER}&site={plant}")
    assert response.status_code == 200
    assert "No object is at any site" in response.text
    assert "No sensor excursion in this range." in response.text
    assert csv_rows(client.get(f"{boards.supply}/stock.csv?{OCTOBER}&site={plant}"))[1:] == []


def test_an_empty_range_draws_no_chart_but_says_so(app, boards):
    response = client_as(app, boards, "owner").get(
        f"{boards.quality}?start=2001-01-01&end=2001-01-31"
    )
    assert response.status_code == 200
    assert "Nothing was inspected for the first time in this range." in response.text
    assert 'data-chart="yield_line"' not in response.text


@pytest.mark.parametrize(
    ("board", "query", "field"),
    [
        ("quality", "line=L9", "line"),
        ("quality", "line=%00", "line"),
        ("quality", "line=" + "L" * 5000, "line"),
        ("quality", "start=tomorrow", "start"),
        ("quality", "period=year", "period"),
        ("supply", "site=abc", "site"),
        ("supply", "site=-1", "site"),
        ("supply", "site=99999999999999999999", "site"),
        ("supply", "product=%00", "product"),
        ("supply", "end=2026-02-30", "end"),
    ],
)
def test_bad_filters_get_a_message_not_an_error(app, boards, board, query, field):
    client = client_as(app, boards, "owner")
    base = boards.quality if board == "quality" else boards.supply
    response = client.get(f"{base}?{query}")
    assert response.status_code == 400
    assert field in dict(_ERROR.findall(response.text))
    chart = "defects" if board == "quality" else "stock"
    exported = client.get(f"{base}/{chart}.csv?{query}")
    assert exported.status_code == 400 and exported.mimetype == "text/html"


def test_another_brands_site_is_refused_as_a_filter(app, boards):
    client = client_as(app, boards, "owner")
    response = client.get(f"{boards.supply}?site={boards.other.sites['Plant']}")
    assert response.status_code == 400 and "site" in dict(_ERROR.findall(response.text))


def test_filter_messages_are_in_the_readers_language(app, boards):
    client = client_as(app, boards, "owner")
    wrong = client.get(f"{boards.quality}?line=L9", headers={"Accept-Language": "de"})
    assert dict(_ERROR.findall(wrong.text))["line"] == (
        "Wählen Sie eine der Produktionslinien der Marke."
    )
    page = client.get(f"{boards.supply}?{OCTOBER}", headers={"Accept-Language": "de"})
    assert 'lang="de"' in page.text and "Lagerbestand je Standort" in page.text


def test_an_unknown_chart_is_not_found(app, boards):
    client = client_as(app, boards, "owner")
    assert client.get(f"{boards.quality}/secrets.csv").status_code == 404
    assert client.get(f"{boards.supply}/defects.csv").status_code == 404


def test_defects_named_after_a_checkpoint_field_show_its_label(app, db, boards):
    from tracemark.quality import checkpoints

    with db.sessions.begin() as session:
        brand = session.get(Brand, boards.world.brand_id)
        if checkpoints.current(session, brand, "leak-check") is None:
            checkpoints.create_template(
                session, brand, "leak-check", {"en": "Leak check"}, biz_step="inspecting",
                subject="batch",
                fields=[{"name": "leak", "type": "passfail", "required": True,
                         "label": {"en": "Bottle does not leak",
                                   "fr": "La bouteille ne fuit pas"}}],
            )  # fmt: skip
    client = client_as(app, boards, "staff")
    page = client.get(f"{boards.quality}?{OCTOBER}").text
    assert "Bottle does not leak" in page and 'data-label="weight"' in page
    assert 'data-label="leak"' not in page
    french = client.get(f"{boards.quality}?{OCTOBER}", headers={"Accept-Language": "fr"}).text
    assert "La bouteille ne fuit pas" in french
    # the CSV keeps the machine key
    assert csv_rows(client.get(f"{boards.quality}/defects.csv?{OCTOBER}"))[1] == ["leak", "1"]
