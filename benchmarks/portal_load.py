"""Portal load benchmark: verifications/s and latency under wrk, beside a bare Flask app.

The portal is served as in production (``gunicorn -c gunicorn.conf.py``) on a fresh,
migrated PostgreSQL schema holding one brand, one batch and N issued codes; wrk sends
each thread's requests round-robin over the N distinct code URLs (from a staggered start
per thread) to

* ``api``:  ``GET /api/v1/verify?url=<code URL>`` (the JSON verdict),
* ``html``: ``GET /01/…?S=…`` (the verdict page),
* ``bare``: ``GET /healthz`` of ``benchmarks/bare_app.py`` under the same gunicorn config:
  the same-run baseline of what gunicorn + Flask alone manage on this machine.

Every verification is real: it checks the Ed25519 signature, finds the unit, upserts the
unit's scan state and marks and writes a ScanEvent (the benchmark counts the rows). The
rate limiter runs too, against Redis, with a limit too high to trigger. Targets
interleave within each run, so drift on the machine affects all of them alike; medians
of ``--runs`` are reported. Servers listen on 127.0.0.1 only and are stopped at the end,
on errors and on Ctrl-C.

    apt-get install -y wrk
    python benchmarks/portal_load.py --duration 10 --connections 64 --codes 5000 --runs 1

After the served runs, the CPU each request cost is split by process (gunicorn workers,
the portal's PostgreSQL server processes, Redis, wrk; read from /proc, so PostgreSQL and
Redis count only when they run on this machine), and an in-process phase measures the
CPU of one JSON verification, one verdict page and one bare request in this process
(the Flask test client, no HTTP server), with the PostgreSQL and Redis CPU beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, median, postgres_schema, report

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "bench-passphrase"
SECRET_KEY = "bench-secret-key"
PIN_SECRET = "bench-pin-secret"
REDIS_URL = "redis://127.0.0.1:6379/15"
SCAN_LIMIT = "1000000/minute"
RESOLVER = "https://tm.example-brand-name.com"
HOST = "127.0.0.1"
TARGETS = ("api", "html", "bare")

# Targets of the scan path (medians, same-run ratios to the bare endpoint).
TARGET_RATE = 1_000.0
TARGET_P99_MS = 150.0
TARGET_SHARE_OF_BARE = {"api": 0.20, "html": 0.17}
#: In-process CPU per request, ms (Flask test client, PostgreSQL, Redis).
TARGET_CPU_MS = {"api": 1.0, "html": 1.5}
#: Requests per kind in the in-process phase, in interleaved rounds.
IN_PROCESS_REQUESTS = 1_500
IN_PROCESS_ROUNDS = 5
#: The application name the portal's PostgreSQL connections carry, so the benchmark
#: can find their server processes and read the CPU they used.
APP_NAME = "tm_bench_portal"

# Each wrk thread reads the request paths (one a line) and walks them round-robin from a
# staggered start.
WRK_SCRIPT = r"""
local paths_file = "%(paths)s"
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  paths = {}
  for line in io.lines(paths_file) do
    paths[#paths + 1] = line
  end
  -- stagger the threads so they do not scan the same code at the same moment
  index = ((thread_id or 0) * 7919) %% #paths
end

function request()
  index = index %% #paths + 1
  return wrk.format("GET", paths[index])
end
"""


# ``done`` prints the exact figures as one JSON line for the parser (every wrk script ends
# with it; not %-formatted).
WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


# ---------------------------------------------------------------------------- data


def prepare(url: str, count: int) -> list[str]:
    """Migrate the schema, create brand/product/batch/key, issue ``count`` codes."""
    from tracemark import catalog, migrate
    from tracemark.codes import issuance, keystore
    from tracemark.codes.printing import batch_urls
    from tracemark.db import make_engine, make_sessionmaker
    from tracemark.models import Batch

    engine = make_engine(url)
    try:
        migrate.migrate_to(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            brand = catalog.create_brand(session, "bench", "Bench", RESOLVER)
            catalog.claim_prefix(session, brand, "9506000")
            product = catalog.create_product(session, brand, "09506000134352", "Bench product")
            batch = catalog.create_batch(session, product, "L2401A")
            keystore.create_key(session, brand, PASSPHRASE)
            batch_id = batch.id
        started = time.perf_counter()
        issuance.issue(sessions, batch_id, count, PASSPHRASE)
        print(f"issued {count:,} codes in {time.perf_counter() - started:.1f} s", flush=True)
        with sessions() as session:
            batch = session.get_one(Batch, batch_id)
            return [code_url for _serial, code_url, _pin in batch_urls(session, batch, RESOLVER)]
    finally:
        engine.dispose()


def page_path(code_url: str) -> str:
    """The path and query a phone sends for a scanned code (``/01/…?S=…``)."""
    parts = urlsplit(code_url)
    return f"{parts.path}?{parts.query}"


def api_path(code_url: str) -> str:
    return f"/api/v1/verify?url={quote(code_url, safe='')}"


def scan_events(url: str, settle: float = 10.0) -> tuple[int, Counter]:
    """ScanEvent rows in the schema, and how many of each verdict.

    Requests still in flight when wrk stops finish on the server after it: wait (up to
    ``settle`` seconds) until the count stops moving.
    """
    last, deadline = None, time.monotonic() + settle
    while True:
        total, verdicts = _scan_events(url)
        if total == last or time.monotonic() > deadline:
            return total, verdicts
        last = total
        time.sleep(0.5)


def _scan_events(url: str) -> tuple[int, Counter]:
    from sqlalchemy import func, select

    from tracemark.db import make_engine
    from tracemark.models import ScanEvent

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ScanEvent.verdict, func.count()).group_by(ScanEvent.verdict)
            ).all()
    finally:
        engine.dispose()
    verdicts = Counter({verdict: n for verdict, n in rows})
    return sum(verdicts.values()), verdicts


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def stop(process: subprocess.Popen, grace: float = 35.0) -> None:
    """Stop a server started in its own session: SIGTERM its group, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def gunicorn(
    name: str,
    app: str,
    env: dict[str, str],
    log_dir: Path,
    extra: list[str],
    pids: dict[str, int] | None = None,
) -> Iterator[tuple[int, Path]]:
    """Serve ``app`` with the repo's gunicorn.conf.py on 127.0.0.1; yield (port, error log).
    ``pids`` gets the master's process id under ``name``."""
    port = free_port()
    error_log = log_dir / f"gunicorn-{name}.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"{HOST}:{port}",  # the command line wins over TRACEMARK_BIND
        "--error-logfile", str(error_log),
        "--pythonpath", f"{ROOT},{ROOT / 'benchmarks'}",
        *extra,
        app,
    ]  # fmt: skip
    env = {**env, "TRACEMARK_BIND": f"{HOST}:{port}"}
    with open(log_dir / f"gunicorn-{name}.out", "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C reaches us, and we stop it
        )
    if pids is not None:
        pids[name] = process.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn ({name}) exited:\n{tail(error_log)}")
            try:
                if get(port, "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn ({name}) not healthy in 60 s:\n{tail(error_log)}")
            time.sleep(0.2)
        print(f"gunicorn ({name}) up on {HOST}:{port}, pid {process.pid}", flush=True)
        yield port, error_log
    finally:
        stop(process)


def flush_limits() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


# ---------------------------------------------------------------------------- CPU


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) process ``pid`` has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def postgres_backends(url: str) -> list[int]:
    """Server processes of the connections named :data:`APP_NAME` (the portal's)."""
    import psycopg

    from tracemark.db import make_engine

    conninfo = make_engine(url).url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo.split("?")[0], autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,)
        ).fetchall()
    return [pid for (pid,) in rows]


def redis_cpu() -> float:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


class CpuMeter:
    """CPU seconds used by the app (gunicorn workers or this process), its PostgreSQL
    server processes, Redis (the whole server: another client's load shows too) and the
    load generator, between :meth:`start` and :meth:`stop`. PostgreSQL and Redis must
    run on this machine for their shares (else they read 0)."""

    def __init__(self, url: str, app_pids=None) -> None:
        self.url, self.app_pids = url, app_pids

    def _app(self) -> float:
        if self.app_pids:
            return sum(process_cpu(pid) for pid in self.app_pids())
        return time.process_time()

    def _others(self) -> dict:
        import resource

        load = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "backends": {pid: process_cpu(pid) for pid in postgres_backends(self.url)},
            "redis": redis_cpu(),
            "load": load.ru_utime + load.ru_stime,
        }

    def _sample(self, app_last: bool) -> dict:
        """Everything; this process's own time read closest to the measured requests, so
        the sampling's own queries are not counted in it."""
        if app_last:
            return {**self._others(), "app": self._app()}
        app = self._app()
        return {**self._others(), "app": app}

    def start(self) -> None:
        self.before = self._sample(app_last=True)

    def stop(self, requests: int) -> dict[str, float]:
        """ms of CPU per request for each part."""
        after, before = self._sample(app_last=False), self.before
        postgres = sum(
            cpu - before["backends"].get(pid, 0.0) for pid, cpu in after["backends"].items()
        )
        used = {
            "app": after["app"] - before["app"],
            "postgres": postgres,
            "redis": after["redis"] - before["redis"],
            "load generator": after["load"] - before["load"],
        }
        return {part: 1000 * seconds / max(1, requests) for part, seconds in used.items()}


def gunicorn_workers(master: int):
    return lambda: children(master)


# ---------------------------------------------------------------------------- in process


def in_process(url: str, code_urls: list[str], env: dict[str, str]) -> dict[str, list[dict]]:
    """CPU per request in this process (Flask test client, no HTTP server), for the JSON
    verification, the verdict page and the bare endpoint, in interleaved rounds; for the
    portal also the CPU its PostgreSQL backends and Redis used meanwhile."""
    from dataclasses import replace

    from bare_app import create_bare_app

    from tracemark.app import close, create_app
    from tracemark.config import Settings

    settings = replace(Settings.from_env(env), database_url=url)
    app = create_app(settings)
    # Without the client's cookie jar, whose URL handling is test-client work, not the
    # app's; a phone's first scan carries no cookie either.
    bare = create_bare_app().test_client(use_cookies=False)
    portal = app.test_client(use_cookies=False)
    meter = CpuMeter(url)
    paths = {"api": [api_path(u) for u in code_urls], "html": [page_path(u) for u in code_urls]}
    per_round = max(1, IN_PROCESS_REQUESTS // IN_PROCESS_ROUNDS)
    results: dict[str, list[dict]] = {"api": [], "html": [], "bare": []}
    offset = len(code_urls) // 2  # codes the served runs may not have reached yet
    try:
        for path in paths["api"][:20] + paths["html"][:20]:  # warm caches and the pool
            portal.get(path)
        for round_ in range(IN_PROCESS_ROUNDS):
            for target in ("bare", "api", "html"):
                client = bare if target == "bare" else portal
                meter.start()
                for i in range(per_round):
                    path = (
                        "/healthz"
                        if target == "bare"
                        else paths[target][(offset + round_ * per_round + i) % len(code_urls)]
                    )
                    response = client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(f"in process {target}: HTTP {response.status_code}")
                results[target].append(meter.stop(per_round))
    finally:
        close(app)
    return results


# ---------------------------------------------------------------------------- wrk


def write_script(folder: Path, name: str, paths: list[str]) -> Path:
    paths_file = folder / f"{name}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    script = folder / f"{name}.lua"
    script.write_text(WRK_SCRIPT % {"paths": str(paths_file)} + WRK_DONE)
    return script


def run_wrk(port: int, script: Path, args: argparse.Namespace, duration: float) -> dict:
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={args.timeout}s",
        "--latency",
        "-s", str(script),
        f"http://{HOST}:{port}",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=duration + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"no result line in wrk's output:\n{output}")
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "rate": (raw["requests"] - raw["status"]) / seconds,  # good answers per second
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["status"] + socket_errors,
        "non_2xx_3xx": raw["status"],
        "socket_errors": socket_errors,
        "requests": raw["requests"],
    }


# ---------------------------------------------------------------------------- main


def measure(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    flush_limits()  # fails early when Redis is not there
    gunicorn_args = []
    if args.worker_class:
        gunicorn_args += ["--worker-class", args.worker_class]
    if args.workers:
        gunicorn_args += ["--workers", str(args.workers)]
    if args.threads:
        gunicorn_args += ["--threads", str(args.threads)]
    targets = [t for t in TARGETS if t in args.targets]
    results: dict[str, list[dict]] = {t: [] for t in targets}
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="portal_load_"))
    log_dir.mkdir(parents=True, exist_ok=True)

    with postgres_schema() as schema_url, ExitStack() as stack:
        code_urls = prepare(schema_url, args.codes)
        url = f"{schema_url}&application_name={APP_NAME}"
        scripts = {
            "api": write_script(log_dir, "api", [api_path(u) for u in code_urls]),
            "html": write_script(log_dir, "html", [page_path(u) for u in code_urls]),
            "bare": write_script(log_dir, "bare", ["/healthz"]),
        }
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
            TRACEMARK_PUBLIC_BASE_URL=RESOLVER,
            TRACEMARK_MAX_REQUESTS="0",  # no worker recycled mid-run: its CPU would be lost
        )
        ports, error_logs, masters = {}, {}, {}
        if {"api", "html"} & set(targets):
            ports["app"], error_logs["app"] = stack.enter_context(
                gunicorn(
                    "portal", "tracemark.app:create_app()", env, log_dir, gunicorn_args, masters
                )
            )
            sample = code_urls[0]
            paths = {"api": api_path(sample), "html": page_path(sample)}
            for target in ("api", "html"):
                if target not in targets:
                    continue
                status, body = get(ports["app"], paths[target])
                if status != 200 or b"genuine" not in body:
                    raise RuntimeError(
                        f"sanity check of {target} failed: HTTP {status}, {body[:200]!r}\n"
                        f"{error_logs['app']}:\n{tail(error_logs['app'], 12)}"
                    )
                print(f"sanity check ({target}): a genuine code answers 200, genuine", flush=True)
        if "bare" in targets:
            ports["bare"], error_logs["bare"] = stack.enter_context(
                gunicorn("bare", "bare_app:create_bare_app()", env, log_dir, gunicorn_args, masters)
            )
        meters = {
            target: CpuMeter(
                url, gunicorn_workers(masters["bare" if target == "bare" else "portal"])
            )
            for target in targets
        }
        cpu: dict[str, list[dict]] = {t: [] for t in targets}

        def port_of(target: str) -> int:
            return ports["bare" if target == "bare" else "app"]

        def drain(target: str) -> None:
            """Let the requests wrk left in flight finish before the next target starts."""
            if target != "bare":
                scan_events(url)

        if args.warmup > 0:
            for target in targets:
                flush_limits()
                run_wrk(port_of(target), scripts[target], args, args.warmup)
                drain(target)
        events_before = scan_events(url)[0] if "app" in ports else 0
        verification_requests = 0
        for run in range(args.runs):
            for target in targets:
                flush_limits()
                meters[target].start()
                result = run_wrk(port_of(target), scripts[target], args, args.duration)
                drain(target)
                cpu[target].append(meters[target].stop(result["requests"]))
                results[target].append(result)
                if target != "bare":
                    verification_requests += result["requests"]
                print(
                    f"run {run + 1}/{args.runs} {target:<4}: {result['rate']:,.0f} req/s, "
                    f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                    f"errors {result['errors']}",
                    flush=True,
                )
        if "app" in ports:
            events_after, verdicts = scan_events(url)
        problems = {
            name: sum(1 for ln in log.read_text(errors="replace").splitlines() if _bad(ln))
            for name, log in error_logs.items()
        }
        stack.close()  # stop the servers before the schema is dropped
        inproc = {}
        if args.in_process and {"api", "html"} & set(targets):
            print("in-process phase (Flask test client)...", flush=True)
            inproc = in_process(url, code_urls, env)

    _report(args, targets, results, cpu, inproc)
    if "app" in ports:
        written = events_after - events_before
        print(
            f"  scan events written during the measured runs: {written:,} for "
            f"{verification_requests:,} verification responses wrk counted (the server also "
            f"finishes up to {args.connections} requests in flight when each run stops)"
        )
        print(f"  verdicts recorded (sanity checks and warm-up included): {dict(verdicts)}")
    print(
        f"  every portal request also spent from its rate budget (fixed window, {SCAN_LIMIT}, "
        f"storage {REDIS_URL}, flushed before each run): its Redis round trips are included"
    )
    print(f"  gunicorn logs in {log_dir}; error/traceback lines: {problems}")


def _bad(line: str) -> bool:
    return any(word in line for word in ("Traceback", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT"))


NAMES = {"api": "JSON API verify", "html": "HTML verdict page", "bare": "bare Flask endpoint"}


def _report(
    args: argparse.Namespace,
    targets: list[str],
    results: dict[str, list[dict]],
    cpu: dict[str, list[dict]],
    inproc: dict[str, list[dict]],
) -> None:
    kind = args.worker_class or "config default"
    rows = []
    names = NAMES
    for target in targets:
        values = results[target]
        label = names[target]
        rows += [
            (f"{label} req/s", [v["rate"] for v in values], lambda v: f"{v:,.0f}"),
            (f"{label} p50", [v["p50_ms"] for v in values], lambda v: f"{v:.1f} ms"),
            (f"{label} p99", [v["p99_ms"] for v in values], lambda v: f"{v:.1f} ms"),
            (f"{label} errors", [v["errors"] for v in values], lambda v: f"{v:,.0f}"),
        ]
    report(
        f"portal_load: {args.codes:,} codes, wrk -t{args.wrk_threads} -c{args.connections} "
        f"-d{args.duration:g}s, gunicorn worker class: {kind} ({machine()})",
        rows,
    )
    bare = median([v["rate"] for v in results["bare"]]) if "bare" in results else None
    for target in ("api", "html"):
        if target not in results:
            continue
        rate = median([v["rate"] for v in results[target]])
        p99 = median([v["p99_ms"] for v in results[target]])
        errors = sum(v["errors"] for v in results[target])
        checks = [
            f"{rate:,.0f} verifications/s {_mark(rate >= TARGET_RATE)} (target >= "
            f"{TARGET_RATE:,.0f})",
            f"p99 {p99:.1f} ms {_mark(p99 <= TARGET_P99_MS)} (target <= {TARGET_P99_MS:.0f} ms)",
        ]
        if bare:
            share = rate / bare
            checks.append(
                f"{share:.1%} of bare {_mark(share >= TARGET_SHARE_OF_BARE[target])} "
                f"(target >= {TARGET_SHARE_OF_BARE[target]:.0%})"
            )
        checks.append(f"request errors {errors} {_mark(errors == 0)}")
        print(f"  {names[target]}: " + "; ".join(checks))
    _report_cpu(targets, cpu, inproc)


def _split(samples: list[dict]) -> str:
    parts = {part: median([s[part] for s in samples]) for part in samples[0]}
    shown = ", ".join(f"{part} {ms:.2f}" for part, ms in parts.items())
    return f"{sum(parts.values()):.2f} ms = {shown}"


def _report_cpu(targets: list[str], cpu: dict[str, list[dict]], inproc: dict[str, list[dict]]):
    """CPU per request: served (all processes of the machine that served it, from /proc
    and Redis's INFO) and in process (this process, the test client)."""
    print("\n  CPU per request while served (medians of the runs; ms):")
    for target in targets:
        if cpu.get(target):
            print(f"    {NAMES[target]:<21} {_split(cpu[target])}")
    if not inproc:
        return
    print("  CPU per request in process (Flask test client, medians of rounds; ms):")
    bare = median([s["app"] for s in inproc["bare"]])
    for target in ("api", "html", "bare"):
        samples = inproc[target]
        app = median([s["app"] for s in samples])
        line = f"    {NAMES[target]:<21} app {app:.2f} ms"
        if target != "bare":
            pg = median([s["postgres"] for s in samples])
            redis = median([s["redis"] for s in samples])
            target_ms = TARGET_CPU_MS[target]
            line += (
                f" {_mark(app <= target_ms)} (target <= {target_ms:.1f} ms; "
                f"{app / bare:.1f}x the bare endpoint); beside it PostgreSQL {pg:.2f} ms, "
                f"Redis {redis:.2f} ms"
            )
        print(line)


def _mark(ok: bool) -> str:
    return "[ok]" if ok else "[MISSED]"


def main() -> None:
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated: servers stopped"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=5, help="seconds per target, 0: none")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10, help="wrk request timeout, s")
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated subset of api,html,bare"
    )
    parser.add_argument("--worker-class", choices=["sync", "gthread"], help="override config")
    parser.add_argument("--workers", type=int, help="override the config's worker count")
    parser.add_argument("--threads", type=int, help="override the config's threads")
    parser.add_argument("--log-dir", help="where gunicorn logs and wrk scripts go")
    parser.add_argument(
        "--no-in-process",
        dest="in_process",
        action="store_false",
        help="skip the in-process CPU phase after the served runs",
    )
    args = parser.parse_args()
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(args.targets) - set(TARGETS)
    if unknown or not args.targets:
        parser.error(f"unknown targets: {sorted(unknown)}")
    try:
        measure(args)
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, schema dropped")


if __name__ == "__main__":
    main()
