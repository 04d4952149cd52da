"""Request bodies checked against the schemas of ``api/openapi.yaml`` itself, so the
document and the server cannot disagree on what a valid body is."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.access import HERE, ApiError, json_body

SPEC_URI = "urn:tracemark:integration-openapi"


@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))


@cache
def _validator(name: str) -> Draft202012Validator:
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), DRAFT202012))
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}, registry=registry
    )


def body_of(schema: str) -> dict[str, Any]:
    """The JSON body, valid by the document's schema ``schema``.

    :raises ApiError: as :func:`api.access.json_body`, or 422 ``invalid_body`` with the
        path of the first failing value.
    """
    body = json_body()
    error = best_match(_validator(schema).iter_errors(body))
    if error is not None:
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        raise ApiError(422, "invalid_body", error.message[:300], path=path)
    return body


def date_field(body: dict[str, Any], name: str) -> dt.date | None:
    """An optional ``YYYY-MM-DD`` field (:raises ApiError: 422 ``invalid_body``)."""
    value = body.get(name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_body", f"{name} is not a date", path=f"$.{name}") from None
