"""Full-stack mixed load: consumer scans, ERP captures and dashboard views at once.

Production traffic is not one kind of request. This serves the whole application as
deployed (``gunicorn -c gunicorn.conf.py``, PostgreSQL, Redis for the rate limits) and
has wrk send, per request, at random:

* 90 %: a consumer scan — ``GET /01/…?S=…``, the verdict page of one of N issued codes;
* 9 %: an ERP capture — ``POST /api/v1/brands/bench/events`` with a bearer token and one
  EPCIS 2.0 ObjectEvent (a fresh eventID each time, about one of the issued units);
* 1 %: a dashboard view — ``GET /admin/brands/bench/analytics`` (the marketing board) with
  a signed-in owner's session cookie.

Each class is counted on the server, not trusted from wrk: scan events written, trace
events stored, and the board's answers (wrk counts non-2xx answers as errors). The
same-run baseline is ``benchmarks/bare_app.py`` (a bare Flask endpoint) under the same
gunicorn config, measured between the mixed runs. Medians of ``--runs``.

    apt-get install -y wrk
    python benchmarks/mixed_load.py --duration 60 --connections 64 --codes 10000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, median, postgres_schema, report
from portal_load import (
    PASSPHRASE,
    PIN_SECRET,
    REDIS_URL,
    RESOLVER,
    SCAN_LIMIT,
    SECRET_KEY,
    WRK_DONE,
    flush_limits,
    get,
    gunicorn,
    page_path,
    prepare,
    run_wrk,
    scan_events,
    tail,
)

BRAND = "bench"
OWNER = "owner@bench.example"
PASSWORD = "bench-password-long-enough"
SCAN_SHARE, CAPTURE_SHARE = 900, 90  # per mille; the rest are dashboard views

# Each wrk thread walks the scan paths round-robin from a staggered start and draws the
# kind of each request; capture bodies get a unique eventID (run, thread, counter).
MIXED_SCRIPT = r"""
local scans_file = "%(scans)s"
local capture_path = "%(capture_path)s"
local board_path = "%(board_path)s"
local token = "%(token)s"
local cookie = "%(cookie)s"
local units_file = "%(units)s"
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  scans = {}
  for line in io.lines(scans_file) do scans[#scans + 1] = line end
  units = {}
  for line in io.lines(units_file) do units[#units + 1] = line end
  index = ((thread_id or 0) * 7919) %% #scans
  counter = 0
  run_tag = os.time()  -- eventIDs differ from run to run: a repeat would be skipped
  math.randomseed(os.time() + (thread_id or 0) * 1013)
end

function request()
  local draw = math.random(1000)
  if draw <= %(scan_share)d then
    index = index %% #scans + 1
    return wrk.format("GET", scans[index])
  elseif draw <= %(capture_cut)d then
    counter = counter + 1
    local unit = units[(counter * 31 + (thread_id or 0)) %% #units + 1]
    local body = string.format(
      '{"type":"ObjectEvent","eventID":"urn:tracemark:bench:%%d:%%d:%%d",' ..
      '"eventTime":"2026-11-20T10:00:00Z","eventTimeZoneOffset":"+00:00",' ..
      '"action":"OBSERVE","bizStep":"shipping","disposition":"in_transit",' ..
      '"epcList":["%%s"]}', run_tag, thread_id or 0, counter, unit)
    return wrk.format("POST", capture_path, {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
    }, body)
  else
    return wrk.format("GET", board_path, {["Cookie"] = cookie})
  end
end
"""

BARE_SCRIPT = 'function request() return wrk.format("GET", "/healthz") end\n' + WRK_DONE


def credentials(url: str, env: dict[str, str]) -> tuple[str, str, list[str]]:
    """An API token with the capture scope, an owner's session cookie, and unit EPC URIs."""
    from sqlalchemy import select

    from tracemark import catalog
    from tracemark.accounts import tokens as api_tokens
    from tracemark.accounts import users as accounts
    from tracemark.app import close, create_app
    from tracemark.config import Settings
    from tracemark.db import make_engine, make_sessionmaker
    from tracemark.epcis.identifiers import instance
    from tracemark.models import Batch, Product, Unit

    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            brand = catalog.get_brand(session, BRAND)
            user = accounts.create_user(session, OWNER, PASSWORD, "Bench owner")
            accounts.grant(session, user, brand, "owner")
            _token_row, token = api_tokens.create_token(
                session, brand, "mixed load", scopes=["capture", "read"]
            )
            rows = session.execute(
                select(Product.gtin, Unit.serial)
                .join(Batch, Batch.id == Unit.batch_id)
                .join(Product, Product.id == Batch.product_id)
                .limit(2000)
            )
            units = [instance(gtin, serial) for gtin, serial in rows]
    finally:
        engine.dispose()
    settings = Settings.from_env(env)
    app = create_app(settings)
    try:
        client = app.test_client()
        page = client.get("/admin/login").get_data(as_text=True)
        token_field = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"')[0]
        answer = client.post(
            "/admin/login",
            data={"csrf_token": token_field, "email": OWNER, "password": PASSWORD},
        )
        if answer.status_code != 302:
            raise RuntimeError(f"could not sign in the benchmark owner: {answer.status_code}")
        cookie = client.get_cookie("session")
        if cookie is None:
            raise RuntimeError("no session cookie after signing in")
        return token, f"session={cookie.value}", units
    finally:
        close(app)


def trace_events(url: str) -> int:
    from sqlalchemy import func, select

    from tracemark.db import make_engine
    from tracemark.models import TraceEvent

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(TraceEvent)) or 0
    finally:
        engine.dispose()


def measure(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    flush_limits()
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="mixed_load_"))
    log_dir.mkdir(parents=True, exist_ok=True)
    mixed_runs, bare_runs, counted = [], [], []
    with postgres_schema() as url, ExitStack() as stack:
        code_urls = prepare(url, args.codes)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TRACEMARK_") or key.startswith("TRACEMARK_BENCH_")
        }
        env.update(
            TRACEMARK_DATABASE_URL=url,
            TRACEMARK_REDIS_URL=REDIS_URL,
            TRACEMARK_SECRET_KEY=SECRET_KEY,
            TRACEMARK_KEY_PASSPHRASE=PASSPHRASE,
            TRACEMARK_PIN_SECRET=PIN_SECRET,
            TRACEMARK_SCAN_RATE_LIMIT=SCAN_LIMIT,
            TRACEMARK_API_RATE_LIMIT=SCAN_LIMIT,
            TRACEMARK_PUBLIC_BASE_URL=RESOLVER,
        )
        token, cookie, units = credentials(url, env)
        scans_file = log_dir / "scans.paths"
        scans_file.write_text("\n".join(page_path(u) for u in code_urls) + "\n")
        units_file = log_dir / "units.txt"
        units_file.write_text("\n".join(units) + "\n")
        mixed = log_dir / "mixed.lua"
        mixed.write_text(
            MIXED_SCRIPT
            % {
                "scans": scans_file,
                "units": units_file,
                "capture_path": f"/api/v1/brands/{BRAND}/events",
                "board_path": f"/admin/brands/{BRAND}/analytics",
                "token": token,
                "cookie": cookie,
                "scan_share": SCAN_SHARE,
                "capture_cut": SCAN_SHARE + CAPTURE_SHARE,
            }
            + WRK_DONE
        )
        bare = log_dir / "bare.lua"
        bare.write_text(BARE_SCRIPT)
        app_port, app_log = stack.enter_context(
            gunicorn("app", "tracemark.app:create_app()", env, log_dir, [])
        )
        bare_port, _bare_log = stack.enter_context(
            gunicorn("bare", "bare_app:create_bare_app()", env, log_dir, [])
        )
        _sanity(app_port, code_urls[0], cookie, app_log)
        if args.warmup > 0:
            run_wrk(app_port, mixed, args, args.warmup)
            scan_events(url)
        for run in range(args.runs):
            flush_limits()
            scans_before, events_before = scan_events(url)[0], trace_events(url)
            result = run_wrk(app_port, mixed, args, args.duration)
            scans_after, events_after = scan_events(url)[0], trace_events(url)
            seconds = args.duration
            result["scans_per_s"] = (scans_after - scans_before) / seconds
            result["captures_per_s"] = (events_after - events_before) / seconds
            mixed_runs.append(result)
            counted.append((scans_after - scans_before, events_after - events_before))
            base = run_wrk(bare_port, bare, args, args.duration)
            bare_runs.append(base)
            print(
                f"run {run + 1}/{args.runs}: mixed {result['rate']:,.0f} req/s "
                f"(scans {result['scans_per_s']:,.0f}/s, captures "
                f"{result['captures_per_s']:,.0f}/s), p99 {result['p99_ms']:.0f} ms, errors "
                f"{result['errors']}; bare {base['rate']:,.0f} req/s",
                flush=True,
            )
        stack.close()
    report(
        f"mixed_load: {args.codes:,} codes, 90/9/1 scans/captures/board views, wrk "
        f"-t{args.wrk_threads} -c{args.connections} -d{args.duration:g}s ({machine()})",
        [
            ("all requests req/s", [r["rate"] for r in mixed_runs], lambda v: f"{v:,.0f}"),
            ("verifications/s (scan events)", [r["scans_per_s"] for r in mixed_runs],
             lambda v: f"{v:,.0f}"),
            ("captures/s (trace events)", [r["captures_per_s"] for r in mixed_runs],
             lambda v: f"{v:,.0f}"),
            ("p50", [r["p50_ms"] for r in mixed_runs], lambda v: f"{v:.0f} ms"),
            ("p99", [r["p99_ms"] for r in mixed_runs], lambda v: f"{v:.0f} ms"),
            ("errors", [r["errors"] for r in mixed_runs], lambda v: f"{v:,.0f}"),
            ("bare Flask req/s", [r["rate"] for r in bare_runs], lambda v: f"{v:,.0f}"),
            ("bare Flask p99", [r["p99_ms"] for r in bare_runs], lambda v: f"{v:.1f} ms"),
        ],
    )  # fmt: skip
    share = median([r["rate"] for r in mixed_runs]) / median([r["rate"] for r in bare_runs])
    print(f"  mixed requests/s are {share:.0%} of the bare endpoint's in the same runs")
    print(f"  rows written per run (scan events, trace events): {counted}")
    print(f"  gunicorn logs in {log_dir}")


def _sanity(port: int, code_url: str, cookie: str, log: Path) -> None:
    status, body = get(port, page_path(code_url))
    if status != 200 or b"genuine" not in body:
        raise RuntimeError(f"scan sanity check: HTTP {status}\n{tail(log, 12)}")
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/brands/{BRAND}/analytics", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200 or b"<svg" not in response.read():
            raise RuntimeError("dashboard sanity check failed")
    print("sanity checks: a genuine scan and the signed-in board answer 200", flush=True)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated: servers stopped"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=5, help="seconds, 0: none")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10, help="wrk request timeout, s")
    parser.add_argument("--log-dir", help="where gunicorn logs and wrk scripts go")
    args = parser.parse_args()
    try:
        measure(args)
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, schema dropped")


if __name__ == "__main__":
    main()
