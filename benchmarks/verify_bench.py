"""Verification benchmark: ``parse_and_verify`` per second against raw Ed25519 verify.

Both loops run in this process over the same distinct codes, one core each in turn; the
difference is the cost of parsing and checking the URL around the signature check.

    python benchmarks/verify_bench.py --codes 20000 --runs 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, median, report

from signing import KeyEntry, KeyRing, Status, build_url, parse_and_verify, sign_code
from signing.codes import new_serial
from signing.keys import generate_private_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    key = generate_private_key()
    ring = KeyRing([KeyEntry("BENCH", key.public_key())])
    codes = [
        sign_code(key, "BENCH", "09506000134352", "L2401A", new_serial()) for _ in range(args.codes)
    ]
    urls = [build_url("https://tm.example-brand-name.com", code) for code in codes]
    pairs = [(code.signature, code.message()) for code in codes]
    public = key.public_key()

    ours, raw = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        for signature, message in pairs:
            public.verify(signature, message)
        raw.append(args.codes / (time.perf_counter() - started))

        started = time.perf_counter()
        results = [parse_and_verify(url, ring) for url in urls]
        ours.append(args.codes / (time.perf_counter() - started))
        assert all(result.status is Status.VALID for result in results)

    report(
        f"verify_bench: {args.codes:,} distinct codes, {args.runs} runs ({machine()})",
        [
            ("raw Ed25519 verify per second", raw, lambda v: f"{v:,.0f}"),
            ("parse_and_verify per second", ours, lambda v: f"{v:,.0f}"),
        ],
    )
    print(f"  ratio: {median(ours) / median(raw):.0%} of the raw rate (target >= 70%)")


if __name__ == "__main__":
    main()
