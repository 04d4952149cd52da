"""Capture throughput through the integration API, served as in production.

The app runs under ``gunicorn -c gunicorn.conf.py`` on a fresh database (PostgreSQL
schema or SQLite file); ``--clients`` threads POST EPCIS 2.0 documents of ``--size``
events (object events on a batch's class, each with its own eventID) to
``/api/v1/brands/<slug>/events`` with a real token over keep-alive connections. A run
posts ``--documents`` documents; the figure is events stored per second of wall time,
the median of ``--runs`` runs (each with fresh eventIDs, so every event is stored).

Same-run baselines: the same documents POSTed to ``benchmarks/bare_app.py``'s
``/capture`` (gunicorn + Flask reading and parsing the JSON, nothing else), and
``capture.capture_document`` called in this process, one committed transaction per
document (the core's work without HTTP, tokens or JSON parsing; one process).

    python benchmarks/api_capture_bench.py --size 500 --documents 20 --db both
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, postgres_schema, report
from portal_load import HOST, gunicorn

from tracemark import catalog, migrate
from tracemark.accounts import tokens as api_tokens
from tracemark.db import make_engine, make_sessionmaker
from tracemark.epcis import identifiers as epc
from tracemark.epcis.schema import EPCIS_CONTEXT
from tracemark.trace import capture

GTIN = "09506000134352"
LOT = "B1"


def prepare(url: str) -> tuple[str, str]:
    """A migrated database with a brand, product and batch; returns (slug, token)."""
    engine = make_engine(url)
    migrate.migrate_to(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        brand = catalog.create_brand(session, "bench", "Bench")
        catalog.claim_prefix(session, brand, "9506000")
        product = catalog.create_product(session, brand, GTIN, "Olive oil")
        catalog.create_batch(session, product, LOT)
        _row, token = api_tokens.create_token(session, brand, "bench", ["capture"])
    engine.dispose()
    return "bench", token


def documents(count: int, size: int) -> list[bytes]:
    """``count`` EPCIS documents of ``size`` events, every eventID new."""
    run = secrets.token_hex(4)
    lot_class = epc.lot_class(GTIN, LOT)
    out = []
    for d in range(count):
        events = [
            {
                "type": "ObjectEvent",
                "eventID": f"urn:uuid:{run}-{d}-{i}",
                "eventTime": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00+02:00",
                "eventTimeZoneOffset": "+02:00",
                "action": "OBSERVE",
                "bizStep": "shipping",
                "readPoint": {"id": "urn:epc:id:sgln:9506000.00000.0"},
                "quantityList": [{"epcClass": lot_class, "quantity": 1 + i % 5, "uom": "EA"}],
            }
            for i in range(size)
        ]
        out.append(
            json.dumps(
                {
                    "@context": [EPCIS_CONTEXT],
                    "type": "EPCISDocument",
                    "schemaVersion": "2.0",
                    "creationDate": "2026-10-10T00:00:00Z",
                    "epcisBody": {"eventList": events},
                }
            ).encode()
        )
    return out


def post_all(port: int, path: str, token: str, docs: list[bytes], clients: int) -> float:
    """POST every document (shared out among ``clients`` threads); returns seconds."""
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def work(mine: list[bytes]) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            for body in mine:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    errors.append(f"{response.status}: {answer[:200]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(docs[i::clients],)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} failed posts, first: {errors[0]}")
    return elapsed


def capture_directly(url: str, docs: list[bytes]) -> float:
    """Capture the documents in this process, one transaction each; returns seconds."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    parsed = [json.loads(body) for body in docs]
    start = time.perf_counter()
    for document in parsed:
        with sessions.begin() as session:
            capture.capture_document(session, catalog.get_brand(session, "bench"), document)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def measure(name: str, url: str, args: argparse.Namespace, log_dir: Path) -> None:
    slug, token = prepare(url)
    env = {
        "TRACEMARK_DATABASE_URL": url,
        "TRACEMARK_SECRET_KEY": "bench",
        "TRACEMARK_API_RATE_LIMIT": "1000000/minute",
        "PATH": "/usr/bin:/bin",
    }
    extra = ["--workers", str(args.workers)]
    events = args.documents * args.size
    api_rates, bare_rates, core_rates = [], [], []
    with ExitStack() as stack:
        api_port, _ = stack.enter_context(
            gunicorn(f"api-{name}", "tracemark.app:create_app()", env, log_dir, extra)
        )
        bare_port, _ = stack.enter_context(
            gunicorn(f"bare-{name}", "bare_app:create_bare_app()", env, log_dir, extra)
        )
        path = f"/api/v1/brands/{slug}/events"
        post_all(api_port, path, token, documents(2, args.size), args.clients)  # warm up
        for _ in range(args.runs):
            docs = documents(args.documents, args.size)
            api_rates.append(events / post_all(api_port, path, token, docs, args.clients))
            bare_rates.append(events / post_all(bare_port, "/capture", token, docs, args.clients))
            core_rates.append(events / capture_directly(url, documents(args.documents, args.size)))
    per_s = lambda value: f"{value:,.0f} ev/s"  # noqa: E731
    report(
        f"{name}: {args.documents} documents of {args.size} events, {args.clients} clients, "
        f"{args.workers} gunicorn workers",
        [
            ("integration API capture (stored)", api_rates, per_s),
            ("bare Flask, JSON parsed (baseline)", bare_rates, per_s),
            ("capture_document in process (baseline)", core_rates, per_s),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=500, help="events per document")
    parser.add_argument("--documents", type=int, default=20, help="documents per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="both")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        log_dir = Path(folder)
        if args.db in ("postgresql", "both"):
            with postgres_schema() as url:
                measure("PostgreSQL", url, args, log_dir)
        if args.db in ("sqlite", "both"):
            measure("SQLite", f"sqlite:///{log_dir / 'bench.db'}", args, log_dir)


if __name__ == "__main__":
    main()
