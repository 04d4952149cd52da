"""Issuance benchmark: N codes through ``issuance.run_job`` against a same-run raw baseline.

The baseline is the bare work: one process signing N messages with Ed25519 in a loop,
then inserting the same rows into the same table in one go (COPY on PostgreSQL,
executemany on SQLite). Each measurement runs in a fresh child process, in a freshly
migrated schema, so peak memory (ru_maxrss of the process and its signing workers) is its
own.

    python benchmarks/issue_bench.py --count 1000000 --runs 3 --db postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, median, postgres_schema, report

PASSPHRASE = "bench-passphrase"


def _prepare(url: str):
    from tracemark import catalog, migrate
    from tracemark.codes import keystore
    from tracemark.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    migrate.migrate_to(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        brand = catalog.create_brand(session, "bench", "Bench", "https://tm.example-brand-name.com")
        catalog.claim_prefix(session, brand, "9506000")
        product = catalog.create_product(session, brand, "09506000134352", "Bench product")
        batch = catalog.create_batch(session, product, "L2401A")
        keystore.create_key(session, brand, PASSPHRASE)
        return sessions, batch.id


def child_issue(url: str, count: int, workers: int | None) -> dict:
    from tracemark.codes import issuance

    sessions, batch_id = _prepare(url)
    started = time.perf_counter()
    issuance.issue(sessions, batch_id, count, PASSPHRASE, workers=workers)
    return {"seconds": time.perf_counter() - started}


def child_baseline(url: str, count: int) -> dict:
    import secrets

    from sqlalchemy import insert

    from signing.codes import message_prefix
    from tracemark.codes import issuance, keystore
    from tracemark.db import is_postgresql
    from tracemark.models import IssuanceJob, Unit

    sessions, batch_id = _prepare(url)
    with sessions.begin() as session:
        from tracemark.models import Batch

        job = issuance.create_job(session, session.get_one(Batch, batch_id), count)
        key = keystore.private_key_of(job.signing_key, PASSPHRASE)
        ids = (job.brand_id, job.batch_id, job.id)
        prefix = message_prefix(job.signing_key.kid, "09506000134352", "L2401A")
    started = time.perf_counter()
    rows = []
    for seq in range(count):
        serial = secrets.token_hex(8)[:13].upper()
        rows.append((*ids, seq, serial, key.sign(prefix + serial.encode())))
    with sessions.begin() as session:
        if is_postgresql(session):
            raw = session.connection().connection.driver_connection
            columns = "brand_id, batch_id, job_id, seq, serial, signature"
            with raw.cursor() as cursor, cursor.copy(f"COPY unit ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            names = ("brand_id", "batch_id", "job_id", "seq", "serial", "signature")
            session.execute(insert(Unit), [dict(zip(names, r, strict=True)) for r in rows])
        session.get_one(IssuanceJob, ids[2]).issued = count
    return {"seconds": time.perf_counter() - started}


def _run_child(mode: str, url: str, count: int, workers: int | None) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--count", str(count)]
    if workers:
        command += ["--workers", str(workers)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _bench(db: str, count: int, runs: int, workers: int | None) -> None:
    ours, base, memory = [], [], []
    for _ in range(runs):
        for mode in ("issue", "baseline"):
            if db == "postgresql":
                with postgres_schema() as url:
                    result = _run_child(mode, url, count, workers)
            else:
                with tempfile.TemporaryDirectory() as folder:
                    result = _run_child(mode, f"sqlite:///{folder}/bench.db", count, workers)
            if mode == "issue":
                ours.append(result["seconds"])
                memory.append(result["peak_mb"])
            else:
                base.append(result["seconds"])
    rates = [count / s for s in ours]
    base_rates = [count / s for s in base]
    report(
        f"issue_bench: {count:,} codes on {db} ({machine()})",
        [
            ("issuance.run_job seconds", ours, lambda v: f"{v:.1f} s"),
            ("issuance.run_job codes/s", rates, lambda v: f"{v:,.0f}"),
            ("baseline sign loop + bulk insert s", base, lambda v: f"{v:.1f} s"),
            ("baseline codes/s", base_rates, lambda v: f"{v:,.0f}"),
            ("peak RSS bound, main + all workers MB", memory, lambda v: f"{v:.0f}"),
        ],
    )
    print(f"  ratio to baseline rate: {median(rates) / median(base_rates):.0%} (target >= 50%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--child", choices=["issue", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "issue":
            result = child_issue(args.url, args.count, args.workers)
        else:
            result = child_baseline(args.url, args.count)
        # ru_maxrss of the children is the largest single worker, not their sum: the
        # bound reported is main + workers x largest worker.
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        largest_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        workers = args.workers or os.cpu_count() or 1
        result["peak_mb"] = (own + workers * largest_child) / 1024
        print(json.dumps(result))
        return
    for db in ("postgresql", "sqlite") if args.db == "both" else (args.db,):
        _bench(db, args.count, args.runs, args.workers)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
