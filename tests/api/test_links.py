"""Resolver links through the integration API: listed with ``read``, added and deleted
with ``issue``, as documented, audited with the token, and served by the resolver."""

from __future__ import annotations

import pytest

from tests.helpers.api import make_tenant
from tracemark.models import AuditLog

LINKS = "/api/v1/brands/{slug}/products/{gtin}/links"
ONE = "/api/v1/brands/{slug}/links/{link_id}"
BODY = {
    "link_type": "gs1:certificationInfo",
    "target": "https://lab.example/cert/1",
    "titles": {"en": "Organic certificate", "fr": "Certificat bio"},
    "qualifiers": "/10/L2401A",
    "media_type": "text/html",
}


@pytest.fixture
def tenant(db):
    """A brand whose product is under the GS1 company prefix it holds."""
    return make_tenant(db.sessions, owned=True)


@pytest.fixture
def other(db):
    return make_tenant(db.sessions, owned=True)


def test_links_are_added_listed_and_deleted(db, client, tenant, conforms):
    url = tenant.url(f"products/{tenant.demo.product.gtin}/links")
    created = client.post(url, json=BODY, headers=tenant.headers("issue"))
    assert created.status_code == 201
    link = conforms(created, LINKS, "post")
    assert (link["link_type"], link["qualifiers"], link["audience"]) == (
        "gs1:certificationInfo",
        "/10/L2401A",
        "public",
    )
    listed = conforms(client.get(url, headers=tenant.headers("read")), LINKS)
    assert [item["id"] for item in listed["links"]] == [link["id"]]
    with db.sessions() as session:
        entry = session.query(AuditLog).filter_by(action="link.create", object_id=str(link["id"]))
        assert entry.one().details["source"].startswith("api:")
    gone = client.delete(tenant.url(f"links/{link['id']}"), headers=tenant.headers("issue"))
    assert gone.status_code == 204
    assert conforms(client.get(url, headers=tenant.headers("read")), LINKS) == {"links": []}


def test_bad_links_are_422_with_the_failing_field(client, tenant, conforms):
    url = tenant.url(f"products/{tenant.demo.product.gtin}/links")
    refused = client.post(
        url, json={**BODY, "link_type": "gs1:nothing"}, headers=tenant.headers("issue")
    )
    assert refused.status_code == 422
    body = conforms(refused, LINKS, "post")
    assert (body["error"], body["path"]) == ("unknown_link_type", "$.link_type")
    refused = client.post(url, json={**BODY, "target": "x"}, headers=tenant.headers("issue"))
    assert conforms(refused, LINKS, "post")["error"] == "bad_target"


def test_scopes_and_brands_are_kept_apart(client, tenant, other):
    url = tenant.url(f"products/{tenant.demo.product.gtin}/links")
    assert client.post(url, json=BODY, headers=tenant.headers("read")).status_code == 403
    assert client.get(url, headers=tenant.headers("capture")).status_code == 403
    link = client.post(url, json=BODY, headers=tenant.headers("issue")).get_json()
    theirs = other.url(f"links/{link['id']}")
    assert client.delete(theirs, headers=other.headers("issue")).status_code == 404
    assert (
        client.get(tenant.url("products/00000000/links"), headers=tenant.headers()).status_code
        == 404
    )


def test_a_product_outside_the_brands_prefixes_gets_no_link(db, client, conforms):
    legacy = make_tenant(db.sessions)  # its product predates the brand's prefix
    url = legacy.url(f"products/{legacy.demo.product.gtin}/links")
    refused = client.post(url, json=BODY, headers=legacy.headers("issue"))
    assert refused.status_code == 422
    body = conforms(refused, LINKS, "post")
    assert (body["error"], body["path"]) == ("foreign_gtin", "$.gtin")
    with db.sessions() as session:
        assert (
            session.query(AuditLog)
            .filter_by(action="link.create", brand_id=legacy.demo.brand.id)
            .count()
            == 0
        )


def test_a_link_is_replaced_whole_and_a_new_default_takes_the_flag(db, client, tenant, conforms):
    url = tenant.url(f"products/{tenant.demo.product.gtin}/links")
    headers = tenant.headers("issue")
    first = client.post(url, json={**BODY, "qualifiers": None, "default": True}, headers=headers)
    second = client.post(
        url, json={**BODY, "qualifiers": None, "target": "https://b.example"}, headers=headers
    )
    first, second = first.get_json(), second.get_json()
    body = {
        **BODY,
        "qualifiers": None,
        "target": "https://b.example/2",
        "titles": {"de": "Zertifikat"},
        "default": True,
    }
    replaced = client.put(tenant.url(f"links/{second['id']}"), json=body, headers=headers)
    assert replaced.status_code == 200
    link = conforms(replaced, ONE, "put")
    assert (link["target"], link["titles"], link["default"]) == (
        "https://b.example/2",
        {"de": "Zertifikat"},
        True,
    )
    listed = client.get(url, headers=tenant.headers("read")).get_json()["links"]
    assert {item["id"]: item["default"] for item in listed} == {
        first["id"]: False,
        second["id"]: True,
    }
    with db.sessions() as session:
        entry = (
            session.query(AuditLog)
            .filter_by(action="link.update", object_id=str(second["id"]))
            .one()
        )
        assert entry.details["source"].startswith("api:") and entry.details["cleared"] == [
            first["id"]
        ]
        assert entry.details["before"]["target"] == "https://b.example"
    bad = client.put(
        tenant.url(f"links/{second['id']}"), json={**body, "target": "x"}, headers=headers
    )
    assert bad.status_code == 422 and bad.get_json()["error"] == "bad_target"
    assert (
        client.put(
            tenant.url(f"links/{second['id']}"), json=body, headers=tenant.headers("read")
        ).status_code
        == 403
    )


def test_another_brands_link_cannot_be_replaced(client, tenant, other):
    url = tenant.url(f"products/{tenant.demo.product.gtin}/links")
    link = client.post(url, json=BODY, headers=tenant.headers("issue")).get_json()
    theirs = other.url(f"links/{link['id']}")
    assert client.put(theirs, json=BODY, headers=other.headers("issue")).status_code == 404


def test_a_link_id_beyond_any_row_is_not_found_whatever_the_method(client, tenant):
    """Beside the link's PUT, a DELETE of an id past the column's range is a 404, not a 405."""
    for huge in (2**31, 2**63, 10**30):
        for method in ("put", "delete"):
            call = getattr(client, method)
            response = call(tenant.url(f"links/{huge}"), headers=tenant.headers())
            assert response.status_code == 404, (method, huge)
