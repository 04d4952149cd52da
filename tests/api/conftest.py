"""A brand with API tokens of every kind, another brand with its own, and a checker of
responses against api/openapi.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.api import Tenant, make_tenant
from tests.openapi_support import OpenApiDocument

SPEC_PATH = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant(db.sessions)


@pytest.fixture
def other(db) -> Tenant:
    return make_tenant(db.sessions)


@pytest.fixture(scope="session")
def document() -> OpenApiDocument:
    return OpenApiDocument.load(SPEC_PATH)


@pytest.fixture
def conforms(document):
    """``conforms(response, path, method="get")``: assert the response is as documented
    and return its JSON."""

    def check(response, path: str, method: str = "get"):
        errors = document.errors(response, path, method)
        assert not errors, "\n".join(errors)
        return response.get_json()

    return check
