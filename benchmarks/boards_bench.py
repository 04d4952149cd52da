"""Quality and supply-chain board benchmark on a generated supply chain (PostgreSQL).

At ``--scale 1`` (the issue's size): 10,000 batches on 8 lines of 4 plants (10 products),
100,000 material lots from 500 suppliers, and 2,000,000 events over a year: per lot a
receipt at a plant, an incoming inspection (``tm:qc``; one in twenty fails and is
re-inspected) and a transformation that consumes it; per batch an inspection (one in
twelve fails, then passes a re-test) and ten cases, each commissioned, shipped to one of
16 warehouses, received, stored with temperature readings (one in a hundred out of
bounds, some with an alarm), shipped to a store, received there and mostly sold. One in
fifty shipments is never received (in transit). One batch in a hundred is on hold or
recalled. Rows go in by COPY, then ANALYZE.

The schema is kept (``tm_boards_bench_<scale>``) and reused by later runs (``--fresh``
generates it again). Measured: the board rollup (backfill, then a slice of new events),
every board query (median of ``--runs``), and a same-run baseline: a batch by primary
key, and the naive query each figure would need on the raw tables.

    python benchmarks/boards_bench.py --scale 0.05
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import POSTGRES_URL, machine, median, report
from sqlalchemy import func, select, text
from trace_bench import Loader

from tracemark import catalog, migrate
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Batch, InspectionFirst, ObjectPlace, RollupWatermark
from tracemark.reporting import board_rollup, logistics, quality

T0 = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
DAYS = 365
#: The boards' clock: a month after the last event.
NOW = T0 + dt.timedelta(days=DAYS + 30)
PRODUCTS, LINES, PLANTS, WAREHOUSES, SUPPLIERS = 10, 8, 4, 16, 500
CASES = 10
DEFECTS = ("leak", "seal", "label", "weight", "foreign body")
GENERATED = "bench_generated"
#: The board tables a run's slice of new events changes (and that are then put back).
KEPT = ("inspection_first", "defect_day", "object_place", "sensor_excursion")
EVENT_COLUMNS = (
    "id", "brand_id", "batch_id", "event_id", "event_type", "action", "event_time",
    "event_timezone", "biz_step", "disposition", "biz_location", "site_id", "destinations",
    "data", "recorded_at",
)  # fmt: skip
OBJECT_COLUMNS = ("brand_id", "event_id", "role", "epc", "quantity", "uom", "batch_id", "lot_id")
SENSOR_COLUMNS = ("brand_id", "event_id", "type", "value", "min_value", "max_value", "uom",
                  "exception")  # fmt: skip
ANALYZED = ("batch", "material_lot", "supplier", "site", "trace_event", "trace_event_object",
            "sensor_reading")  # fmt: skip


def plant(n: int) -> str:
    return f"urn:epc:id:sgln:9506000.1{n:04d}.0"


def warehouse(n: int) -> str:
    return f"urn:epc:id:sgln:9506000.2{n:04d}.0"


class Chain:
    """The rows of the module docstring; events come from one pass, children are
    collected per flush."""

    def __init__(self, scale: float, brand_id: int, sites: dict[str, int]) -> None:
        self.batches = max(100, int(10_000 * scale))
        self.lots = max(1_000, int(100_000 * scale))
        self.target = max(10_000, int(2_000_000 * scale))
        self.brand, self.sites = brand_id, sites
        self.rng = random.Random(5)
        self.objects: list[tuple] = []
        self.readings: list[tuple] = []
        self.next_id = 0
        # per lot 2.05 events, per batch 2.08, per case 5.76 besides its storage events
        fixed = self.lots * 2.05 + self.batches * 2.08
        per_case = (self.target - fixed) / (self.batches * CASES)
        #: storage observations per case, so that the events reach the target
        self.stored = max(1, round(per_case - 5.76))

    def event(self, when, step, *, kind="ObjectEvent", action="OBSERVE", batch=None,
              disposition=None, location=None, destinations=None, data=None) -> tuple:  # fmt: skip
        self.next_id += 1
        return (
            self.next_id, self.brand, batch, f"urn:uuid:boards-{self.next_id}", kind,
            action, when, "+00:00", step, disposition, location,
            self.sites.get(location) if location else None,
            json.dumps(destinations) if destinations else None, json.dumps(data or {}), when,
        )  # fmt: skip

    def obj(self, event: tuple, epc: str, *, role="epc_quantity", batch=None, lot=None) -> None:
        self.objects.append((self.brand, event[0], role, epc, 1.0, "EA", batch, lot))

    def qc(self, fail: bool, line: str | None = None) -> dict:
        tests = [{"test": t, "result": "pass", "value": 1.0} for t in ("seal", "fill", "cap")]
        if fail:
            tests[self.rng.randrange(3)] |= {"result": "fail",
                                              "defect": self.rng.choice(DEFECTS)}  # fmt: skip
        return {"tm:qc": tests, **({"tm:line": line} if line else {})}

    def events(self) -> Iterator[tuple]:
        rng = self.rng
        span = dt.timedelta(days=DAYS - 30)
        for lot in range(1, self.lots + 1):
            when = T0 + span * (lot / self.lots)
            epc = f"https://lots.example/M{lot:07d}"
            where = plant(lot % PLANTS)
            row = self.event(when, "receiving", location=where)
            self.obj(row, epc, lot=lot)
            yield row
            fail = lot % 20 == 0
            row = self.event(when + dt.timedelta(hours=2), "inspecting", data=self.qc(fail),
                             disposition="non_conformant" if fail else "conformant")  # fmt: skip
            self.obj(row, epc, lot=lot)
            yield row
            if fail:
                row = self.event(when + dt.timedelta(hours=5), "inspecting", data=self.qc(False))
                self.obj(row, epc, lot=lot)
                yield row
        for batch in range(1, self.batches + 1):
            made = T0 + dt.timedelta(days=7) + span * (batch / self.batches)
            site = plant(batch % PLANTS)
            line = f"L{batch % LINES + 1}"
            epc = f"https://id.example/01/0950600013435{batch % PRODUCTS}/10/B{batch:06d}"
            row = self.event(made, "commissioning", kind="TransformationEvent", action=None,
                             batch=batch, location=site)  # fmt: skip
            for k in range(10):
                lot = (batch * 10 + k) % self.lots + 1
                self.obj(row, f"https://lots.example/M{lot:07d}", role="input_quantity", lot=lot)
            self.obj(row, epc, role="output_quantity", batch=batch)
            yield row
            fail = batch % 12 == 0
            row = self.event(made + dt.timedelta(hours=1), "inspecting", batch=batch,
                             data=self.qc(fail, line if batch % 2 else None))  # fmt: skip
            self.obj(row, epc, batch=batch)
            yield row
            if fail:
                row = self.event(made + dt.timedelta(hours=3), "inspecting", batch=batch,
                                 data=self.qc(False))  # fmt: skip
                self.obj(row, epc, batch=batch)
                yield row
            for case in range(CASES):
                yield from self._case(batch, case, made, site, rng)

    def _case(self, batch: int, case: int, made: dt.datetime, site: str, rng) -> Iterator:
        sscc = f"urn:epc:id:sscc:0614141.{batch:07d}{case:03d}"
        hub = warehouse((batch + case) % WAREHOUSES)
        n = batch * CASES + case
        row = self.event(made, "commissioning", action="ADD", location=site)
        self.obj(row, sscc, batch=batch)
        yield row
        when = made + dt.timedelta(hours=20)
        row = self.event(when, "shipping", location=site,
                         destinations=[{"type": "location", "destination": hub}])  # fmt: skip
        self.obj(row, sscc, batch=batch)
        yield row
        if n % 50 == 7:
            return  # never received: in transit
        when += dt.timedelta(days=2)
        row = self.event(when, "receiving", location=hub)
        self.obj(row, sscc, batch=batch)
        yield row
        for _ in range(self.stored):
            when += dt.timedelta(hours=rng.randrange(6, 48))
            row = self.event(when, "storing", location=hub, batch=batch)
            self.obj(row, sscc, batch=batch)
            hot = rng.random() < 0.01
            value = round(rng.uniform(8.5, 12) if hot else rng.uniform(2.5, 7.5), 1)
            alarm = "ALARM_CONDITION" if hot and rng.random() < 0.5 else None
            self.readings.append(
                (self.brand, row[0], "gs1:Temperature", value, 2.0, 8.0, "CEL", alarm)
            )
            yield row
        store = f"urn:epc:id:sgln:0614141.{n % 997:05d}.0"
        row = self.event(when + dt.timedelta(hours=3), "shipping", location=hub,
                         destinations=[{"type": "location", "destination": store}])  # fmt: skip
        self.obj(row, sscc, batch=batch)
        yield row
        if n % 50 == 13:
            return
        row = self.event(when + dt.timedelta(days=1), "receiving", location=store)
        self.obj(row, sscc, batch=batch)
        yield row
        if n % 5:
            row = self.event(when + dt.timedelta(days=3), "retail_selling", location=store)
            self.obj(row, sscc, batch=batch)
            yield row


def generate(sessions, scale: float) -> dict[str, float]:
    started = time.perf_counter()
    with sessions.begin() as session:
        brand = catalog.create_brand(session, "bench", "Bench")
        sites = {}
        for n in range(PLANTS):
            site = catalog.create_site(session, brand, f"Plant {n}")
            site.location_id = plant(n)
            sites[plant(n)] = site
        for n in range(WAREHOUSES):
            site = catalog.create_site(session, brand, f"Warehouse {n}")
            site.location_id = warehouse(n)
            sites[warehouse(n)] = site
        session.flush()
        brand_id = brand.id
        site_ids = {location: site.id for location, site in sites.items()}
    chain = Chain(scale, brand_id, site_ids)
    counts: dict[str, float] = {}
    with sessions.begin() as session:
        connection = session.connection()
        load = Loader(connection, True).load
        load("product", ("id", "brand_id", "gtin", "name", "texts", "created_at"),
             ((p + 1, brand_id, f"0950600013{p:04d}", f"Product {p}", "{}", T0)
              for p in range(PRODUCTS)))  # fmt: skip
        held = {b: ("on_hold" if b % 200 else "recalled") for b in range(1, chain.batches, 100)}
        counts["batches"] = load(
            "batch",
            ("id", "brand_id", "product_id", "lot", "line", "site_id", "status", "notice",
             "status_since", "created_at"),
            ((b, brand_id, b % PRODUCTS + 1, f"B{b:06d}", f"L{b % LINES + 1}",
              site_ids[plant(b % PLANTS)], held.get(b, "released"),
              json.dumps({"en": "Under review."} if b in held else {}),
              T0 + dt.timedelta(days=b % DAYS) if b in held else None, T0)
             for b in range(1, chain.batches + 1)),
        )  # fmt: skip
        load("supplier", ("id", "brand_id", "name", "created_at"),
             ((s, brand_id, f"Supplier {s}", T0) for s in range(1, SUPPLIERS + 1)))  # fmt: skip
        counts["lots"] = load(
            "material_lot",
            ("id", "brand_id", "supplier_id", "material", "lot_number", "epc_class", "status",
             "created_at"),
            ((lot, brand_id, lot % SUPPLIERS + 1, "Material", f"M{lot:07d}",
              f"https://lots.example/M{lot:07d}", "released", T0)
             for lot in range(1, chain.lots + 1)),
        )  # fmt: skip
        events, buffer = 0, []
        for row in chain.events():
            buffer.append(row)
            if len(buffer) == 100_000:
                events += _flush(load, chain, buffer)
                buffer = []
        events += _flush(load, chain, buffer)
        counts["events"] = events
        for table in ("trace_event", "batch", "product", "material_lot", "supplier"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            )
        session.add(RollupWatermark(name=GENERATED, last_event_id=brand_id))
    _analyze(sessions)
    counts["seconds"] = time.perf_counter() - started
    return counts


def _flush(load, chain: Chain, events: list[tuple]) -> int:
    count = load("trace_event", EVENT_COLUMNS, events)
    load("trace_event_object", OBJECT_COLUMNS, chain.objects)
    load("sensor_reading", SENSOR_COLUMNS, chain.readings)
    chain.objects, chain.readings = [], []
    return count


def _analyze(sessions, tables=ANALYZED) -> None:
    with sessions.begin() as session:
        for table in tables:  # table by table: not every schema of the shared server
            session.execute(text(f"ANALYZE {table}"))


def _timed(fn, runs: int) -> list[float]:
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        values.append((time.perf_counter() - started) * 1000)
    return values


def raw_queries(brand_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    """What each figure costs without the board tables: from the raw events."""
    b = f"e.brand_id = {brand_id}"
    return {
        "first-pass yield (first inspection per batch)": f"""
            SELECT line, count(*), sum(CASE WHEN ok THEN 1 ELSE 0 END) FROM (
              SELECT DISTINCT ON (o.batch_id) o.batch_id, b.line, e.event_time,
                     e.data::text NOT LIKE '%"fail"%' AS ok
              FROM trace_event e JOIN trace_event_object o ON o.event_id = e.id
              JOIN batch b ON b.id = o.batch_id
              WHERE {b} AND (e.biz_step = 'inspecting' OR e.data::text LIKE '%tm:qc%')
              ORDER BY o.batch_id, e.event_time, e.id) f
            WHERE event_time >= '{start}' AND event_time < '{end}' GROUP BY line""",
        "stock per site (latest event per object)": f"""
            SELECT site_id, count(*) FROM (
              SELECT DISTINCT ON (o.epc) o.epc, e.site_id, e.biz_step
              FROM trace_event e JOIN trace_event_object o ON o.event_id = e.id
              WHERE {b} ORDER BY o.epc, e.event_time DESC, e.id DESC) f
            WHERE biz_step NOT IN ('shipping', 'retail_selling') GROUP BY site_id""",
        "sensor excursions by site": f"""
            SELECT e.site_id, count(*) FROM sensor_reading r
            JOIN trace_event e ON e.id = r.event_id
            WHERE {b} AND e.event_time >= '{start}' AND e.event_time < '{end}'
              AND (r.exception IS NOT NULL OR r.value > r.max_value OR r.value < r.min_value)
            GROUP BY e.site_id""",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="Generate the chain again.")
    args = parser.parse_args()
    schema = f"tm_boards_bench_{str(args.scale).replace('.', '_')}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        if args.fresh:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    admin.dispose()
    engine = make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    migrate.migrate_to(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        mark = session.get(RollupWatermark, GENERATED)
    if mark is None:
        counts = generate(sessions, args.scale)
        print(f"generated {counts['events']:,.0f} events in {counts['seconds']:.0f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        with sessions() as session:
            mark = session.get(RollupWatermark, GENERATED)
    brand_id = mark.last_event_id
    with sessions() as session:
        events = session.scalar(text("SELECT count(*) FROM trace_event"))

    rollup_rows = []
    with sessions() as session:
        done = session.get(RollupWatermark, board_rollup.NAME)
    if done is None or done.last_event_id < events:
        started = time.perf_counter()
        run = board_rollup.roll_up(sessions, now=NOW)
        seconds = time.perf_counter() - started
        rollup_rows.append((f"rollup backfill, {run.events:,} events/s",
                            [run.events / seconds], _rate))  # fmt: skip
        _analyze(sessions, ("inspection_first", "defect_day", "object_place", "sensor_excursion"))

    end = (T0 + dt.timedelta(days=DAYS)).date()
    ranges = {"90 days": end - dt.timedelta(days=89), "365 days": end - dt.timedelta(days=364)}
    ours, base = [], []
    with sessions() as session:
        sizes = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (InspectionFirst, ObjectPlace)
        }
        some_batch = [1 + (k * 7919) % 5000 for k in range(args.runs)]
        ids = iter(some_batch)
        base.append(
            (
                "batch by primary key",
                _timed(lambda: session.scalar(select(Batch.lot).where(Batch.id == next(ids))),
                       args.runs),
                _ms,
            )
        )  # fmt: skip
        session.expunge_all()
        for name, first in ranges.items():
            for product, line, site in ((None, None, None), (3, "L4", 3)):
                label = f"{name}{', filtered' if product else ''}"
                q = quality.QualityFilters(first, end, product, "week", line=line)
                s = logistics.SupplyFilters(first, end, product, "week", site_id=site)
                figures = {
                    "first-pass yield": lambda q=q: quality.first_pass_yield(session, brand_id, q),
                    "supplier pass rates": lambda q=q: quality.supplier_pass_rates(
                        session, brand_id, q
                    ),
                    "defect types": lambda q=q: quality.defect_types(session, brand_id, q),
                    "held batches": lambda q=q: quality.held_batches(
                        session, brand_id, q.product_id, q.line
                    ),
                    "in transit": lambda s=s: logistics.in_transit(session, brand_id, s, NOW),
                    "stock per site": lambda s=s: logistics.stock(session, brand_id, s, NOW),
                    "excursions by site": lambda s=s: logistics.excursions_by_site(
                        session, brand_id, s
                    ),
                    "excursions over time": lambda s=s: logistics.excursions_over_time(
                        session, brand_id, s
                    ),
                    "latest excursions": lambda s=s: logistics.excursions(session, brand_id, s),
                }
                for figure, fn in figures.items():
                    ours.append((f"{figure}, {label}", _timed(fn, args.runs), _ms))
                    session.expunge_all()
            start = dt.datetime.combine(first, dt.time(), dt.UTC)
            stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
            for figure, sql in raw_queries(brand_id, start, stop).items():
                if figure.startswith("stock") and name != "90 days":
                    continue  # stock is as of now: one range is enough
                base.append((f"raw {figure}, {name}", _timed(
                    lambda sql=sql: session.execute(text(sql)).all(), args.baseline_runs
                ), _ms))  # fmt: skip
        ours.append(("production lines (filter menu)", _timed(
            lambda: quality.lines(session, brand_id), args.runs), _ms))  # fmt: skip

    # a slice of new events on top: the steady-state rollup; the tables it adds to are
    # kept aside and put back afterwards, so that the next run finds the chain as generated
    chain = Chain(args.scale * 0.01, brand_id, {})
    chain.next_id = events
    with sessions.begin() as session:
        for table in KEPT:
            session.execute(text(f"DROP TABLE IF EXISTS bench_kept_{table}"))
            session.execute(text(f"CREATE TABLE bench_kept_{table} AS SELECT * FROM {table}"))
        load = Loader(session.connection(), True).load
        rows = [row for _, row in zip(range(20_000), chain.events(), strict=False)]
        chain.objects = [o for o in chain.objects if o[1] <= rows[-1][0]]
        chain.readings = [r for r in chain.readings if r[1] <= rows[-1][0]]
        added = _flush(load, chain, rows)
    started = time.perf_counter()
    run = board_rollup.roll_up(sessions, now=NOW + dt.timedelta(days=3650))
    seconds = time.perf_counter() - started
    rollup_rows.append((f"rollup of {added:,} new events, events/s", [added / seconds], _rate))
    with sessions.begin() as session:  # leave the chain as generated for the next run
        session.execute(text(f"DELETE FROM trace_event WHERE id > {events}"))
        for table in KEPT:
            session.execute(text(f"DELETE FROM {table}"))
            session.execute(text(f"INSERT INTO {table} SELECT * FROM bench_kept_{table}"))
            session.execute(text(f"DROP TABLE bench_kept_{table}"))
        session.execute(
            text(
                f"UPDATE rollup_watermark SET last_event_id = {events}"
                f" WHERE name = '{board_rollup.NAME}'"
            )
        )
    engine.dispose()

    report(
        f"boards_bench: {events:,} events, scale {args.scale}, on PostgreSQL ({machine()})",
        rollup_rows,
    )
    print("  rows: " + ", ".join(f"{name} {n:,}" for name, n in sizes.items()))
    report("board queries (ms)", ours)
    report("same-run baseline (ms)", base)
    slowest = max(median(values) for _, values, _ in ours)
    print(f"\n  slowest board query median: {slowest:.1f} ms (target <= 300 ms)")


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _rate(value: float) -> str:
    return f"{value:,.0f}"


if __name__ == "__main__":
    main()
