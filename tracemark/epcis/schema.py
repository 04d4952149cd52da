"""JSON Schema of the EPCIS 2.0 JSON-LD Tracemark captures.

The five event types (object, aggregation, association, transaction, transformation)
with their standard fields; extension
fields are accepted when namespaced (``prefix:name``), and ``tm:`` ones are checked here
because traces read them: ``tm:operator``, ``tm:equipment``, ``tm:line`` and ``tm:qc``
(quality-control results: ``[{"test", "result": "pass"|"fail", "value", "uom", "defect"}]``,
``defect`` naming the kind of defect a failed test found, for the quality board).
"""

from __future__ import annotations

from typing import Any

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: GS1's EPCIS 2.0 contexts, one of which a document names: the versioned and unversioned
#: URLs on ref.gs1.org, GS1's GitHub copies, and the "simple" context of each (the same
#: terms; it only changes how JSON-LD expands them, which capture does not do).
EPCIS_CONTEXTS = (
    EPCIS_CONTEXT,
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context-simple.jsonld",
    "https://ref.gs1.org/standards/epcis/epcis-context-simple.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context-simple.jsonld",
)
#: Namespace of Tracemark's extension fields.
TM_NAMESPACE = "urn:tracemark:epcis:"
MAX_EVENTS = 10_000
MAX_IDS = 10_000
#: Identifiers and sensor readings in one capture, all events together.
MAX_OBJECTS = 200_000
MAX_ID_LENGTH = 300

#: Extension fields are namespaced (``prefix:name``): a misspelt standard field is an
#: error, not data.
EXTENSION = r"^[A-Za-z][\w.-]*:[\w.-]+$"

_URI = {
    "type": "string",
    "minLength": 3,
    "maxLength": MAX_ID_LENGTH,
    "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$",
}
_TIME = {
    "type": "string",
    "maxLength": 40,
    "pattern": (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})$"
    ),
}
_OFFSET = {"type": "string", "pattern": r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$"}
#: A CBV term (``shipping``), its prefixed form (``cbv:BizStep-shipping``) or a URI.
_TERM = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^\S+$"}
_TEXT = {"type": "string", "maxLength": 200}
#: What each pattern above means, for error messages.
PATTERN_NAMES = {
    _URI["pattern"]: "a URI (scheme:…, no spaces)",
    _TIME["pattern"]: "a date and time with its offset (2026-10-01T10:00:00.000+02:00)",
    _OFFSET["pattern"]: "a time-zone offset (±hh:mm)",
    _TERM["pattern"]: "a term without spaces",
    "^[A-Fa-f0-9]+$": "hexadecimal digits",
}
_EPC_LIST = {"type": "array", "maxItems": MAX_IDS, "items": _URI}
_QUANTITY_LIST = {
    "type": "array",
    "maxItems": MAX_IDS,
    "items": {
        "type": "object",
        "required": ["epcClass"],
        "additionalProperties": False,
        "properties": {
            "epcClass": _URI,
            "quantity": {"type": "number", "minimum": 0},
            "uom": {"type": "string", "pattern": "^[A-Z0-9]{2,3}$"},
        },
    },
}
_LOCATION = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": _URI},
}
_NUMBER = {"type": "number"}
_SENSOR_REPORT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": _TERM,
        "value": _NUMBER,
        "minValue": _NUMBER,
        "maxValue": _NUMBER,
        "meanValue": _NUMBER,
        "sDev": _NUMBER,
        "percRank": _NUMBER,
        "percValue": _NUMBER,
        "stringValue": {"type": "string"},
        "booleanValue": {"type": "boolean"},
        "hexBinaryValue": {"type": "string", "pattern": "^[A-Fa-f0-9]+$"},
        "uriValue": _URI,
        "uom": {"type": "string", "maxLength": 8},
        "time": _TIME,
        "deviceID": _URI,
        "exception": {
            "enum": [
                "ALARM_CONDITION",
                "ERROR_CONDITION",
                "gs1:ALARM_CONDITION",
                "gs1:ERROR_CONDITION",
            ]
        },
    },
}
_SENSOR_ELEMENT_LIST = {
    "type": "array",
    "maxItems": 1000,
    "items": {
        "type": "object",
        "required": ["sensorReport"],
        "properties": {
            "sensorMetadata": {
                "type": "object",
                "properties": {
                    "time": _TIME,
                    "startTime": _TIME,
                    "endTime": _TIME,
                    "deviceID": _URI,
                },
            },
            "sensorReport": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": _SENSOR_REPORT,
            },
        },
    },
}


def _party_list(key: str) -> dict[str, Any]:
    return {
        "type": "array",
        "maxItems": 100,
        "items": {
            "type": "object",
            "required": ["type", key],
            "additionalProperties": False,
            "properties": {"type": _TERM, key: _URI},
        },
    }


_BIZ_TRANSACTION_LIST = {
    "type": "array",
    "maxItems": 100,
    "items": {
        "type": "object",
        "required": ["bizTransaction"],
        "additionalProperties": False,
        "properties": {"type": _TERM, "bizTransaction": _URI},
    },
}

_STANDARD_FIELDS: dict[str, Any] = {
    "type": {"type": "string"},
    "eventID": _URI,
    "eventTime": _TIME,
    "eventTimeZoneOffset": _OFFSET,
    "recordTime": _TIME,
    "action": {"enum": ["ADD", "OBSERVE", "DELETE"]},
    "bizStep": _TERM,
    "disposition": _TERM,
    "readPoint": _LOCATION,
    "bizLocation": _LOCATION,
    "parentID": _URI,
    "transformationID": _URI,
    "epcList": _EPC_LIST,
    "childEPCs": _EPC_LIST,
    "inputEPCList": _EPC_LIST,
    "outputEPCList": _EPC_LIST,
    "quantityList": _QUANTITY_LIST,
    "childQuantityList": _QUANTITY_LIST,
    "inputQuantityList": _QUANTITY_LIST,
    "outputQuantityList": _QUANTITY_LIST,
    "sourceList": _party_list("source"),
    "destinationList": _party_list("destination"),
    "sensorElementList": _SENSOR_ELEMENT_LIST,
    "certificationInfo": {"anyOf": [_URI, {"type": "array", "maxItems": 100, "items": _URI}]},
    "bizTransactionList": _BIZ_TRANSACTION_LIST,
    "ilmd": {"type": "object"},
    "errorDeclaration": {
        "type": "object",
        "required": ["declarationTime"],
        "properties": {
            "declarationTime": _TIME,
            "reason": _TERM,
            "correctiveEventIDs": {"type": "array", "maxItems": 100, "items": _URI},
        },
        "patternProperties": {EXTENSION: {}},
        "additionalProperties": False,
    },
    "persistentDisposition": {"type": "object"},
    "@context": {},
    "tm:operator": _TEXT,
    "tm:equipment": _TEXT,
    "tm:line": _TEXT,
    "tm:qc": {
        "type": "array",
        "maxItems": 100,
        "items": {
            "type": "object",
            "required": ["test", "result"],
            "additionalProperties": False,
            "properties": {
                "test": _TEXT,
                "result": {"enum": ["pass", "fail"]},
                "value": _NUMBER,
                "uom": {"type": "string", "maxLength": 16},
                "defect": _TEXT,
            },
        },
    },
}

_LISTS = (
    "epcList", "childEPCs", "inputEPCList", "outputEPCList", "quantityList",
    "childQuantityList", "inputQuantityList", "outputQuantityList", "parentID",
    "transformationID",
)  # fmt: skip


def _event_schema(
    event_type: str, lists: tuple[str, ...], required: list[str], extra: list[Any]
) -> dict[str, Any]:
    """The schema of one event type: its own object lists only, nothing unknown."""
    properties = {
        key: value for key, value in _STANDARD_FIELDS.items() if key not in _LISTS or key in lists
    }
    properties["type"] = {"const": event_type}
    return {
        "type": "object",
        "required": ["type", "eventTime", "eventTimeZoneOffset", *required],
        "properties": properties,
        "patternProperties": {EXTENSION: {}},
        "additionalProperties": False,
        **({"allOf": extra} if extra else {}),
    }


#: Event types captured, each with its schema (validated after dispatch on ``type``).
#: Rules the standard states between fields (a parent for ADD and DELETE, at least one
#: input or output) are checked after the schema, in ``documents``, so their errors name
#: the field and the rule.
EVENT_SCHEMAS: dict[str, dict[str, Any]] = {
    "ObjectEvent": _event_schema("ObjectEvent", ("epcList", "quantityList"), ["action"], []),
    "AggregationEvent": _event_schema(
        "AggregationEvent", ("parentID", "childEPCs", "childQuantityList"), ["action"], []
    ),
    "AssociationEvent": _event_schema(
        "AssociationEvent", ("parentID", "childEPCs", "childQuantityList"), ["action"], []
    ),
    "TransactionEvent": _event_schema(
        "TransactionEvent",
        ("parentID", "epcList", "quantityList"),
        ["action", "bizTransactionList"],
        [{"properties": {"bizTransactionList": {"minItems": 1}}}],
    ),
    "TransformationEvent": _event_schema(
        "TransformationEvent",
        (
            "inputEPCList",
            "inputQuantityList",
            "outputEPCList",
            "outputQuantityList",
            "transformationID",
        ),
        [],
        [],
    ),
}
#: What every event must be before its type's schema applies.
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": sorted(EVENT_SCHEMAS)}},
}

DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["@context", "type", "schemaVersion", "creationDate", "epcisBody"],
    "properties": {
        # which contexts: checked in ``documents``, whose error names the accepted ones
        "@context": {
            "anyOf": [{"type": "string"}, {"type": "array", "maxItems": 20}, {"type": "object"}]
        },
        "type": {"const": "EPCISDocument"},
        "schemaVersion": {"enum": ["2.0", "2.0.0"]},
        "creationDate": _TIME,
        "epcisBody": {
            "type": "object",
            "required": ["eventList"],
            "properties": {
                # each event is then checked against its type's schema
                "eventList": {"type": "array", "maxItems": MAX_EVENTS, "items": EVENT_SCHEMA}
            },
        },
    },
}
