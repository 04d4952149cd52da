"""Trace benchmark: backward trace, recall impact and capture on a generated supply chain.

The chain (at ``--scale 1``, the issue's size): 10,000 batches of 100 units (1,000,000
units, fake signatures: this measures traces, not issuance), 100,000 material lots from
500 suppliers (a tenth of them blends of three other lots, so genealogy is two deep),
and 2,000,000 events: a receipt per lot, per batch a transformation of 9 lots and a
blend, an inspection (``tm:qc``) and a storage reading; per unit a commissioning event;
units packed ten to a case, each case shipped; the rest unit observations. One lot feeds
100 batches; a tenth of the units were scanned, in eight countries. Rows go in by COPY
(PostgreSQL) or executemany (SQLite), then ANALYZE.

Measured, each in a fresh transaction, against a same-run baseline (one unit fetched by
primary key): ``genealogy.backward_from_unit`` for random units, ``recall.recall_impact``
of the lot that feeds 100 batches, and ``capture.capture_document`` of 1,000-event
documents (committed) against a bare executemany of as many event rows. The brand has
three rules (a failed QC test, a temperature excursion, a checkpoint field); each run
captures one document with them enabled, so every event is evaluated against them (none
fires), and one with none enabled, the rules' same-run baseline.

    python benchmarks/trace_bench.py --scale 0.1 --db both
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, postgres_schema, report
from sqlalchemy import insert, select, text, update

from tracemark import catalog, migrate
from tracemark.codes import keystore
from tracemark.db import is_postgresql, make_engine, make_sessionmaker
from tracemark.epcis import identifiers as epc
from tracemark.epcis.schema import EPCIS_CONTEXT
from tracemark.models import Brand, Rule, TraceEvent, Unit
from tracemark.quality import rules
from tracemark.trace import capture, genealogy, recall

GTIN = "09506000134352"
UNITS_PER_BATCH = 100
UNITS_PER_CASE = 10
COUNTRIES = ("ES", "FR", "DE", "IT", "PT", "NL", "US", "JP")
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOT_LOT = 1
COLD = {"type": "gs1:Temperature", "value": 4.5, "uom": "CEL"}
RULES = (
    rules.RuleSpec("QC failed", "failed", [{"type": "hold_batch"}]),
    rules.RuleSpec(
        "Cold chain",
        "excursion",
        [{"type": "notify", "emails": ["cold@example.com"]}],
        field="Temperature",
    ),
    rules.RuleSpec(
        "Acidity",
        "gt",
        [{"type": "lock_lot"}],
        field="acidity",
        value="0.8",
        template_key="olive-intake",
    ),
)


def lot_uri(lot_id: int) -> str:
    return f"https://lots.example/M{lot_id:07d}"


def batch_uri(batch_id: int) -> str:
    return epc.lot_class(GTIN, f"B{batch_id:06d}")


def unit_uri(unit_id: int) -> str:
    return epc.instance(GTIN, f"U{unit_id:012d}")


class Loader:
    """Bulk rows into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, connection, postgres: bool) -> None:
        self.connection, self.postgres = connection, postgres

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        count = 0
        if self.postgres:
            raw = self.connection.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join("?" * len(columns))
        cursor = self.connection.connection.driver_connection.cursor()
        batch = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) == 50_000:
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch
                )
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch
            )
            count += len(batch)
        return count


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


EVENT_COLUMNS = (
    "id", "brand_id", "batch_id", "event_id", "event_type", "action", "event_time",
    "event_timezone", "biz_step", "disposition", "parent_id", "destinations", "data",
    "recorded_at",
)  # fmt: skip
OBJECT_COLUMNS = (
    "brand_id", "event_id", "role", "epc", "quantity", "uom", "unit_id", "batch_id", "lot_id",
)  # fmt: skip
EDGE_COLUMNS = ("brand_id", "event_id", "input_epc", "output_epc", "input_quantity", "input_uom")
ANALYZED = (
    "batch", "issuance_job", "unit", "supplier", "material_lot", "trace_event",
    "trace_event_object", "genealogy_edge", "sensor_reading", "scan_event",
)  # fmt: skip
SENSOR_COLUMNS = ("brand_id", "event_id", "type", "value", "uom", "exception")


class Chain:
    """Generates the rows; events and their children come from one pass over ids."""

    def __init__(self, scale: float, brand_id: int, seed: int = 7) -> None:
        self.batches = max(100, int(10_000 * scale))
        self.lots = max(1_000, int(100_000 * scale))
        self.suppliers = max(10, int(500 * scale))
        self.units = self.batches * UNITS_PER_BATCH
        self.target_events = max(int(2_000_000 * scale), 1)
        self.raw_lots = self.lots - self.lots // 10  # the rest are blends
        self.brand = brand_id
        self.rng = random.Random(seed)
        self.objects: list[tuple] = []
        self.edges: list[tuple] = []
        self.readings: list[tuple] = []
        self.next_event = 0

    def _event(self, batch_id, kind, action, step, when, *, disposition=None, parent=None,
               destinations=None, data="{}") -> tuple:  # fmt: skip
        self.next_event += 1
        eid = self.next_event
        return (
            eid, self.brand, batch_id, f"urn:uuid:bench-{eid}", kind, action, when, "+00:00",
            step, disposition, parent, destinations, data, when,
        )  # fmt: skip

    def _obj(self, event, role, uri, *, quantity=None, uom=None, unit=None, batch=None, lot=None):
        self.objects.append((self.brand, event, role, uri, quantity, uom, unit, batch, lot))

    def batch_inputs(self, batch_id: int) -> list[int]:
        base = (batch_id - 1) * 9
        inputs = [(base + k) % self.raw_lots + 1 for k in range(9)]
        inputs.append(self.raw_lots + 1 + (batch_id - 1) % (self.lots - self.raw_lots))
        if batch_id <= 100 and HOT_LOT not in inputs:
            inputs[0] = HOT_LOT
        return inputs

    def events(self) -> Iterator[tuple]:
        """Every event row; children are collected into lists, flushed by the caller."""
        rng = self.rng
        for lot in range(1, self.lots + 1):
            row = self._event(None, "ObjectEvent", "OBSERVE", "receiving", T0)
            self._obj(row[0], "epc_quantity", lot_uri(lot), quantity=100.0, uom="KGM", lot=lot)
            yield row
            if lot > self.raw_lots:  # a blend of three raw lots
                row = self._event(None, "TransformationEvent", None, "commissioning", T0)
                for source in rng.sample(range(1, self.raw_lots + 1), 3):
                    self._obj(row[0], "input_quantity", lot_uri(source), lot=source)
                    self.edges.append(
                        (self.brand, row[0], lot_uri(source), lot_uri(lot), 30.0, "KGM")
                    )
                self._obj(row[0], "output_quantity", lot_uri(lot), lot=lot)
                yield row
        qc = json.dumps({"tm:qc": [{"test": "moisture", "result": "pass", "value": 0.2}]})
        people = json.dumps({"tm:operator": "Ana", "tm:equipment": "Filler 3"})
        for batch in range(1, self.batches + 1):
            when = T0 + dt.timedelta(hours=batch)
            row = self._event(
                batch, "TransformationEvent", None, "commissioning", when, data=people
            )
            for lot in self.batch_inputs(batch):
                self._obj(row[0], "input_quantity", lot_uri(lot), quantity=10.0, uom="KGM", lot=lot)
                self.edges.append((self.brand, row[0], lot_uri(lot), batch_uri(batch), 10.0, "KGM"))
            self._obj(
                row[0], "output_quantity", batch_uri(batch), quantity=100.0, uom="EA", batch=batch
            )
            yield row
            row = self._event(
                batch,
                "ObjectEvent",
                "OBSERVE",
                "inspecting",
                when,
                disposition="conformant",
                data=qc,
            )
            self._obj(row[0], "epc_quantity", batch_uri(batch), batch=batch)
            yield row
            row = self._event(batch, "ObjectEvent", "OBSERVE", "storing", when)
            self._obj(row[0], "epc_quantity", batch_uri(batch), batch=batch)
            alarm = "ALARM_CONDITION" if batch % 50 == 0 else None
            self.readings.append(
                (self.brand, row[0], "gs1:Temperature", 9.5 if alarm else 4.0, "CEL", alarm)
            )
            yield row
            first = (batch - 1) * UNITS_PER_BATCH + 1
            for unit in range(first, first + UNITS_PER_BATCH):
                row = self._event(None, "ObjectEvent", "ADD", "commissioning", when)
                self._obj(row[0], "epc", unit_uri(unit), unit=unit, batch=batch)
                yield row
            for case_start in range(first, first + UNITS_PER_BATCH, UNITS_PER_CASE):
                case = f"urn:epc:id:sscc:0614141.{case_start:010d}"
                row = self._event(None, "AggregationEvent", "ADD", "packing", when, parent=case)
                for unit in range(case_start, case_start + UNITS_PER_CASE):
                    self._obj(row[0], "child", unit_uri(unit), unit=unit, batch=batch)
                yield row
                country = COUNTRIES[(case_start // UNITS_PER_CASE) % len(COUNTRIES)]
                place = f"urn:epc:id:sgln:0614141.{country}.0"
                destinations = json.dumps([{"type": "location", "destination": place}])
                row = self._event(
                    None, "ObjectEvent", "OBSERVE", "shipping", when, destinations=destinations
                )
                self._obj(row[0], "epc", case)
                yield row
        unit = 0
        while self.next_event < self.target_events:
            unit = unit % self.units + 1
            row = self._event(None, "ObjectEvent", "OBSERVE", "retail_selling", T0)
            self._obj(
                row[0], "epc", unit_uri(unit), unit=unit, batch=(unit - 1) // UNITS_PER_BATCH + 1
            )
            yield row


def generate(sessions, scale: float) -> tuple[Chain, dict[str, float]]:
    with sessions.begin() as session:
        brand = catalog.create_brand(session, "bench", "Bench")
        catalog.claim_prefix(session, brand, "9506000")
        product = catalog.create_product(session, brand, GTIN, "Bench product")
        key = keystore.create_key(session, brand, "bench-passphrase")
        brand_id, product_id, key_id = brand.id, product.id, key.id
    chain = Chain(scale, brand_id)
    counts: dict[str, float] = {}
    started = time.perf_counter()
    with sessions.begin() as session:
        connection = session.connection()
        postgres = is_postgresql(session)
        load = Loader(connection, postgres).load
        counts["batches"] = load(
            "batch",
            ("id", "brand_id", "product_id", "lot", "status", "notice", "created_at"),
            (
                (b, brand_id, product_id, f"B{b:06d}", "released", "{}", T0)
                for b in range(1, chain.batches + 1)
            ),
        )
        load(
            "issuance_job",
            (
                "id",
                "brand_id",
                "batch_id",
                "signing_key_id",
                "requested",
                "issued",
                "status",
                "with_pin",
                "created_at",
            ),
            (
                (b, brand_id, b, key_id, UNITS_PER_BATCH, UNITS_PER_BATCH, "done", False, T0)
                for b in range(1, chain.batches + 1)
            ),
        )
        signature = bytes(64)
        counts["units"] = load(
            "unit",
            ("id", "brand_id", "batch_id", "job_id", "seq", "serial", "signature"),
            (
                (u, brand_id, (u - 1) // UNITS_PER_BATCH + 1, (u - 1) // UNITS_PER_BATCH + 1,
                 (u - 1) % UNITS_PER_BATCH, f"U{u:012d}", signature)
                for u in range(1, chain.units + 1)
            ),
        )  # fmt: skip
        load(
            "supplier",
            ("id", "brand_id", "name", "country", "created_at"),
            (
                (s, brand_id, f"Supplier {s}", COUNTRIES[s % 8], T0)
                for s in range(1, chain.suppliers + 1)
            ),
        )
        counts["lots"] = load(
            "material_lot",
            ("id", "brand_id", "supplier_id", "material", "lot_number", "epc_class", "status",
             "created_at"),
            (
                (lot, brand_id, lot % chain.suppliers + 1, "Material", f"M{lot:07d}", lot_uri(lot),
                 "released", T0)
                for lot in range(1, chain.lots + 1)
            ),
        )  # fmt: skip
        events = 0
        buffer = []
        for row in chain.events():
            buffer.append(row)
            if len(buffer) == 100_000:
                events += _flush(load, chain, buffer)
                buffer = []
        events += _flush(load, chain, buffer)
        counts["events"] = events
        rng = random.Random(3)
        scanned = rng.sample(range(1, chain.units + 1), chain.units // 10)
        load(
            "scan_event",
            ("brand_id", "unit_id", "scanned_at", "verdict", "reason", "country"),
            ((brand_id, u, T0, "genuine_first_scan", "ok", COUNTRIES[u % 8]) for u in scanned),
        )
        if postgres:
            for table in (
                "trace_event",
                "unit",
                "batch",
                "issuance_job",
                "material_lot",
                "supplier",
            ):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )
    with sessions.begin() as session:
        # table by table: a bare ANALYZE would visit every schema of the shared server
        for table in ANALYZED:
            session.execute(text(f"ANALYZE {table}"))
    counts["seconds"] = time.perf_counter() - started
    return chain, counts


def _flush(load, chain: Chain, events: list[tuple]) -> int:
    count = load("trace_event", EVENT_COLUMNS, events)
    load("trace_event_object", OBJECT_COLUMNS, chain.objects)
    load("genealogy_edge", EDGE_COLUMNS, chain.edges)
    load("sensor_reading", SENSOR_COLUMNS, chain.readings)
    chain.objects, chain.edges, chain.readings = [], [], []
    return count


def capture_document_of(chain: Chain, run: int, size: int) -> dict:
    """``size`` fresh events: unit observations and, one in ten, a transformation."""
    events = []
    for i in range(size):
        eid = f"urn:uuid:capture-{run}-{i}"
        when = "2026-11-01T10:00:00.000+01:00"
        if i % 10 == 0:
            lots = [lot_uri((run * size + i + k) % chain.raw_lots + 1) for k in range(3)]
            events.append(
                {
                    "type": "TransformationEvent", "eventID": eid, "eventTime": when,
                    "eventTimeZoneOffset": "+01:00", "bizStep": "commissioning",
                    "inputQuantityList": [
                        {"epcClass": u, "quantity": 5, "uom": "KGM"} for u in lots
                    ],
                    "outputQuantityList": [{"epcClass": lot_uri(chain.raw_lots + 1 + i % 100)}],
                }
            )  # fmt: skip
        else:
            unit = (run * size + i) % chain.units + 1
            events.append(
                {
                    "type": "ObjectEvent", "eventID": eid, "eventTime": when,
                    "eventTimeZoneOffset": "+01:00", "action": "OBSERVE", "bizStep": "receiving",
                    "epcList": [f"urn:epc:id:sgtin:9506000.013435.U{unit:012d}"],
                    "readPoint": {"id": "urn:epc:id:sgln:0614141.ES.0"},
                    "sensorElementList": [{"sensorReport": [COLD]}],
                }
            )  # fmt: skip
    return {
        "@context": EPCIS_CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-01T10:00:00Z",
        "epcisBody": {"eventList": events},
    }


def measure(url: str, scale: float, runs: int, doc_size: int) -> dict[str, list[float]]:
    engine = make_engine(url)
    migrate.migrate_to(engine)
    sessions = make_sessionmaker(engine)
    chain, counts = generate(sessions, scale)
    print(
        f"  generated {counts['batches']:,} batches, {counts['lots']:,} lots,"
        f" {counts['units']:,} units,"
        f" {counts['events']:,} events in {counts['seconds']:.0f} s",
        flush=True,
    )
    with sessions.begin() as session:
        brand = session.get_one(Brand, chain.brand)
        for spec in RULES:
            rules.create_rule(session, brand, spec)
    rng = random.Random(11)
    out: dict[str, list[float]] = {
        "baseline": [],
        "backward": [],
        "recall": [],
        "capture": [],
        "capture_bare": [],
        "insert": [],
    }
    hot_batches = None
    for run in range(runs):
        for _ in range(10):
            unit_id = rng.randrange(1, chain.units + 1)
            with sessions.begin() as session:
                started = time.perf_counter()
                session.scalar(select(Unit.serial).where(Unit.id == unit_id))
                out["baseline"].append(time.perf_counter() - started)
            with sessions.begin() as session:
                brand = session.get_one(Brand, chain.brand)
                started = time.perf_counter()
                found = genealogy.backward_from_unit(session, brand, f"U{unit_id:012d}")
                out["backward"].append(time.perf_counter() - started)
                assert len(found.lots) >= 10, found.lots
        with sessions.begin() as session:
            brand = session.get_one(Brand, chain.brand)
            started = time.perf_counter()
            impact = recall.recall_impact(session, brand, lot_uri(HOT_LOT))
            out["recall"].append(time.perf_counter() - started)
            hot_batches = len(impact.batches)
            assert impact.total_units == hot_batches * UNITS_PER_BATCH
        for enabled, key, number in ((False, "capture_bare", run + 10_000), (True, "capture", run)):
            document = capture_document_of(chain, number, doc_size)
            with sessions.begin() as session:
                session.execute(update(Rule).values(enabled=enabled))
            started = time.perf_counter()
            with sessions.begin() as session:
                brand = session.get_one(Brand, chain.brand)
                result = capture.capture_document(session, brand, document)
            out[key].append(doc_size / (time.perf_counter() - started))
            assert len(result.captured) == doc_size
        rows = [
            {"brand_id": chain.brand, "event_id": f"urn:uuid:bare-{run}-{i}",
             "event_type": "ObjectEvent", "action": "OBSERVE", "event_time": T0,
             "event_timezone": "+00:00", "biz_step": "receiving",
             "data": {}, "recorded_at": T0}
            for i in range(doc_size)
        ]  # fmt: skip
        started = time.perf_counter()
        with sessions.begin() as session:
            session.execute(insert(TraceEvent), rows)
        out["insert"].append(doc_size / (time.perf_counter() - started))
    print(
        f"  recall: lot feeds {hot_batches} batches; impact shipments {len(impact.shipments):,},"
        f" scanned countries {len(impact.scanned_by_country)}"
    )
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--capture-size", type=int, default=1000)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    for db in ("postgresql", "sqlite") if args.db == "both" else (args.db,):
        print(f"\ntrace_bench on {db}, scale {args.scale}", flush=True)
        if db == "postgresql":
            with postgres_schema() as url:
                out = measure(url, args.scale, args.runs, args.capture_size)
        else:
            with tempfile.TemporaryDirectory() as folder:
                out = measure(
                    f"sqlite:///{folder}/bench.db", args.scale, args.runs, args.capture_size
                )
        ms = lambda v: f"{v * 1000:.2f} ms"  # noqa: E731
        rate = lambda v: f"{v:,.0f}/s"  # noqa: E731
        report(
            f"trace_bench: scale {args.scale} on {db} ({machine()})",
            [
                ("baseline: one unit by primary key", out["baseline"], ms),
                ("backward trace from a unit (<= 20 ms)", out["backward"], ms),
                ("recall impact, lot in 100 batches (<= 500 ms)", out["recall"], ms),
                (f"capture, {args.capture_size}-event docs (>= 2,000/s)", out["capture"], rate),
                ("baseline: the same, no rule enabled", out["capture_bare"], rate),
                ("baseline: bare executemany of events", out["insert"], rate),
            ],
        )


if __name__ == "__main__":
    main()
