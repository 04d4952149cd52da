"""Helpers shared by the benchmark scripts (not part of the installed package)."""

from __future__ import annotations

import os
import platform
import secrets
import statistics
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import text

from tracemark.db import make_engine

POSTGRES_URL = os.environ.get(
    "TRACEMARK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextmanager
def postgres_schema():
    """A fresh schema on the benchmark server; yields a URL that selects it."""
    schema = f"tm_bench_{secrets.token_hex(4)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def report(title: str, rows: list[tuple[str, list[float], Callable[[float], str]]]) -> None:
    print(f"\n{title}")
    for name, values, fmt in rows:
        shown = ", ".join(fmt(v) for v in values)
        print(f"  {name:<38} median {fmt(median(values)):>14}   runs: {shown}")
