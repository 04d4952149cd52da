"""EPCIS inspection events as quality rules see them."""

from __future__ import annotations

from tests.core.trace.trace_chain import event

LOT_CLASS = "urn:epc:class:lgtin:9506000.013435.L2401A"  # the demo batch
QC_FAILED = {"tm:qc": [{"test": "peroxide", "result": "fail", "value": 25, "uom": "meq/kg"}]}


def inspection(event_id: str, data: dict, epc_class: str = LOT_CLASS, **fields) -> dict:
    return event(
        "ObjectEvent",
        event_id,
        "2026-10-03T09:00:00+02:00",
        action="OBSERVE",
        bizStep="inspecting",
        quantityList=[{"epcClass": epc_class}],
        **data,
        **fields,
    )
