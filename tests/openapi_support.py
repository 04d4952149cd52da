"""Checking real responses against an OpenAPI 3.1 document (the portal's verification API
and the integration API): the status is documented, the body is valid by its schema and
documented headers have their documented form."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from jsonschema import ValidationError
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:tracemark:openapi"


@dataclass
class OpenApiDocument:
    spec: dict
    registry: Registry

    @classmethod
    def load(cls, path: Path) -> OpenApiDocument:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        # the whole document as one resource, so ``#/components/...`` refs resolve in it
        return cls(
            spec, Registry().with_resource(SPEC_URI, Resource.from_contents(spec, DRAFT202012))
        )

    def errors(self, response, path: str, method: str = "get") -> list[str]:
        """What is wrong with ``response`` by the document (``path`` as documented,
        ``/api/v1/brands/{slug}/events`` say)."""
        return schema_errors(self.spec, self.registry, response, path, method)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _response_schema(spec: dict, path: str, method: str, status: str, mimetype: str) -> dict:
    """The JSON schema of one documented response, as a ``$ref`` into the document."""
    response = spec["paths"][path][method]["responses"][status]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[1]
        pointer = _pointer("components", "responses", name)
    else:
        pointer = _pointer("paths", path, method, "responses", status)
    return {"$ref": f"{SPEC_URI}#/{pointer}/{_pointer('content', mimetype, 'schema')}"}


def resolve(spec: dict, node: dict) -> dict:
    """Follow local ``$ref`` (``#/components/...``) to what it names."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _header_errors(spec: dict, response, path: str, method: str) -> list[str]:
    """Documented response headers that are sent must have their documented form."""
    documented = resolve(spec, spec["paths"][path][method]["responses"][str(response.status_code)])
    errors = []
    for name, header in documented.get("headers", {}).items():
        schema, value = resolve(spec, header)["schema"], response.headers.get(name)
        if value is None:
            continue
        if "const" in schema and value != schema["const"]:
            errors.append(f"header {name}: {value!r} is not {schema['const']!r}")
        if schema.get("type") == "integer" and not value.isdigit():
            errors.append(f"header {name}: {value!r} is not an integer")
        if "pattern" in schema and not value.startswith(schema["pattern"].lstrip("^")):
            errors.append(f"header {name}: {value!r} does not match {schema['pattern']!r}")
    return errors


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The innermost errors: inside ``oneOf: [null, X]``, those of the ``X`` branch."""
    if not error.context:
        return [error]
    branches = [e for e in error.context if e.schema != {"type": "null"}]
    return [leaf for e in branches for leaf in _leaves(e)]


def schema_errors(spec, registry, response, path: str, method: str = "get") -> list[str]:
    """What is wrong with a real response by the document (status documented, body valid)."""
    status = str(response.status_code)
    if status not in spec["paths"][path][method]["responses"]:
        return [f"status {status} is not documented for {method.upper()} {path}"]
    documented = resolve(spec, spec["paths"][path][method]["responses"][status])
    if response.mimetype not in documented.get("content", {}):
        return [f"type {response.mimetype} is not documented for {status}"]
    validator = OAS31Validator(
        _response_schema(spec, path, method, status, response.mimetype),
        registry=registry,
        format_checker=oas31_format_checker,
    )
    leaves = [leaf for e in validator.iter_errors(response.get_json()) for leaf in _leaves(e)]
    return _header_errors(spec, response, path, method) + [
        f"{list(e.absolute_path)}: {e.message}" for e in leaves
    ]
