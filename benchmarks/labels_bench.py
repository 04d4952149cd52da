"""Benchmark: bulk PDF label sheets vs. bare segno.

Usage::

    python benchmarks/labels_bench.py [--count 100000] [--runs 3] [--workers N]
                                      [--baseline-sample 2000]

Generates synthetic labels of the production shape (same host/GTIN/lot, random
base32 serial and signature), writes the PDF to a temporary file per run and prints
seconds, labels/s, file size and peak RSS (this process and its worker children),
then the median.  The baseline is bare ``segno.make(..., mask=fixed)`` on one core:
timed on ``--baseline-sample`` URLs and extrapolated to ``--count`` (the full count
would take minutes); ``--baseline-sample 0`` times the full count.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import segno

from tracemark.labels.render import Label, qr_segments, write_pdf_sheet


def synthetic_labels(count: int) -> list[Label]:
    labels = []
    for _ in range(count):
        serial = base64.b32encode(os.urandom(10)).decode()[:13]
        sig = base64.b32encode(os.urandom(65)).decode()[:103]
        url = (
            "HTTPS://TM.EXAMPLE-BRAND-NAME.COM/01/09506000134352/10/L2401A/21/"
            f"{serial}?S=1.ABCDE.{sig}"
        )
        labels.append(Label(url, serial))
    return labels


def peak_rss_mib() -> tuple[float, float]:
    """Peak RSS of this process and of its (waited-for) children, MiB (Linux: KiB units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: CPU count")
    parser.add_argument("--compress-level", type=int, default=6)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    args = parser.parse_args()

    labels = synthetic_labels(args.count)
    print(f"{args.count} labels, URL length {len(labels[0].url)}, cpus {os.cpu_count()}")
    times = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sheet.pdf"
            start = time.perf_counter()
            with path.open("wb") as out:
                written = write_pdf_sheet(
                    iter(labels),  # an iterator: the writer must not rely on len()
                    out,
                    workers=args.workers,
                    compress_level=args.compress_level,
                )
            elapsed = time.perf_counter() - start
            size = path.stat().st_size
        if written != args.count:
            raise SystemExit(f"wrote {written} labels, expected {args.count}")
        times.append(elapsed)
        own, children = peak_rss_mib()
        print(
            f"run {run}: {elapsed:7.2f} s  {args.count / elapsed:8.0f} labels/s"
            f"  {size / 1e6:7.1f} MB  peak RSS self {own:.0f} MiB, children {children:.0f} MiB"
        )
    median = statistics.median(times)
    print(f"median: {median:.2f} s  ({args.count / median:.0f} labels/s)")

    sample = args.baseline_sample or args.count
    urls = [lab.url for lab in labels[:sample]]
    start = time.perf_counter()
    for url in urls:
        segno.make(qr_segments(url), error="M", boost_error=False, micro=False, mask=0)
    base = (time.perf_counter() - start) / len(urls) * args.count
    kind = "measured" if sample >= args.count else f"extrapolated from {sample}"
    print(
        f"baseline bare segno.make(mask=0), 1 core, {args.count} URLs: {base:.1f} s ({kind});"
        f" {args.count / base:.0f} labels/s; PDF median is {base / median:.1f}x faster"
    )


if __name__ == "__main__":
    main()
