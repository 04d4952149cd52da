"""Analytics benchmark: N generated scan events on PostgreSQL, rolled up, then every
board query on the rollups beside the same aggregate computed on the raw events.

Events (COPY) spread over a year, several brands, products, batches, countries, locales
and device classes, with realistic verdict shares and one in twenty forged (no brand).
Measured: the rollup of all N events (the backfill) and of a fresh slice after it (the
steady state), in events per second (target >= 2,000/s); then, for the busiest brand,
each query of the board (median of ``--runs``; target <= 300 ms) over the last 90 days
and the whole year, with and without a product filter, and the same-run baseline: the
same aggregate straight from ``scan_event`` (what the rollups avoid).

    python benchmarks/analytics_bench.py --events 10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, median, postgres_schema, report

PASSPHRASE = "bench-passphrase"
START = dt.datetime(2025, 11, 25, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=365)
COUNTRIES = ["US", "CN", "DE", "FR", "ES", "IT", "GB", "BR", "MX", "JP", "IN", "NG", "ZA", "TR",
             "RU", "PL", "NL", "BE", "PT", "AR", "CL", "CO", "PE", "EG", "MA", "SA", "AE", "KR",
             "VN", "TH", "ID", "PH", "MY", "SG", "AU", "NZ", "CA", "SE", "NO", "FI", "DK", "AT",
             "CH", "CZ", "HU", "RO", "GR", "IL", "PK", "BD", "KE", "GH", "UA", "IE"]  # fmt: skip
LOCALES = ["en", "zh_Hans", "es", "fr", "de", "ja", "pt", "ar"]
DEVICES = ["mobile", "mobile", "mobile", "mobile", "tablet", "desktop", "bot", "other"]
#: verdict → weight (per 100 scans of a brand's codes)
VERDICTS = {"genuine_first_scan": 33, "genuine_scanned_before": 55, "suspicious_copy": 7,
            "revoked_key": 1, "batch_on_hold": 2, "batch_recalled": 2}  # fmt: skip


def prepare(sessions, brands: int, products: int, batches: int, units: int) -> list[list[int]]:
    """Brands with products, batches, a key, a job per batch and ``units`` units in all
    (COPY); returns, per brand, [brand id, its first unit id, its last unit id]."""
    from sqlalchemy import text

    from tracemark import catalog
    from tracemark.codes import issuance, keystore

    per_batch = max(1, units // (brands * products * batches))
    ranges = []
    for b in range(brands):
        with sessions.begin() as session:
            brand = catalog.create_brand(session, f"bench-{b}", f"Bench {b}", None)
            keystore.create_key(session, brand, PASSPHRASE)
            # the brand's company prefix: every GTIN below but its last two digits
            catalog.claim_prefix(session, brand, _gtin(f"{9506000134350 + b * 100:013d}")[1:11])
            jobs = []
            for p in range(products):
                gtin = f"{9506000134350 + b * 100 + p:013d}"
                product = catalog.create_product(session, brand, _gtin(gtin), f"Product {b}.{p}")
                for lot in range(batches):
                    batch = catalog.create_batch(session, product, f"L{p}-{lot}")
                    job = issuance.create_job(session, batch, per_batch)
                    jobs.append((brand.id, batch.id, job.id))
        with sessions.begin() as session:
            raw = session.connection().connection.driver_connection
            columns = "brand_id, batch_id, job_id, seq, serial, signature"
            with raw.cursor() as cursor, cursor.copy(f"COPY unit ({columns}) FROM STDIN") as copy:
                for brand_id, batch_id, job_id in jobs:
                    for seq in range(per_batch):
                        serial = f"S{job_id:06d}{seq:09d}"
                        copy.write_row((brand_id, batch_id, job_id, seq, serial, bytes(64)))
            ids = session.execute(
                text("SELECT min(id), max(id) FROM unit WHERE brand_id = :b"), {"b": jobs[0][0]}
            ).one()
        ranges.append([jobs[0][0], *ids])
    return ranges


def _gtin(body13: str) -> str:
    from signing.gs1 import gtin_check_digit

    return body13 + str(gtin_check_digit(body13))


def copy_events(sessions, ranges: list[list[int]], count: int, start: dt.datetime, seed: int):
    """``count`` events from ``start`` over a year, in time order (COPY, text format)."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(ranges))]  # brand 0 is the busiest
    country_weights = [1 / (i + 1) ** 0.8 for i in range(len(COUNTRIES))]
    verdicts, verdict_weights = list(VERDICTS), list(VERDICTS.values())
    hashes = [f"{rng.getrandbits(128):032x}" for _ in range(512)]
    step = SPAN / count
    chunk = 100_000
    with sessions.begin() as session:
        raw = session.connection().connection.driver_connection
        columns = (
            "brand_id, unit_id, scanned_at, verdict, reason, country, locale, "
            "device_hash, network_hash, device_class"
        )
        with raw.cursor() as cursor, cursor.copy(f"COPY scan_event ({columns}) FROM STDIN") as copy:
            for offset in range(0, count, chunk):
                n = min(chunk, count - offset)
                brands = rng.choices(range(len(ranges)), weights, k=n)
                countries = rng.choices([*COUNTRIES, "\\N"], [*country_weights, 3], k=n)
                locales = rng.choices(LOCALES, k=n)
                devices = rng.choices(DEVICES, k=n)
                chosen = rng.choices(verdicts, verdict_weights, k=n)
                forged = [rng.random() < 0.05 for _ in range(n)]
                lines = []
                for i in range(n):
                    at = (start + step * (offset + i)).isoformat()
                    if forged[i]:
                        brand_id, unit_id, verdict = "\\N", "\\N", "not_genuine"
                    else:
                        brand, low, high = ranges[brands[i]]
                        brand_id = str(brand)
                        unit_id, verdict = str(rng.randint(low, high)), chosen[i]
                    lines.append(
                        f"{brand_id}\t{unit_id}\t{at}\t{verdict}\tbench\t{countries[i]}\t"
                        f"{locales[i]}\t{hashes[i & 511]}\t{hashes[(i >> 3) & 511]}\t{devices[i]}\n"
                    )
                copy.write("".join(lines))


def _analyze(engine) -> None:
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _timed(fn, runs: int) -> list[float]:
    fn()  # warm
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        values.append((time.perf_counter() - started) * 1000)
    return values


def raw_queries(brand_id: int, start: dt.date, end: dt.date, product_id: int | None):
    """The board's aggregates straight from scan_event (the baseline)."""
    from sqlalchemy import text

    begin = dt.datetime.combine(start, dt.time(), dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    product = "AND b.product_id = :product" if product_id is not None else ""
    source = (
        "FROM scan_event e LEFT JOIN unit u ON u.id = e.unit_id "
        "LEFT JOIN batch b ON b.id = u.batch_id "
        f"WHERE e.brand_id = :brand AND e.scanned_at >= :begin AND e.scanned_at < :stop {product}"
    )
    counts = (
        "count(*), sum(CASE WHEN e.verdict = 'suspicious_copy' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN e.verdict = 'genuine_first_scan' THEN 1 ELSE 0 END)"
    )
    params = {"brand": brand_id, "begin": begin, "stop": stop, "product": product_id}
    day = "(e.scanned_at AT TIME ZONE 'UTC')::date"
    return {
        "totals": (text(f"SELECT {counts} {source}"), params),
        "over_time day": (text(f"SELECT {day}, {counts} {source} GROUP BY 1"), params),
        "country": (text(f"SELECT e.country, {counts} {source} GROUP BY 1"), params),
        "product": (text(f"SELECT b.product_id, {counts} {source} GROUP BY 1"), params),
        "batch": (text(f"SELECT u.batch_id, {counts} {source} GROUP BY 1"), params),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=5)
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--batches", type=int, default=5, help="per product")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline-runs", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from tracemark import migrate
    from tracemark.db import make_engine, make_sessionmaker
    from tracemark.models import Product, ScanRollup
    from tracemark.reporting import analytics, rollups

    with postgres_schema() as url:
        engine = make_engine(url)
        migrate.migrate_to(engine)
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        ranges = prepare(sessions, args.brands, args.products, args.batches, args.units)
        units_seconds = time.perf_counter() - started
        started = time.perf_counter()
        copy_events(sessions, ranges, args.events, START, seed=1)
        copy_seconds = time.perf_counter() - started
        _analyze(engine)
        print(
            f"generated {args.events:,} events in {copy_seconds:.0f} s "
            f"(units {units_seconds:.0f} s)",
            file=sys.stderr,
        )

        far = START + SPAN * 3
        started = time.perf_counter()
        backfill = rollups.roll_up(sessions, now=far)
        backfill_seconds = time.perf_counter() - started
        slice_size = max(1_000, min(200_000, args.events // 50))
        copy_events(sessions, ranges, slice_size, START + SPAN, seed=2)
        started = time.perf_counter()
        steady = rollups.roll_up(sessions, now=far)
        steady_seconds = time.perf_counter() - started
        _analyze(engine)

        brand_id = ranges[0][0]
        with sessions() as session:
            rollup_rows = session.scalar(select(func.count()).select_from(ScanRollup))
            product_id = session.scalar(
                select(Product.id).where(Product.brand_id == brand_id).order_by(Product.id)
            )
        end = (START + SPAN).date()
        ranges_shown = {
            "90 days": (end - dt.timedelta(days=89), end),
            "365 days": (end - dt.timedelta(days=364), end),
        }
        rows_ours, rows_base = [], []
        slowest = 0.0
        with sessions() as session:
            for range_name, (first, last) in ranges_shown.items():
                for product in (None, product_id):
                    label = f"{range_name}{', one product' if product else ''}"
                    for granularity in ("day", "month"):
                        filters = analytics.Filters(first, last, product, granularity)
                        values = _timed(
                            lambda f=filters: analytics.over_time(session, brand_id, f), args.runs
                        )
                        rows_ours.append((f"over_time {granularity} {label}", values, _ms))
                    filters = analytics.Filters(first, last, product)
                    for name, fn in (
                        ("totals", lambda f=filters: analytics.totals(session, brand_id, f)),
                        ("hotspots", lambda f=filters: analytics.hotspots(session, brand_id, f)),
                        *(
                            (d, lambda f=filters, d=d: analytics.breakdown(session, brand_id, f, d))
                            for d in analytics.BREAKDOWNS
                        ),
                    ):
                        values = _timed(fn, args.runs)
                        rows_ours.append((f"{name} {label}", values, _ms))
                    # the page's queries: it ranks hotspots from the country breakdown
                    board = _timed(
                        lambda f=filters: [
                            analytics.totals(session, brand_id, f),
                            analytics.over_time(session, brand_id, f),
                            *(
                                analytics.breakdown(session, brand_id, f, d)
                                for d in analytics.BREAKDOWNS
                            ),
                        ],
                        args.runs,
                    )
                    rows_ours.append((f"whole board {label}", board, _ms))
                    for name, (statement, params) in raw_queries(
                        brand_id, first, last, product
                    ).items():
                        values = _timed(
                            lambda s=statement, p=params: session.execute(s, p).all(),
                            args.baseline_runs,
                        )
                        rows_base.append((f"raw {name} {label}", values, _ms))
            slowest = max(
                median(values) for name, values, _ in rows_ours if not name.startswith("whole")
            )
        engine.dispose()

    total = args.events + slice_size
    report(
        f"analytics_bench: {args.events:,} events, {args.brands} brands x {args.products} "
        f"products x {args.batches} batches, {args.units:,} units, on PostgreSQL ({machine()})",
        [
            ("rollup backfill events/s", [backfill.events / backfill_seconds], _rate),
            ("rollup backfill seconds", [backfill_seconds], lambda v: f"{v:.1f} s"),
            (
                f"rollup of {slice_size:,} new events, events/s",
                [steady.events / steady_seconds],
                _rate,
            ),
        ],
    )
    print(f"  rollup rows: {rollup_rows:,} for {total:,} events")
    report("board queries on the rollups, brand 1 (ms)", rows_ours)
    report("same-run baseline: the same aggregates on raw scan_event (ms)", rows_base)
    print(
        f"\n  slowest board query median: {slowest:.1f} ms (target <= 300 ms); "
        f"rollup: {backfill.events / backfill_seconds:,.0f} and "
        f"{steady.events / steady_seconds:,.0f} events/s (target >= 2,000/s)"
    )


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _rate(value: float) -> str:
    return f"{value:,.0f}"


if __name__ == "__main__":
    main()
