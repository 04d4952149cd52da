"""EPCIS 2.0 documents for tests: events under one of GS1's contexts."""

from __future__ import annotations

from typing import Any

from tracemark.epcis.schema import EPCIS_CONTEXTS


def epcis_document(
    events: list[dict[str, Any]], context: str = EPCIS_CONTEXTS[0], **header: Any
) -> dict[str, Any]:
    """A document of ``events`` under ``context`` (with an ``example`` prefix), with
    ``header`` members added or replaced."""
    return {
        "@context": [context, {"example": "https://ns.example.com/epcis/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-03T00:00:00Z",
        "epcisBody": {"eventList": events},
    } | header
