"""Trace pages benchmark: the admin app's trace pages, rendered whole, on the generated
supply chain of ``trace_bench`` (same generator, same scale option).

Each figure is one request through the Flask test client, signed in as the brand's
owner: the backward trace page of a random unit (search redirect excluded), the search
that resolves a batch lot number, and the forward trace page of the lot that feeds 100
batches (its recall impact). Same-run baselines: the admin dashboard (sign-in, session,
layout, one membership query: what every admin page costs before its own work) and the
core backward trace alone (``genealogy.backward_from_unit``), so the page's own share is
the difference.

    python benchmarks/trace_pages_bench.py --scale 0.01 --db both
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, postgres_schema, report
from sqlalchemy import select
from trace_bench import HOT_LOT, generate, lot_uri

from tracemark import migrate
from tracemark.accounts import users as accounts
from tracemark.app import create_app
from tracemark.config import Settings
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Brand, MaterialLot, Role
from tracemark.trace import genealogy

PASSWORD = "bench password 1"


def measure(url: str, scale: float, runs: int) -> dict[str, list[float]]:
    engine = make_engine(url)
    migrate.migrate_to(engine)
    sessions = make_sessionmaker(engine)
    chain, counts = generate(sessions, scale)
    print(
        f"  generated {counts['batches']:,} batches, {counts['units']:,} units,"
        f" {counts['events']:,} events in {counts['seconds']:.0f} s",
        flush=True,
    )
    with sessions.begin() as session:
        brand = session.get_one(Brand, chain.brand)
        user = accounts.create_user(session, "bench@example.com", PASSWORD, "Bench")
        accounts.grant(session, user, brand, Role.OWNER)
        hot = session.scalar(
            select(MaterialLot.id).where(MaterialLot.epc_class == lot_uri(HOT_LOT))
        )
        slug = brand.slug
    app = create_app(Settings(database_url=url, secret_key="bench", pin_secret="bench"))
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed = client.post(
        "/admin/login",
        data={"csrf_token": token, "email": "bench@example.com", "password": PASSWORD},
    )
    assert signed.status_code == 302, signed.status_code
    base = f"/admin/brands/{slug}"
    rng = random.Random(3)
    out: dict[str, list[float]] = {
        "dashboard": [],
        "core": [],
        "backward": [],
        "search": [],
        "forward": [],
    }

    def timed(name: str, path: str, status: int = 200) -> str:
        started = time.perf_counter()
        answer = client.get(path)
        body = answer.get_data(as_text=True)
        out[name].append(time.perf_counter() - started)
        assert answer.status_code == status, (path, answer.status_code)
        return body

    for _ in range(runs):
        for _ in range(10):
            unit_id = rng.randrange(1, chain.units + 1)
            serial = f"U{unit_id:012d}"
            timed("dashboard", "/admin/")
            with sessions.begin() as session:
                brand = session.get_one(Brand, chain.brand)
                started = time.perf_counter()
                genealogy.backward_from_unit(session, brand, serial)
                out["core"].append(time.perf_counter() - started)
            body = timed("backward", f"{base}/trace/units/{serial}")
            assert body.count("<tr data-lot=") >= 10
            batch = rng.randrange(1, chain.batches + 1)
            timed("search", f"{base}/trace?q=B{batch:06d}", 302)
        timed("forward", f"{base}/trace/lots/{hot}")
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    for db in ("postgresql", "sqlite") if args.db == "both" else (args.db,):
        print(f"\ntrace_pages_bench on {db}, scale {args.scale}", flush=True)
        if db == "postgresql":
            with postgres_schema() as url:
                out = measure(url, args.scale, args.runs)
        else:
            with tempfile.TemporaryDirectory() as folder:
                out = measure(f"sqlite:///{folder}/bench.db", args.scale, args.runs)
        ms = lambda v: f"{v * 1000:.2f} ms"  # noqa: E731
        report(
            f"trace_pages_bench: scale {args.scale} on {db} ({machine()})",
            [
                ("baseline: admin dashboard page", out["dashboard"], ms),
                ("baseline: core backward trace alone", out["core"], ms),
                ("backward trace page of a unit", out["backward"], ms),
                ("search a batch lot (redirect)", out["search"], ms),
                ("forward trace page, lot in 100 batches", out["forward"], ms),
            ],
        )


if __name__ == "__main__":
    main()
