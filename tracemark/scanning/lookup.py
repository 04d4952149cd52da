"""A scan, end to end: identity → history and verdict → what the consumer sees.

The one flow behind the portal page and the public JSON API. When the database fails,
the signature is still checked against the last-known keys and the consumer gets a
degraded verdict instead of an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tracemark.codes.keycache import KeyCache
from tracemark.codes.verify import Identity, check_offline
from tracemark.scanning.batch_view import BatchView, BatchViewCache, batch_view
from tracemark.scanning.scans import Client, ScanOutcome, Verdict, scan_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanResult:
    outcome: ScanOutcome
    view: BatchView | None
    brand_name: str | None
    brand_contact: str | None
    #: The unit takes a scratch-off PIN and the scanning device is not its owner's: it may
    #: claim the unit, or (once claimed) be added as the owner's with the PIN.
    claimable: bool = False

    @property
    def degraded(self) -> bool:
        return self.outcome.verdict in (Verdict.SIGNATURE_ONLY, Verdict.UNAVAILABLE)


def scan(
    sessions: sessionmaker[Session],
    uri: str,
    client: Client,
    *,
    secret: bytes,
    keys: KeyCache,
    locale: str,
    views: BatchViewCache | None = None,
) -> ScanResult:
    """Check, record and explain one scan of ``uri``. Never raises for bad input."""
    try:
        outcome = scan_code(sessions, uri, client, secret=secret, keys=keys)
        check = outcome.check
        facts = check.facts
        if facts is None:
            return ScanResult(outcome, None, None, None)
        if views is not None:
            view = views.get(sessions, facts.batch_id, facts.notice, locale)
        else:
            with sessions() as session:
                view = batch_view(session, facts.batch_id, locale)
        claimable = facts.with_pin and not outcome.owner and check.identity is Identity.GENUINE
        return ScanResult(outcome, view, facts.brand_name, facts.brand_contact, claimable)
    except SQLAlchemyError:
        log.exception("database unavailable during a scan: answering from the signature")
    check = check_offline(uri, keys)
    if check.identity is Identity.GENUINE:
        outcome = ScanOutcome(Verdict.SIGNATURE_ONLY, "database_unavailable", check)
    elif check.identity is Identity.REVOKED_KEY:
        outcome = ScanOutcome(Verdict.REVOKED_KEY, "revoked_key", check)
    elif check.reason == "unknown_key":  # a key we have not seen since start: cannot tell
        outcome = ScanOutcome(Verdict.UNAVAILABLE, "database_unavailable", check)
    else:
        outcome = ScanOutcome(Verdict.NOT_GENUINE, check.reason, check)
    return ScanResult(outcome, None, None, None)
