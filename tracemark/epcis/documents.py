"""EPCIS 2.0 JSON-LD documents: validation into plain event records, and serialisation.

Validation is whole-document: the first failure found raises :class:`EpcisError` with
the JSON path of the failing value (``$.epcisBody.eventList[3].eventTime``), so a caller
stores nothing from a document that is wrong anywhere. Storage is
:func:`tracemark.trace.capture.capture_document`'s; this module knows only the format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import fastjsonschema
from fastjsonschema import JsonSchemaValueException
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from tracemark.epcis.identifiers import Epc, MalformedEpc, parse
from tracemark.epcis.schema import (
    DOCUMENT_SCHEMA,
    EPCIS_CONTEXT,
    EPCIS_CONTEXTS,
    EVENT_SCHEMA,
    EVENT_SCHEMAS,
    EXTENSION,
    MAX_EVENTS,
    MAX_OBJECTS,
    PATTERN_NAMES,
    TM_NAMESPACE,
)


class _Schema:
    """A schema compiled twice: fastjsonschema decides (fast, on every capture), and
    jsonschema explains a failure (the failing path, the same for every client)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.explain = Draft202012Validator(schema)
        self.decide = fastjsonschema.compile({k: v for k, v in schema.items() if k != "$schema"})


_DOCUMENT = _Schema(DOCUMENT_SCHEMA)
_EVENT = _Schema(EVENT_SCHEMA)
_EXTENSION = re.compile(EXTENSION)
_BY_TYPE = {name: _Schema(schema) for name, schema in EVENT_SCHEMAS.items()}
_EVENTS = _Schema({"type": "array", "maxItems": MAX_EVENTS, "items": EVENT_SCHEMA})

#: Object lists of an event → the role their identifiers are stored under.
EPC_LISTS = {
    "epcList": "epc",
    "childEPCs": "child",
    "inputEPCList": "input",
    "outputEPCList": "output",
}
QUANTITY_LISTS = {
    "quantityList": "epc_quantity",
    "childQuantityList": "child_quantity",
    "inputQuantityList": "input_quantity",
    "outputQuantityList": "output_quantity",
}
#: Fields rebuilt from columns and object rows on export; the rest is kept verbatim.
MODELLED = {
    "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "action", "bizStep",
    "disposition", "readPoint", "bizLocation", "parentID", "transformationID", "sourceList",
    "destinationList", "errorDeclaration", *EPC_LISTS, *QUANTITY_LISTS,
}  # fmt: skip

_CBV_PREFIXES = (
    "urn:epcglobal:cbv:bizstep:",
    "urn:epcglobal:cbv:disp:",
    "https://ref.gs1.org/cbv/BizStep-",
    "https://ref.gs1.org/cbv/Disp-",
    "cbv:BizStep-",
    "cbv:Disp-",
)


class EpcisError(ValueError):
    """A document or event that cannot be captured.

    ``code`` is stable: ``schema_violation``, ``event_id_conflict`` (the brand holds
    another event under this eventID), ``unsupported_context`` (a document naming
    none of GS1's EPCIS 2.0 contexts), ``rule_violation`` (a rule of the standard between
    fields, e.g. ADD without a parentID), ``bad_time``, ``duplicate_event_id``,
    ``too_large`` (a document naming more than ``MAX_OBJECTS`` identifiers and readings),
    ``bad_identifier`` (an EPC URN or GS1 Digital Link that breaks its scheme's rules);
    ``path`` is the JSON path of the failing value and ``detail`` a readable sentence
    (never the failing value itself).
    """

    def __init__(self, code: str, path: str, detail: str) -> None:
        super().__init__(f"{code} at {path}: {detail}")
        self.code, self.path, self.detail = code, path, detail


@dataclass(frozen=True, slots=True)
class EventObject:
    role: str
    epc: Epc
    quantity: float | None = None
    uom: str | None = None


@dataclass(slots=True)
class SensorValue:
    type: str
    value: float | None
    min_value: float | None
    max_value: float | None
    uom: str | None
    time: dt.datetime | None
    device_id: str | None
    exception: str | None


@dataclass(slots=True)
class EventRecord:
    """One validated event, ready to store; ``path`` is where it stood in its document."""

    path: str
    event_id: str
    event_type: str
    action: str | None
    event_time: dt.datetime  # UTC
    offset: str
    biz_step: str
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    parent_id: str | None
    transformation_id: str | None
    sources: list[dict[str, str]] | None
    destinations: list[dict[str, str]] | None
    objects: list[EventObject] = field(default_factory=list)
    readings: list[SensorValue] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    #: SHA-256 of the event's content (:func:`content_digest`).
    digest: str = ""
    #: The EPCIS errorDeclaration, and its declarationTime in UTC, when it has one.
    error_declaration: dict[str, Any] | None = None
    declared_at: dt.datetime | None = None
    #: Canonical identifier → the spelling the event gave it in, where they differ.
    spellings: dict[str, str] = field(default_factory=dict)


def validate_document(document: Any) -> list[EventRecord]:
    """The events of an EPCIS 2.0 document, in document order.

    :raises EpcisError: the first failure, with its JSON path.
    """
    _check(_DOCUMENT, document, "$")
    _check_context(document["@context"])
    return parse_events(document["epcisBody"]["eventList"], "$.epcisBody.eventList")


def validate_event(event: Any, path: str = "$") -> EventRecord:
    """One event on its own (a single capture); :raises EpcisError: as above."""
    _check_event(event, path)
    return _parse(event, path)


def validate_events(events: Any) -> list[EventRecord]:
    """A JSON list of events (paths ``$[i]...``); :raises EpcisError: as above."""
    _check(_EVENTS, events, "$")
    return parse_events(events, "$")


def parse_events(events: list[dict[str, Any]], path: str) -> list[EventRecord]:
    """Parse schema-valid events; also refuses an eventID twice in the same list."""
    records, seen, objects = [], {}, 0
    for index, event in enumerate(events):
        _check_event(event, f"{path}[{index}]")
        record = _parse(event, f"{path}[{index}]")
        objects += len(record.objects) + len(record.readings)
        if objects > MAX_OBJECTS:
            raise EpcisError(
                "too_large", record.path, f"more than {MAX_OBJECTS} identifiers and readings"
            )
        if record.event_id in seen:
            raise EpcisError(
                "duplicate_event_id",
                f"{record.path}.eventID",
                f"also the eventID of {seen[record.event_id]}",
            )
        seen[record.event_id] = record.path
        records.append(record)
    return records


def _check_event(event: Any, path: str) -> None:
    """The event's type first, then its type's schema (one schema per type is faster
    than conditionals over all, and its errors name the failing field)."""
    _check(_EVENT, event, path)
    _check(_BY_TYPE[event["type"]], event, path)
    _check_rules(event, path)


def _check_context(context: Any) -> None:
    names = [context] if isinstance(context, str) else context if isinstance(context, list) else []
    if not any(isinstance(name, str) and name in EPCIS_CONTEXTS for name in names):
        raise EpcisError(
            "unsupported_context",
            "$['@context']",
            "the @context names none of GS1's EPCIS 2.0 contexts; accepted: "
            + ", ".join(EPCIS_CONTEXTS),
        )


#: Event types whose ADD and DELETE name the parent they add to or remove from.
_PARENT_FOR_ADD_DELETE = ("AggregationEvent", "AssociationEvent")
_TRANSFORMATION_LISTS = (
    "inputEPCList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
)


#: The lists that name an event's objects, per type: one of them names one (EPCIS 2.0
#: §7.4 and GS1's JSON schema; an empty list names nothing, and is left out on export).
_OBJECTS_NAMED = {
    "ObjectEvent": ("epcList", "quantityList"),
    "AggregationEvent": ("childEPCs", "childQuantityList"),
    "AssociationEvent": ("childEPCs", "childQuantityList"),
    "TransactionEvent": ("epcList", "quantityList"),
}
_NO_OBJECTS = {
    "ObjectEvent": "an ObjectEvent names its objects (epcList or quantityList),"
    " or reports sensor data (sensorElementList) at a readPoint",
    "AggregationEvent": "an AggregationEvent names its children (childEPCs or"
    " childQuantityList) unless its action is DELETE",
    "AssociationEvent": "an AssociationEvent names its children (childEPCs or"
    " childQuantityList) unless its action is DELETE",
    "TransactionEvent": "a TransactionEvent names its objects (epcList or quantityList)"
    " unless its action is DELETE",
}


def _names_objects(event: dict[str, Any], kind: str) -> bool:
    """Whether the event names what the standard requires it to (see _OBJECTS_NAMED)."""
    epcs, quantities = _OBJECTS_NAMED[kind]
    if event.get(epcs) or event.get(quantities):
        return True
    if kind == "ObjectEvent":
        return bool(event.get("sensorElementList") and "readPoint" in event)
    return event.get("action") == "DELETE"


def _check_rules(event: dict[str, Any], path: str) -> None:
    """The standard's rules between fields of a schema-valid event (EPCIS 2.0 §7.4)."""
    kind = event["type"]
    action = event.get("action")
    if kind in _PARENT_FOR_ADD_DELETE and action in ("ADD", "DELETE") and "parentID" not in event:
        raise EpcisError(
            "rule_violation",
            f"{path}.parentID",
            f"an {kind} with action {action} names the parentID it changes",
        )
    if kind == "AssociationEvent" and "parentID" not in event:
        raise EpcisError(
            "rule_violation", f"{path}.parentID", "an AssociationEvent names its parentID"
        )
    if kind == "ObjectEvent" and "ilmd" in event and action != "ADD":
        raise EpcisError(
            "rule_violation",
            f"{path}.ilmd",
            f"an ObjectEvent with action {action} has no ilmd: instance/lot master data"
            " is stated when the objects are commissioned (action ADD)",
        )
    if kind in _OBJECTS_NAMED and not _names_objects(event, kind):
        raise EpcisError("rule_violation", f"{path}.{_OBJECTS_NAMED[kind][0]}", _NO_OBJECTS[kind])
    if kind == "TransformationEvent" and not any(event.get(k) for k in _TRANSFORMATION_LISTS):
        raise EpcisError(
            "rule_violation",
            f"{path}.inputEPCList",
            "a TransformationEvent names at least one input or output"
            " (inputEPCList, inputQuantityList, outputEPCList, outputQuantityList)",
        )
    if "errorDeclaration" in event and "eventID" not in event:
        raise EpcisError(
            "rule_violation",
            f"{path}.eventID",
            "an error declaration carries the eventID of the event it declares in error",
        )


def _check(schema: _Schema, instance: Any, path: str) -> None:
    try:
        schema.decide(instance)
        return
    except JsonSchemaValueException as fast_error:
        error = best_match(schema.explain.iter_errors(instance))
        if error is None:  # the two disagree: refuse all the same, with fast's words
            where = path + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in fast_error.path[1:]
            )
            raise EpcisError("schema_violation", where, "does not match the schema") from None
    if error is not None:
        where = path + error.json_path[1:]
        message = _message(error)
        if error.validator == "additionalProperties":  # name the unknown field
            known = set(error.schema.get("properties", {}))
            extensible = bool(error.schema.get("patternProperties"))
            unknown = sorted(
                key
                for key in error.instance
                if key not in known and not (extensible and _EXTENSION.match(key))
            )
            where += f"[{json.dumps(unknown[0])}]" if unknown else ""
            message = (
                "unknown field (extension fields are prefix:name)"
                if extensible
                else "unknown field (this member takes only " + ", ".join(sorted(known)) + ")"
            )
        elif error.validator == "required":  # point at the missing field
            missing = [key for key in error.validator_value if key not in error.instance]
            where += _member(missing[0]) if missing else ""
            message = "is required"
        raise EpcisError("schema_violation", where, message)


def _member(name: str) -> str:
    """``name`` as a JSON path step: ``.name``, or ``['@context']`` when it needs quoting."""
    return f".{name}" if name.isidentifier() else f"[{json.dumps(name)}]"


def _message(error: Any) -> str:
    """A sentence about the failing value that does not repeat it (a value may be a
    whole event): what was expected, by the failing keyword."""
    keyword, expected = error.validator, error.validator_value
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"must be of type {' or '.join(kinds)}"
    if keyword == "enum":
        return "must be one of " + ", ".join(str(value) for value in expected)
    if keyword == "const":
        return f"must be {expected}"
    if keyword == "pattern":
        return "must be " + PATTERN_NAMES.get(expected, f"text matching {expected}")
    limits = {
        "maxLength": "at most {} characters",
        "minLength": "at least {} characters",
        "maxItems": "at most {} items",
        "minItems": "at least {} item(s)",
        "minimum": "at least {}",
        "maximum": "at most {}",
    }
    if keyword in limits:
        return "must have " + limits[keyword].format(expected)
    if keyword in ("anyOf", "oneOf"):
        return "does not match any of the accepted shapes"
    return f"fails the schema's {keyword!r} check"


def _time(value: str, path: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except ValueError as exc:
        raise EpcisError("bad_time", path, str(exc)) from None


def term(value: str | None) -> str | None:
    """A CBV term in its bare form (``shipping``); other vocabularies' URIs as given."""
    if value is None:
        return None
    for prefix in _CBV_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def event_hash(event: dict[str, Any]) -> str:
    """An identifier for an event sent without eventID: the SHA-256 of its JSON with
    sorted keys (not GS1's event-hash algorithm), so re-sending it is still idempotent."""
    digest = hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
    return f"urn:tracemark:event-sha256:{digest}"


def content_digest(record: EventRecord, *, as_spelt: bool = False) -> str:
    """SHA-256 of what an event says, in canonical form (identifiers, terms, time in
    UTC; not recordTime nor errorDeclaration): a resend, or the brand's own export of
    the event, has the same digest whatever its spelling; a reused eventID another.

    ``as_spelt``: the digest events captured before every GS1 key was normalised were
    stored with (identifiers other than SGTIN and LGTIN as the event spelt them), so a
    resend of such an event is still found held rather than a conflict."""
    name = _as_spelt(record) if as_spelt else _same
    content = [
        record.event_type, record.event_time.isoformat(), record.offset, record.action,
        record.biz_step, record.disposition, name(record.read_point), name(record.biz_location),
        name(record.parent_id), record.transformation_id,
        _parties(record.sources, "source", name),
        _parties(record.destinations, "destination", name),
        sorted(
            (o.role, name(o.epc.uri), None if o.quantity is None else float(o.quantity),
             o.uom or "")
            for o in record.objects
        ),
        record.data,
    ]  # fmt: skip
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _same(value: Any) -> Any:
    return value


def _as_spelt(record: EventRecord) -> Any:
    def name(uri: str | None) -> str | None:
        if uri is None or uri.startswith(_TRADE_ITEM):
            return uri
        return record.spellings.get(uri, uri)

    return name


#: Canonical trade item instances and lot classes, normalised from the start.
_TRADE_ITEM = "https://id.gs1.org/01/"


def _parties(
    parties: list[dict[str, str]] | None, key: str, name: Any
) -> list[dict[str, str]] | None:
    if parties is None or name is _same:
        return parties
    return [party | {key: name(party[key])} for party in parties]


def _identifier(value: str, path: str, spellings: dict[str, str]) -> Epc:
    """``value`` in canonical form, its spelling remembered when it differs.

    :raises EpcisError: ``bad_identifier``, at ``path``.
    """
    try:
        epc = parse(value)
    except MalformedEpc as exc:
        raise EpcisError("bad_identifier", path, f"not a valid identifier: {exc}") from None
    if epc.uri != value:
        spellings.setdefault(epc.uri, value)
    return epc


def _parse(event: dict[str, Any], path: str) -> EventRecord:
    event_time = _time(event["eventTime"], f"{path}.eventTime")
    declaration = event.get("errorDeclaration")
    declared_at = None
    if declaration is not None:
        declared_at = _time(
            declaration["declarationTime"], f"{path}.errorDeclaration.declarationTime"
        )
    spellings: dict[str, str] = {}
    objects = [
        EventObject(role, _identifier(epc, f"{path}.{key}[{index}]", spellings))
        for key, role in EPC_LISTS.items()
        for index, epc in enumerate(event.get(key, ()))
    ]
    objects += [
        EventObject(
            role,
            _identifier(item["epcClass"], f"{path}.{key}[{index}].epcClass", spellings),
            item.get("quantity"),
            item.get("uom"),
        )
        for key, role in QUANTITY_LISTS.items()
        for index, item in enumerate(event.get(key, ()))
    ]

    def named(key: str, value: str | None) -> str | None:
        return None if value is None else _identifier(value, f"{path}.{key}", spellings).uri

    def parties(key: str, role: str) -> list[dict[str, str]] | None:
        given = event.get(key)
        if given is None:
            return None
        return [
            party | {role: _identifier(party[role], f"{path}.{key}[{i}].{role}", spellings).uri}
            for i, party in enumerate(given)
        ]

    readings = []
    for e_index, element in enumerate(event.get("sensorElementList", ())):
        meta = element.get("sensorMetadata", {})
        meta_time = meta.get("time")
        for r_index, report in enumerate(element["sensorReport"]):
            at = report.get("time", meta_time)
            where = f"{path}.sensorElementList[{e_index}].sensorReport[{r_index}].time"
            exception = report.get("exception")
            readings.append(
                SensorValue(
                    type=report["type"],
                    value=report.get("value"),
                    min_value=report.get("minValue"),
                    max_value=report.get("maxValue"),
                    uom=report.get("uom"),
                    time=_time(at, where) if at else None,
                    device_id=report.get("deviceID", meta.get("deviceID")),
                    exception=exception.removeprefix("gs1:") if exception else None,
                )
            )
    record = EventRecord(
        path=path,
        event_id=event.get("eventID") or event_hash(event),
        event_type=event["type"],
        action=event.get("action"),
        event_time=event_time,
        offset=event["eventTimeZoneOffset"],
        biz_step=term(event.get("bizStep")) or "",
        disposition=term(event.get("disposition")),
        read_point=named("readPoint.id", (event.get("readPoint") or {}).get("id")),
        biz_location=named("bizLocation.id", (event.get("bizLocation") or {}).get("id")),
        parent_id=named("parentID", event.get("parentID")),
        transformation_id=event.get("transformationID"),
        sources=parties("sourceList", "source"),
        destinations=parties("destinationList", "destination"),
        objects=objects,
        readings=readings,
        data={key: value for key, value in event.items() if key not in MODELLED},
        error_declaration=declaration,
        declared_at=declared_at,
        spellings=spellings,
    )
    record.digest = content_digest(record)
    return record


def document(events: list[dict[str, Any]], created: dt.datetime) -> dict[str, Any]:
    """An EPCIS 2.0 document holding ``events`` (already serialised)."""
    return {
        "@context": [EPCIS_CONTEXT, {"tm": TM_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso(created),
        "epcisBody": {"eventList": events},
    }


def query_document(events: list[dict[str, Any]], created: dt.datetime) -> dict[str, Any]:
    """An EPCIS 2.0 query document (the REST binding's answer to ``GET /events``)
    holding ``events`` (already serialised) as the results of a ``SimpleEventQuery``."""
    return {
        "@context": [EPCIS_CONTEXT, {"tm": TM_NAMESPACE}],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso(created),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
    }


def _iso(value: dt.datetime) -> str:
    return _isoformat(value.astimezone(dt.UTC)).replace("+00:00", "Z")


def _isoformat(value: dt.datetime) -> str:
    """Milliseconds, or microseconds when the time has them (nothing captured is cut)."""
    return value.isoformat(timespec="microseconds" if value.microsecond % 1000 else "milliseconds")


def event_json(
    *,
    event_type: str,
    event_id: str | None,
    event_time: dt.datetime,
    offset: str,
    action: str | None,
    biz_step: str,
    disposition: str | None,
    read_point: str | None,
    biz_location: str | None,
    parent_id: str | None,
    transformation_id: str | None,
    sources: list[dict[str, str]] | None,
    destinations: list[dict[str, str]] | None,
    objects: list[tuple[str, str, float | None, str | None]],
    data: dict[str, Any],
    recorded_at: dt.datetime | None = None,
    error_declaration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event as EPCIS 2.0 JSON; ``objects`` are ``(role, epc, quantity, uom)`` rows."""
    sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
    delta = dt.timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    local = event_time.astimezone(dt.timezone(delta))
    out: dict[str, Any] = {
        "type": event_type,
        **_present(eventID=event_id),
        "eventTime": _isoformat(local),
        "eventTimeZoneOffset": offset,
        **_present(recordTime=recorded_at and _iso(recorded_at), action=action, parentID=parent_id),
    }
    for key, role in EPC_LISTS.items():
        ids = [epc for r, epc, _q, _u in objects if r == role]
        if ids:
            out[key] = ids
    for key, role in QUANTITY_LISTS.items():
        items = []
        for r, epc, quantity, uom in objects:
            if r == role:
                item: dict[str, Any] = {"epcClass": epc}
                if quantity is not None:
                    item["quantity"] = quantity
                if uom:
                    item["uom"] = uom
                items.append(item)
        if items:
            out[key] = items
    out |= _present(
        transformationID=transformation_id,
        bizStep=biz_step,
        disposition=disposition,
        readPoint=read_point and {"id": read_point},
        bizLocation=biz_location and {"id": biz_location},
        sourceList=sources,
        destinationList=destinations,
        errorDeclaration=error_declaration,
    )
    return out | data


def _present(**members: Any) -> dict[str, Any]:
    """The ``members`` that have a value, in order: EPCIS JSON leaves an absent member
    out (no ``null``, no empty string or list)."""
    return {name: value for name, value in members.items() if value}
