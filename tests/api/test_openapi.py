"""api/openapi.yaml: a valid OpenAPI 3.1 document, served, and describing exactly the
routes the app has under the integration API."""

from __future__ import annotations

import re

import yaml
from openapi_spec_validator import validate as validate_spec

from tracemark.accounts import tokens as api_tokens


def test_document_is_valid_openapi_3_1(document):
    assert document.spec["openapi"].startswith("3.1")
    validate_spec(document.spec)


def test_document_is_served_and_equal_to_the_file(client, document):
    response = client.get("/api/v1/integration/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == document.spec


def test_every_route_is_documented_and_every_documented_route_exists(app, document):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("integration."):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    documented = {
        (path, method)
        for path, item in document.spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert routes == documented


def test_every_operation_documents_the_access_errors(document):
    for path, item in document.spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or operation.get("security") == []:
                continue
            assert {"401", "404", "429", "503"} <= set(operation["responses"]), (path, method)


def test_scopes_are_the_documented_ones(document):
    documented = document.spec["components"]["schemas"]["Error"]["properties"]["scope"]["enum"]
    assert documented == list(api_tokens.SCOPES)


def test_the_capture_operation_names_every_accepted_context(document):
    """The accepted @context URLs are named where clients read them, as capture takes
    them (the error of an unsupported one names the same list)."""
    from tracemark.epcis.schema import EPCIS_CONTEXTS

    capture = document.spec["paths"]["/api/v1/brands/{slug}/events"]["post"]
    named = re.findall(r"`(https://[^`]+\.jsonld)`", capture["description"])
    assert sorted(named) == sorted(EPCIS_CONTEXTS)
