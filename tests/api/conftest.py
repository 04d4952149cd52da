"""A brand with API tokens of every kind, another brand with its own, and a checker of
responses against api/openapi.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DemoBrand, make_brand
from tests.openapi_support import OpenApiDocument
from tracemark.accounts import tokens as api_tokens

SPEC_PATH = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    demo: DemoBrand
    #: Tokens by what they hold: "all" scopes, or one scope each.
    tokens: dict[str, str]

    @property
    def slug(self) -> str:
        return self.demo.brand.slug

    def headers(self, kind: str = "all") -> dict[str, str]:
        return bearer(self.tokens[kind])

    def url(self, tail: str) -> str:
        return f"/api/v1/brands/{self.slug}/{tail}"


def make_tenant(sessions, lot: str = "L2401A", *, owned: bool = False) -> Tenant:
    demo = make_brand(sessions, lot=lot, owned=owned)
    tokens = {}
    with sessions.begin() as session:
        brand = session.merge(demo.brand)
        for kind, scopes in {
            "all": api_tokens.SCOPES,
            **{s: (s,) for s in api_tokens.SCOPES},
        }.items():
            tokens[kind] = api_tokens.create_token(session, brand, f"{kind} token", scopes)[1]
    return Tenant(demo, tokens)


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
