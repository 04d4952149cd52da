import datetime as dt
import time

from sqlalchemy import select, update

from tracemark import catalog, demo
from tracemark.accounts import users as accounts
from tracemark.codes import issuance
from tracemark.codes.pins import brand_pin_key, pin_for
from tracemark.codes.verify import Identity, check_url
from tracemark.config import Settings
from tracemark.db import make_engine, make_sessionmaker
from tracemark.labels import renders as label_renders
from tracemark.models import (
    Batch,
    BatchStatus,
    Brand,
    IssuanceJob,
    JobStatus,
    LabelRender,
    OutboxMessage,
    Role,
    TraceEvent,
)
from tracemark.models.base import utcnow
from tracemark.quality import checkpoints, rules
from tracemark.reporting import analytics, quality
from tracemark.reporting.watermark import SETTLE
from tracemark.scanning import scans
from tracemark.scanning.scans import Client
from tracemark.trace import capture


def test_demo_setup_is_genuine_and_idempotent(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    first = demo.setup(settings, "http://127.0.0.1:5000")
    assert first.sample_url.startswith("HTTP://127.0.0.1:5000/01/09506000134352/10/L2401A/21/")
    again = demo.setup(settings, "http://127.0.0.1:5000")
    assert again.sample_url == first.sample_url
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        check = check_url(session, first.sample_url)
        assert check.identity is Identity.GENUINE
        key = brand_pin_key(settings.require_pin_secret(), check.facts.brand_id)
        assert first.sample_pin == pin_for(key, check.code.serial)
        owner = accounts.authenticate(session, first.owner_email, first.owner_password)
        assert owner is not None
        assert accounts.role_in(session, owner, check.facts.brand_id) is Role.OWNER
        brand = session.get_one(Brand, check.facts.brand_id)
        assert len(checkpoints.templates(session, brand, active_only=True)) == 5
    engine.dispose()


def test_the_demo_rule_holds_a_batch_that_fails_its_quality_check(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    demo.setup(settings, "http://127.0.0.1:5000")
    engine = make_engine(settings.database_url)
    inspection = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:demo-qc",
        "eventTime": "2026-10-15T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "disposition": "non_conformant",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:9506000.013435.L2401A"}],
        "tm:qc": [{"test": "peroxide", "result": "fail", "value": 25}],
    }
    with make_sessionmaker(engine).begin() as session:
        brand = catalog.get_brand(session, demo.DEMO_SLUG)
        (rule,) = rules.rules_of(session, brand)
        assert rule.name == "QC failed → hold the batch and notify purchasing" and rule.enabled
        before = session.scalars(select(OutboxMessage.id)).all()  # the demo's past has some
        capture.capture_event(session, brand, inspection)
        assert catalog.find_batch(session, brand, demo.DEMO_LOT).status is BatchStatus.ON_HOLD
        messages = session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.id.not_in(before))
        ).all()
        assert messages == ["purchasing@olive-oil.example"]
    engine.dispose()


def _eventually(check, seconds: float = 30.0):
    """``check()``'s first truthy value, polled until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_the_demo_worker_runs_what_the_admin_app_queues(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True, label_dir=tmp_path / "labels"
    )
    demo.setup(settings, "http://127.0.0.1:5000")
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with sessions.begin() as session:
        batch = session.scalar(select(Batch).where(Batch.lot == demo.DEMO_LOT))
        job_id = issuance.create_job(session, batch, 7).id
    stop = demo.start_worker(settings)
    try:

        def job_done():
            with sessions() as session:
                return session.get_one(IssuanceJob, job_id).status is JobStatus.DONE

        assert _eventually(job_done)
        with sessions.begin() as session:
            job = session.get_one(IssuanceJob, job_id)
            render_id = label_renders.request_render(session, job, "csv", settings.label_dir)[0].id

        def label_file():
            with sessions() as session:
                render = session.get_one(LabelRender, render_id)
                return label_renders.file_path(settings.label_dir, render)

        path = _eventually(label_file)
    finally:
        stop.set()
    assert path is not None and len(path.read_text().splitlines()) == 8  # header + 7 codes


def test_the_demo_worker_brings_the_boards_up_to_date(tmp_path):
    """The boards say "brought up to date every few minutes": the demo's worker rolls up
    new scans (marketing) and inspections (quality) by itself, with no ``tracemark
    analytics rollup`` by hand. The new events are a minute old, past the rollups' wait
    for stragglers (``SETTLE``), so the first idle turn of the worker counts them."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    sample = demo.setup(settings, "http://127.0.0.1:5000").sample_url
    sessions = make_sessionmaker(make_engine(settings.database_url))
    a_minute_ago = utcnow() - dt.timedelta(minutes=1)
    assert a_minute_ago < utcnow() - SETTLE
    # three shoppers in Italy (where the demo's past has none), each on a network of their own
    for n in range(3):
        client = Client(ip=f"198.{n}.51.7", country="IT", locale="it")
        scans.scan_code(sessions, sample, client, secret=b"demo", now=a_minute_ago)
    with sessions.begin() as session:
        brand = catalog.get_brand(session, demo.DEMO_SLUG)
        product = catalog.find_batch(session, brand, demo.DEMO_LOT).product
        catalog.create_batch(session, product, "L2402A", line="Line 4")
        when = a_minute_ago.isoformat().replace("+00:00", "Z")
        captured = capture.capture_event(session, brand, {
            "type": "ObjectEvent", "eventID": "urn:uuid:demo-line-4", "eventTime": when,
            "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "bizStep": "inspecting",
            "disposition": "conformant",
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:9506000.013435.L2402A"}],
            "tm:qc": [{"test": "fill_level", "result": "pass"}], "tm:line": "Line 4",
        })  # fmt: skip
        # recorded a minute ago too, so that it is settled
        session.execute(
            update(TraceEvent)
            .where(TraceEvent.brand_id == brand.id, TraceEvent.event_id.in_(captured.captured))
            .values(recorded_at=a_minute_ago)
        )
        brand_id = brand.id
    today = utcnow().date()
    board = analytics.Filters(today - dt.timedelta(days=1), today)

    def boards() -> tuple[int, int]:
        """Italy's scans on the marketing board, Line 4's inspections on the quality board."""
        with sessions() as session:
            countries = dict(analytics.breakdown(session, brand_id, board, "country"))
            filters = quality.QualityFilters(board.start, board.end)
            lines = quality.first_pass_yield(session, brand_id, filters)
        italy = countries.get("IT", analytics.Counts()).scans
        return italy, sum(y.inspected for _day, y in lines.get("Line 4", []))

    assert boards() == (0, 0)  # not counted before the worker runs
    stop = demo.start_worker(settings)
    try:
        assert _eventually(lambda: boards() == (3, 1), seconds=20)
    finally:
        stop.set()


def test_the_demo_product_resolves_to_its_links(tmp_path):
    from tracemark.app import close, create_app

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True, secret_key="test"
    )
    demo.setup(settings, "http://127.0.0.1:5000")
    app = create_app(settings, {"TESTING": True})
    client = app.test_client()
    gtin, lot = "09506000134352", "L2401A"
    pip = client.get(f"/01/{gtin}")
    assert pip.status_code == 307 and pip.headers["Location"].endswith("/extra-virgin-1l")
    context = client.get(f"/01/{gtin}/10/{lot}?linkType=linkset").get_json()["linkset"][0]
    voc = "https://gs1.org/voc/"
    assert len(context[voc + "certificationInfo"]) == 2  # the brand's and the test report
    assert context[voc + "recallStatus"][0]["href"].endswith(f"/recall-status/01/{gtin}/10/{lot}")
    assert voc + "safetyInfo" not in context  # for regulators only
    close(app)


def test_the_demo_has_a_past_every_board_shows(tmp_path):
    """About ninety days of scans (clones, forged codes), forgery reports, inspections on
    three lines with failures, a sensor alarm, a held and a recalled batch: rolled up."""
    from tracemark.models import (
        ForgeryReport,
        InspectionFirst,
        ScanRollup,
        SensorExcursion,
    )
    from tracemark.models.analytics import ALL_PRODUCTS

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    started = time.monotonic()
    demo.setup(settings, "http://127.0.0.1:5000")
    assert time.monotonic() - started < 30  # with its thousand codes, on a slow machine
    demo.setup(settings, "http://127.0.0.1:5000")  # the past is written once
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        brand = catalog.get_brand(session, demo.DEMO_SLUG)
        rows = session.execute(
            select(ScanRollup.day, ScanRollup.scans, ScanRollup.suspicious, ScanRollup.not_genuine,
                   ScanRollup.claims)
            .where(ScanRollup.brand_id == brand.id, ScanRollup.dimension == "total",
                   ScanRollup.product_id == ALL_PRODUCTS)
        ).all()  # fmt: skip
        days = {row.day for row in rows}
        assert (max(days) - min(days)).days >= 75
        assert sum(r.scans for r in rows) > 1000 and sum(r.suspicious for r in rows) > 10
        assert sum(r.not_genuine for r in rows) > 20  # forged scans, counted for the brand
        assert sum(r.claims for r in rows) > 10
        countries = session.scalars(
            select(ScanRollup.value)
            .where(ScanRollup.brand_id == brand.id, ScanRollup.dimension == "country")
            .distinct()
        ).all()
        assert len(set(countries)) >= 8
        reports = session.scalars(
            select(ForgeryReport).where(ForgeryReport.brand_id == brand.id)
        ).all()
        assert len(reports) == 8 and {r.city for r in reports} >= {"Istanbul"}
        firsts = session.scalars(
            select(InspectionFirst).where(InspectionFirst.brand_id == brand.id)
        ).all()
        assert {f.line for f in firsts if f.kind == "batch"} >= {"Line 1", "Line 2", "Line 3"}
        assert any(not f.passed for f in firsts if f.kind == "batch")
        assert any(not f.passed for f in firsts if f.kind == "lot")
        assert session.scalars(
            select(SensorExcursion).where(SensorExcursion.brand_id == brand.id)
        ).all()
        statuses = {b.lot: b.status for b in catalog.batches(session, brand)}
        assert (
            BatchStatus.ON_HOLD in statuses.values() and BatchStatus.RECALLED in statuses.values()
        )
        assert statuses[demo.DEMO_LOT] is BatchStatus.RELEASED
    engine.dispose()


def test_a_fresh_demo_shows_figures_on_every_board_and_for_its_held_and_recalled_lots(tmp_path):
    """What the marketing, quality and supply-chain boards read, over the demo's ninety
    days: no figure is zero; the held and the recalled lot were sold and scanned (before,
    and since, with what a held or recalled lot answers) and shipped, so their traces
    (recall impact) name units, scans and shipments too."""
    from tracemark.demo_history import HELD_LOT, RECALLED_LOT
    from tracemark.epcis import identifiers as epc
    from tracemark.reporting import logistics
    from tracemark.trace import recall

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    started = time.monotonic()
    demo.setup(settings, "http://127.0.0.1:5000")
    assert time.monotonic() - started < 30
    now = utcnow()
    days = {"start": now.date() - dt.timedelta(days=89), "end": now.date()}
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        brand = catalog.get_brand(session, demo.DEMO_SLUG)
        lots = {batch.lot: batch for batch in catalog.batches(session, brand)}
        held, recalled = lots[HELD_LOT], lots[RECALLED_LOT]
        # marketing: every kind of scan, claims, and the two lots' scans, some withheld
        marketing = analytics.Filters(**days)
        totals = analytics.totals(session, brand.id, marketing)
        assert all(getattr(totals, name) > 0 for name in analytics.COUNT_NAMES), totals
        per_batch = dict(analytics.breakdown(session, brand.id, marketing, "batch"))
        for batch in (held, recalled):
            counts = per_batch[str(batch.id)]
            assert counts.first_scans > 0 and counts.withheld > 0, (batch.lot, counts)
        # quality: each line's yield, each supplier's pass rate (one failing), defects,
        # and the held and recalled lots among the batches held, since days ago
        board = quality.QualityFilters(**days)
        per_line = quality.first_pass_yield(session, brand.id, board)
        for line in ("Line 1", "Line 2", "Line 3"):
            assert sum(y.inspected for _day, y in per_line[line]) > 0, line
        rates = quality.supplier_pass_rates(session, brand.id, board)
        assert len(rates) == 3 and all(y.inspected > 0 for _id, _name, y in rates)
        assert any(y.passed < y.inspected for _id, _name, y in rates)
        assert quality.defect_types(session, brand.id, board)
        withheld = {b.lot: b for b in quality.held_batches(session, brand.id)}
        assert {lot: b.status for lot, b in withheld.items()} == {
            HELD_LOT: BatchStatus.ON_HOLD,
            RECALLED_LOT: BatchStatus.RECALLED,
        }
        assert all(b.since < now - dt.timedelta(days=7) for b in withheld.values())
        # supply chain: a shipment on its way, stock at the distribution centre, an alarm
        supply = logistics.SupplyFilters(**days)
        transit = logistics.in_transit(session, brand.id, supply, now)
        assert transit.shipments == 1 and transit.objects > 0
        names = logistics.site_names(session, brand.id)
        places = logistics.stock(session, brand.id, supply, now)
        stock = {names.get(place.place.site_id): place.total for place in places}
        assert stock["Distribution centre Venlo"] >= 3  # the demo lot, the held and the recalled
        assert logistics.excursions(session, brand.id, supply)
        # traces: the two lots' recall impact
        for batch in (held, recalled):
            impact = recall.recall_impact(
                session, brand, epc.lot_class(batch.product.gtin, batch.lot)
            )
            (affected,) = impact.batches
            assert affected.units > 0 and 0 < affected.scanned_units <= affected.units
            assert len(impact.shipments) == 1 and len(impact.scanned_by_country) >= 5
    engine.dispose()


def test_the_demo_labels_encode_the_address_it_serves():
    settings = demo.demo_settings("http://127.0.0.1:5123", {})
    assert settings.public_base_url == "http://127.0.0.1:5123" and settings.demo
    chosen = {"TRACEMARK_PUBLIC_BASE_URL": "https://tm.example"}
    assert (
        demo.demo_settings("http://127.0.0.1:5123", chosen).public_base_url
        == chosen["TRACEMARK_PUBLIC_BASE_URL"]
    )
