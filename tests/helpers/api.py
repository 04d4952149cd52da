"""Tenants of the integration API: a brand with a token of every scope."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import DemoBrand, make_brand
from tracemark.accounts import tokens as api_tokens


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
