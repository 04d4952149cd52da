"""EPCIS XML documents (2.0, and 1.2 where the mapping is direct) as the JSON-LD document
:func:`tracemark.epcis.documents.validate_document` takes: one internal model, whatever
the syntax a system sends.

Parsing is defusedxml's (no DTD, no entity expansion, nothing fetched from the network).
Each event element becomes the JSON event of the same name and fields: lists of ``epc``
or ``quantityElement`` children become arrays, ``bizTransaction``/``source``/
``destination`` their ``type`` attribute and text, sensor reports their attributes, and
1.2's ``extension``/``baseExtension`` wrappers are unwrapped (1.2 kept 2.0's fields
there). Elements of other namespaces are extension fields ``prefix:name`` (the prefix
the document declared, added to the ``@context``); a value with children is an object.
"""

from __future__ import annotations

import io
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from tracemark.epcis.documents import EpcisError
from tracemark.epcis.schema import EPCIS_CONTEXT

#: EPCIS XML namespaces: 2.0 and 1.x.
NAMESPACES = ("urn:epcglobal:epcis:xsd:2", "urn:epcglobal:epcis:xsd:1")
#: Media types of XML capture.
XML_TYPES = ("application/xml", "text/xml")
EVENT_TYPES = (
    "ObjectEvent", "AggregationEvent", "AssociationEvent", "TransactionEvent",
    "TransformationEvent",
)  # fmt: skip
#: Containers of instance identifiers (``<epc>`` children) and of quantity elements.
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
#: Containers of typed references: list → child element and its JSON key.
_TYPED_LISTS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_SENSOR_NUMBERS = {
    "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue",
}  # fmt: skip
_WRAPPERS = ("extension", "baseExtension")
#: xsd:boolean's spellings (anything else reaches the schema as text, which names it).
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def document_from_xml(data: bytes) -> dict[str, Any]:
    """The EPCIS JSON-LD document an EPCIS XML document says.

    :raises EpcisError: ``malformed_xml`` (not well-formed, a DTD or entity, or not an
        EPCISDocument), path ``/`` and a sentence why.
    """
    prefixes: dict[str, str] = {}
    try:
        events = iterparse(io.BytesIO(data), events=("start-ns",), forbid_dtd=True)
        for _kind, (prefix, uri) in events:
            if uri not in NAMESPACES and prefix:
                prefixes.setdefault(uri, prefix)
        root = events.root
    except DefusedXmlException:
        raise EpcisError(
            "malformed_xml", "/", "DTDs and entities are not accepted in EPCIS XML"
        ) from None
    except (ParseError, ValueError) as exc:
        raise EpcisError("malformed_xml", "/", f"not well-formed XML: {exc}") from None
    namespace, name = _split(root.tag)
    if name != "EPCISDocument" or namespace not in NAMESPACES:
        raise EpcisError(
            "malformed_xml", "/", "the root element is an EPCISDocument of EPCIS 2.0 or 1.2"
        )
    body = _child(root, "EPCISBody")
    event_list = _child(body, "EventList") if body is not None else None
    events_out = []
    for element in _unwrapped(event_list if event_list is not None else []):
        _ns, kind = _split(element.tag)
        if kind not in EVENT_TYPES:
            raise EpcisError("malformed_xml", "/", f"{kind} is not an EPCIS event")
        events_out.append(_event(element, kind, prefixes))
    context: list[Any] = [EPCIS_CONTEXT]
    if prefixes:
        context.append({prefix: uri for uri, prefix in prefixes.items()})
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",  # 1.2 documents are read as the 2.0 events they map to
        "creationDate": root.get("creationDate", ""),
        "epcisBody": {"eventList": events_out},
    }


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def _child(element: Any, name: str) -> Any:
    for child in element:
        if _split(child.tag)[1] == name and _split(child.tag)[0] in (None, *NAMESPACES):
            return child
    return None


def _unwrapped(element: Any) -> list[Any]:
    """``element``'s children, those of 1.2's ``extension`` wrappers in their place."""
    out = []
    for child in element:
        namespace, name = _split(child.tag)
        if namespace is None and name in _WRAPPERS:
            out += _unwrapped(child)
        else:
            out.append(child)
    return out


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _key(tag: str, prefixes: dict[str, str]) -> str:
    namespace, name = _split(tag)
    if namespace is None or namespace in NAMESPACES:
        return name
    return f"{prefixes.get(namespace, 'ext')}:{name}"


def _value(element: Any, prefixes: dict[str, str]) -> Any:
    """An extension element: its text, or an object of its children (repeated ones a list)."""
    children = list(element)
    if not children:
        return _text(element)
    out: dict[str, Any] = {}
    for child in children:
        key, value = _key(child.tag, prefixes), _value(child, prefixes)
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # the schema names what is wrong


def _event(element: Any, kind: str, prefixes: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind}
    for child in _unwrapped(element):
        namespace, name = _split(child.tag)
        if namespace is not None and namespace not in NAMESPACES:
            event[_key(child.tag, prefixes)] = _value(child, prefixes)
        elif name in _EPC_LISTS:
            event[name] = [_text(epc) for epc in child]
        elif name in _QUANTITY_LISTS:
            event[name] = [_quantity(item) for item in child]
        elif name in _TYPED_LISTS:
            key = _TYPED_LISTS[name]
            event[name] = [
                {**({"type": item.get("type")} if item.get("type") else {}), key: _text(item)}
                for item in child
            ]
        elif name in ("readPoint", "bizLocation"):
            found = _child(child, "id")
            event[name] = {"id": _text(found) if found is not None else ""}
        elif name == "sensorElementList":
            event[name] = [_sensor_element(item, prefixes) for item in child]
        elif name == "ilmd":
            event[name] = _value(child, prefixes) or {}
        elif name == "errorDeclaration":
            event[name] = _declaration(child, prefixes)
        elif name == "persistentDisposition":
            event[name] = {
                key: [_text(i) for i in child if _split(i.tag)[1] == key]
                for key in ("set", "unset")
                if any(_split(i.tag)[1] == key for i in child)
            }
        elif name == "certificationInfo":  # repeatable: one URI, or a list of them
            given = event.get(name)
            value = _text(child)
            event[name] = value if given is None else [*_as_list(given), value]
        else:
            event[name] = _text(child)
    return event


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _quantity(element: Any) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for child in element:
        name = _split(child.tag)[1]
        item[name] = _number(_text(child)) if name == "quantity" else _text(child)
    return item


def _attributes(element: Any, prefixes: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in element.attrib.items():
        key = _key(name, prefixes)
        if key in _SENSOR_NUMBERS:
            out[key] = _number(value)
        elif key == "booleanValue" and value in _BOOLEANS:
            out[key] = _BOOLEANS[value]
        else:
            out[key] = value
    return out


def _sensor_element(element: Any, prefixes: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reports = []
    for child in element:
        namespace, name = _split(child.tag)
        if namespace is not None and namespace not in NAMESPACES:  # an extension element
            out[_key(child.tag, prefixes)] = _value(child, prefixes)
        elif name == "sensorMetadata":
            out["sensorMetadata"] = _attributes(child, prefixes)
        elif name == "sensorReport":
            reports.append(_attributes(child, prefixes))
    out["sensorReport"] = reports
    return out


def _declaration(element: Any, prefixes: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in _unwrapped(element):
        namespace, name = _split(child.tag)
        if namespace is not None and namespace not in NAMESPACES:
            out[_key(child.tag, prefixes)] = _value(child, prefixes)
        elif name == "correctiveEventIDs":
            out[name] = [_text(i) for i in child]
        else:
            out[name] = _text(child)
    return out
