"""Codes in each verdict's state, for the tests that look at every verdict page."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import PASSPHRASE
from tracemark import catalog
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import Batch, BatchStatus


def code_paths(
    session: Session, batch: Batch, pin_key: bytes | None = None
) -> list[tuple[str, str]]:
    """Each code of ``batch`` as a portal path (from ``/01/``), with its PIN."""
    return [
        (url[url.index("/01/") :], pin)
        for _s, url, pin in batch_urls(session, batch, "http://x", pin_key)
    ]


def held_and_recalled(
    sessions: sessionmaker[Session], batch: Batch, count: int
) -> tuple[list[str], list[str]]:
    """Two more batches of ``batch``'s product, one on hold and one recalled (with a
    notice of the brand's), with ``count`` codes each: their paths."""
    with sessions.begin() as session:
        product = session.merge(batch).product
        held = catalog.create_batch(session, product, "L2401H")
        recalled = catalog.create_batch(session, product, "L2401R")
        held_id, recalled_id = held.id, recalled.id
    for batch_id in (held_id, recalled_id):
        issuance.issue(sessions, batch_id, count, PASSPHRASE)
    with sessions.begin() as session:
        catalog.set_batch_status(session, session.get(Batch, held_id), BatchStatus.ON_HOLD, {})
        catalog.set_batch_status(
            session,
            session.get(Batch, recalled_id),
            BatchStatus.RECALLED,
            {"en": "Return it to the shop for a refund."},
        )
        held, recalled = (
            [path for path, _pin in code_paths(session, session.get_one(Batch, batch_id))]
            for batch_id in (held_id, recalled_id)
        )
    return held, recalled


def _scan_in_eight_places(app: Flask, path: str) -> None:
    """Eight phones in eight places scan the code at ``path``: a copied label."""
    for network in range(8):
        app.test_client().get(path, environ_base={"REMOTE_ADDR": f"198.{network}.51.7"})


def genuine_states(
    app: Flask, codes: list[tuple[str, str]], locales: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Per locale, three of ``codes`` (paths and PINs), one in each genuine state: a fresh
    code with its PIN, one scanned before, and a copied one."""
    found, client = {}, app.test_client()
    for i, locale in enumerate(locales):
        fresh, before, copied = codes[3 * i : 3 * i + 3]
        client.get(before[0])
        _scan_in_eight_places(app, copied[0])
        found[locale] = {
            "genuine_first_scan": fresh[0],
            "pin": fresh[1],
            "genuine_scanned_before": before[0],
            "suspicious_copy": copied[0],
        }
    return found
