"""Ordered work in a process pool, for the jobs that are CPU-bound: signing, label pages."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    ahead: int,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, function(item))`` in input order, computed in ``workers`` processes.

    At most ``ahead`` items are in flight, so memory stays flat for any number of items
    while the caller consumes results (writes them to a database or a file). Processes are
    spawned, not forked, so a caller with threads or open connections is safe; ``function``
    and ``initializer`` must therefore be importable module-level callables (or partials
    of them).
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, initializer, initargs) as pool:
        pending: deque[tuple[T, Future[R]]] = deque()
        for item in items:
            pending.append((item, pool.submit(function, item)))
            if len(pending) > ahead:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
