"""The marketing board through the Flask test client: roles, tenant boundaries, filters,
figures against a direct count, CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, update

from tests.helpers.admin import PASSWORD, login
from tests.helpers.rollups import NOW, T0, Scan, UnitRef, add_scans, brand_units
from tracemark.accounts import users as accounts
from tracemark.models import Brand, Product, Role, ScanEvent
from tracemark.reporting import rollups

ROLES = ("owner", "staff", "marketing", "regulator", "outsider")
RANGE = "start=2026-10-01&end=2026-10-31"
_KPI = re.compile(r'data-kpi="(\w+)"><dt>[^<]*</dt><dd>([^<]*)</dd>')
_ERROR = re.compile(r'data-error="(\w+)">([^<]*)<')


@dataclass
class Board:
    brand: Brand
    units: list[UnitRef]
    scans: list[Scan]
    their_units: list[UnitRef]
    emails: dict[str, str]

    @property
    def base(self) -> str:
        return f"/admin/brands/{self.brand.slug}/analytics"

    def mine(self, product_id: int | None = None) -> list[Scan]:
        return [
            scan
            for scan in self.scans
            if scan.unit is not None
            and scan.unit.brand_id == self.brand.id
            and (product_id is None or scan.unit.product_id == product_id)
        ]


@pytest.fixture
def board(db) -> Board:
    units, theirs = brand_units(db), brand_units(db, per_batch=1)
    # both brands scanned on the same days, in the same countries
    scans = add_scans(db, units, 400, seed=21) + add_scans(db, theirs, 300, seed=22)
    rollups.roll_up(db.sessions, now=NOW)
    emails = {}
    with db.sessions.begin() as session:
        brand = session.get(Brand, units[0].brand_id)
        other = session.get(Brand, theirs[0].brand_id)
        for name in ROLES:
            email = f"{name}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, name.title())
            role = Role.OWNER if name == "outsider" else Role(name)
            accounts.grant(session, user, other if name == "outsider" else brand, role)
            emails[name] = email
    return Board(brand, units, scans, theirs, emails)


def client_as(app, board: Board, role: str, **headers):
    client = app.test_client()
    assert login(client, board.emails[role]).status_code == 302
    return client


def kpis(response) -> dict[str, str]:
    return dict(_KPI.findall(response.get_data(as_text=True)))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("marketing", 200), ("staff", 200), ("regulator", 403), ("outsider", 404)],
)
def test_who_sees_the_board(app, board, role, status):
    client = client_as(app, board, role)
    assert client.get(f"{board.base}?{RANGE}").status_code == status
    assert client.get(f"{board.base}/country.csv?{RANGE}").status_code == status
    nav = client.get(f"/admin/brands/{board.brand.slug}/products").get_data(as_text=True)
    assert ("/analytics" in nav) is (status == 200)


def test_the_regulator_is_told_why(app, board):
    response = client_as(app, board, "regulator").get(board.base)
    assert "for the brand&#39;s owners, staff and marketing" in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(app, board):
    response = app.test_client().get(f"{board.base}/time.csv")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_figures_match_a_direct_count_and_ignore_other_brands(app, board):
    response = client_as(app, board, "marketing").get(f"{board.base}?{RANGE}")
    assert response.status_code == 200
    mine = board.mine()
    first = sum(scan.verdict == "genuine_first_scan" for scan in mine)
    repeat = sum(scan.verdict == "genuine_scanned_before" for scan in mine)
    suspicious = sum(scan.verdict == "suspicious_copy" for scan in mine)
    shown = kpis(response)
    assert shown["scans"] == f"{len(mine):,}"
    assert (shown["first_scans"], shown["repeat_scans"]) == (f"{first:,}", f"{repeat:,}")
    assert shown["suspicious_rate"] == f"{100 * suspicious / len(mine):.1f}%"
    # the scan tiles add up to "All scans"
    kinds = ("first_scans", "repeat_scans", "suspicious", "withheld", "not_genuine", "other")
    parts = sum(int(shown[kind].replace(",", "")) for kind in kinds if kind in shown)
    assert parts == len(mine) and shown["suspicious"] == f"{suspicious:,}"
    html = response.get_data(as_text=True)
    assert html.count("<svg") == 9 and 'data-kind="bars"' in html and "<polyline" in html


def test_the_board_reads_the_rollups_not_the_scan_log(app, board, db):
    client = client_as(app, board, "owner")
    before = kpis(client.get(f"{board.base}?{RANGE}"))
    with db.sessions.begin() as session:
        session.execute(delete(ScanEvent).where(ScanEvent.brand_id == board.brand.id))
    assert kpis(client.get(f"{board.base}?{RANGE}")) == before


def test_the_product_filter_counts_only_that_product(app, board):
    product_id = board.units[0].product_id
    client = client_as(app, board, "marketing")
    response = client.get(f"{board.base}?{RANGE}&product={product_id}")
    assert kpis(response)["scans"] == f"{len(board.mine(product_id)):,}"
    rows = csv_rows(client.get(f"{board.base}/product.csv?{RANGE}&product={product_id}"))
    assert rows[1][0] == str(product_id) and len(rows) == 2


def test_country_csv_holds_every_country_with_its_counts(app, board):
    response = client_as(app, board, "marketing").get(f"{board.base}/country.csv?{RANGE}")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = csv_rows(response)
    assert rows[0] == ["key", "label", "scans", "first_scans", "repeat_scans", "suspicious"]
    got = {row[0]: int(row[2]) for row in rows[1:]}
    expected: dict[str, int] = {}
    for scan in board.mine():
        expected[scan.country or ""] = expected.get(scan.country or "", 0) + 1
    assert got == expected
    labels = {row[0]: row[1] for row in rows[1:]}
    assert labels["ES"] == "Spain" and labels[""] == "Unknown"


def test_months_sum_the_days(app, board):
    client = client_as(app, board, "owner")
    rows = csv_rows(
        client.get(f"{board.base}/time.csv?start=2026-09-15&end=2026-11-15&period=month")
    )
    assert rows[0] == ["period", "scans", "first_scans", "repeat_scans"]
    october = [scan for scan in board.mine() if scan.at.month == 10]
    assert [row[0] for row in rows[1:]] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    assert int(rows[2][1]) == len(october) and int(rows[1][1]) == 0


def test_hotspots_rank_countries_by_suspicious_scans(app, board):
    rows = csv_rows(client_as(app, board, "owner").get(f"{board.base}/hotspots.csv?{RANGE}"))
    assert rows[0] == ["country", "label", "suspicious", "scans", "rate"]
    counts = [int(row[2]) for row in rows[1:]]
    assert counts == sorted(counts, reverse=True) and all(counts)
    expected = sum(scan.verdict == "suspicious_copy" for scan in board.mine())
    assert sum(counts) == expected


def test_csv_cells_cannot_run_as_formulas(app, board, db):
    with db.sessions.begin() as session:
        session.execute(
            update(Product)
            .where(Product.id == board.units[0].product_id)
            .values(name='=HYPERLINK("http://evil.example","x")')
        )
    rows = csv_rows(client_as(app, board, "owner").get(f"{board.base}/product.csv?{RANGE}"))
    names = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","x")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=yesterday", "start"),
        ("start=2026-02-30", "start"),
        ("end=1999-12-31", "end"),
        ("start=%2B2026-01-01", "start"),
        ("start=2026-10-31&end=2026-10-01", "end"),
        ("start=2020-01-01&end=2026-01-01", "end"),
        ("product=abc", "product"),
        ("product=-1", "product"),
        ("product=99999999999999999999", "product"),
        ("period=year", "period"),
        ("period=%00", "period"),
        ("start=" + "9" * 5000, "start"),
    ],
)
def test_bad_filters_get_a_message_not_an_error(app, board, query, field):
    client = client_as(app, board, "marketing")
    response = client.get(f"{board.base}?{query}")
    assert response.status_code == 400
    assert field in dict(_ERROR.findall(response.get_data(as_text=True)))
    exported = client.get(f"{board.base}/time.csv?{query}")
    assert exported.status_code == 400 and exported.mimetype == "text/html"


def test_another_brands_product_is_refused_as_a_filter(app, board):
    client = client_as(app, board, "owner")
    response = client.get(f"{board.base}?product={board.their_units[0].product_id}")
    assert response.status_code == 400 and "product" in dict(_ERROR.findall(response.text))


def test_filter_messages_and_numbers_are_in_the_readers_language(app, board):
    client = client_as(app, board, "owner")
    wrong = client.get(f"{board.base}?period=year", headers={"Accept-Language": "de"})
    assert dict(_ERROR.findall(wrong.text))["period"] == "Wählen Sie Tage, Wochen oder Monate."
    page = client.get(f"{board.base}?{RANGE}", headers={"Accept-Language": "de"})
    assert 'lang="de"' in page.text and "Scans nach Land" in page.text


def test_an_unknown_chart_is_not_found(app, board):
    assert client_as(app, board, "owner").get(f"{board.base}/secrets.csv").status_code == 404


def test_an_empty_range_draws_no_chart_but_says_so(app, board):
    response = client_as(app, board, "owner").get(f"{board.base}?start=2001-01-01&end=2001-01-31")
    assert response.status_code == 200
    assert kpis(response)["scans"] == "0" and "data-empty" in response.text


def test_default_range_ends_today(app, board):
    response = client_as(app, board, "owner").get(board.base)
    today = dt.datetime.now(dt.UTC).date()
    assert f'value="{today.isoformat()}"' in response.text
    assert f'value="{(today - dt.timedelta(days=89)).isoformat()}"' in response.text
    assert T0.date() < today


def test_csv_cells_cannot_run_as_formulas_in_semicolon_spreadsheets(app, board, db):
    with db.sessions.begin() as session:
        session.execute(
            update(Product).where(Product.id == board.units[0].product_id).values(name="Oil;=1+1")
        )
    response = client_as(app, board, "owner").get(f"{board.base}/product.csv?{RANGE}")
    document = response.get_data(as_text=True)
    assert "Oil;'=1+1" in [row[1] for row in csv_rows(response)[1:]]
    pieces = [piece.lstrip('" ') for line in document.splitlines() for piece in line.split(";")]
    assert not any(piece.startswith("=") for piece in pieces)


def test_bar_labels_are_read_in_full():
    from admin import charts

    chart = charts.bar_chart(
        "locale", "t", "d", "v", [("Chinese (Simplified)", 3), ("Portuguese (Brazil)", 1)], str
    )
    assert [bar.short_label for bar in chart.bars] == [
        "Chinese (Simplified)",
        "Portuguese (Brazil)",
    ]
    long = charts.bar_chart("x", "t", "d", "v", [("x" * 80, 1)], str).bars[0]
    assert long.label == "x" * 80 and long.short_label.endswith("…")
