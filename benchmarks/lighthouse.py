"""Lighthouse (mobile) on the verdict pages a shopper sees most: a genuine label's and a
forged one's, on the demo's data served locally.

Issue 17's targets: performance ≥ 98, accessibility 100, best practices 100, SEO 100,
cumulative layout shift 0. Each run is a fresh Lighthouse (a new Chromium profile, so a
new phone): the genuine page is each run's own unused code (a first scan, as on a new
bottle), the forged page one code with a changed signature. Prints the median of each
score over the runs and each run's figures.

Needs Node.js with npx (Lighthouse 12.2.3 comes from the npm registry into npx's cache,
never into the repository) and Debian's Chromium. Scores on a busy machine vary: the
performance score most, through its simulated slow phone.

    python benchmarks/lighthouse.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, report
from werkzeug.serving import make_server

from tests.conftest import forge
from tests.helpers.browser import CHROMIUM, HOST, LAUNCH_ARGS
from tracemark import catalog
from tracemark import demo as demo_data
from tracemark.app import create_app
from tracemark.codes.printing import batch_urls
from tracemark.db import make_engine, make_sessionmaker

LIGHTHOUSE = os.environ.get("LIGHTHOUSE", "npx --yes lighthouse@12.2.3").split()
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100}


def serve(settings) -> tuple[str, threading.Thread]:
    """The demo's app behind werkzeug's threaded server on a free local port, quietly."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    httpd = make_server(HOST, 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="portal", daemon=True)
    thread.start()
    return f"http://{HOST}:{httpd.server_port}", thread


def codes(settings, base: str, count: int) -> list[str]:
    """``count`` unused codes of the demo's batch, as paths (the last ones: the demo's
    history scans the first)."""
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with sessions() as session:
        brand = catalog.get_brand(session, demo_data.DEMO_SLUG)
        batch = catalog.find_batch(session, brand, demo_data.DEMO_LOT)
        urls = [url for _serial, url, _pin in batch_urls(session, batch, base)]
    return [url[len(base) :] for url in urls[-count:]]


def lighthouse(url: str) -> dict[str, float]:
    """One Lighthouse run on ``url`` as a phone: the four scores (0 to 100) and the CLS."""
    flags = " ".join(["--headless=new", *LAUNCH_ARGS])
    command = [
        *LIGHTHOUSE,
        url,
        f"--chrome-path={CHROMIUM}",
        f"--chrome-flags={flags}",
        "--form-factor=mobile",
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"lighthouse failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    if result.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {result['runtimeError']}")
    scores = {name: result["categories"][name]["score"] * 100 for name in CATEGORIES}
    scores["cls"] = result["audits"]["cumulative-layout-shift"]["numericValue"]
    scores["lcp_ms"] = result["audits"]["largest-contentful-paint"]["numericValue"]
    scores["failed"] = sorted(
        audit_id
        for category in result["categories"].values()
        if category["id"] != "performance"
        for ref in category["auditRefs"]
        if ref["weight"] > 0
        for audit_id in [ref["id"]]
        if (result["audits"][audit_id]["score"] or 0) < 1
    )
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Lighthouse runs per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "TRACEMARK_DATABASE_URL": f"sqlite:///{folder}/demo.db"}
        env["TRACEMARK_SCAN_RATE_LIMIT"] = "10000/minute"
        base_guess = f"http://{HOST}:5000"
        settings = demo_data.demo_settings(base_guess, env)
        demo_data.setup(settings, base_guess)
        base, _thread = serve(settings)
        fresh = codes(settings, base, args.runs + 1)
        pages = {
            "genuine (first scan)": [base + path for path in fresh[: args.runs]],
            "forged": [base + forge(fresh[-1])] * args.runs,
        }
        print(f"Lighthouse mobile, {args.runs} runs per page; {machine()}")
        for name, urls in pages.items():
            runs = [lighthouse(url) for url in urls]
            failed = sorted({audit for run in runs for audit in run["failed"]})
            rows = [
                (category, [run[category] for run in runs], lambda v: f"{v:.0f}")
                for category in CATEGORIES
            ]
            rows.append(("CLS", [run["cls"] for run in runs], lambda v: f"{v:.3f}"))
            rows.append(("LCP (ms)", [run["lcp_ms"] for run in runs], lambda v: f"{v:.0f}"))
            report(f"{name}: {urls[0][len(base) :][:60]}…", rows)
            print(f"  audits below full marks (not performance): {', '.join(failed) or 'none'}")
            print(f"  targets: {TARGETS}, CLS 0")


if __name__ == "__main__":
    main()
