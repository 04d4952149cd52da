"""Resolver links through the integration API: listed with ``read``, added and deleted
with ``issue``, as documented, audited with the token, and served by the resolver."""

from __future__ import annotations

from tracemark.models import AuditLog

GTIN = "09506000134352"
LINKS = "/api/v1/brands/{slug}/products/{gtin}/links"
ONE = "/api/v1/brands/{slug}/links/{link_id}"
BODY = {
    "link_type": "gs1:certificationInfo",
    "target": "https://lab.example/cert/1",
    "titles": {"en": "Organic certificate", "fr": "Certificat bio"},
    "qualifiers": "/10/L2401A",
    "media_type": "text/html",
}


def test_links_are_added_listed_and_deleted(db, client, tenant, conforms):
    url = tenant.url(f"products/{GTIN}/links")
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
    url = tenant.url(f"products/{GTIN}/links")
    refused = client.post(
        url, json={**BODY, "link_type": "gs1:nothing"}, headers=tenant.headers("issue")
    )
    assert refused.status_code == 422
    body = conforms(refused, LINKS, "post")
    assert (body["error"], body["path"]) == ("unknown_link_type", "$.link_type")
    refused = client.post(url, json={**BODY, "target": "x"}, headers=tenant.headers("issue"))
    assert conforms(refused, LINKS, "post")["error"] == "bad_target"


def test_scopes_and_brands_are_kept_apart(client, tenant, other):
    url = tenant.url(f"products/{GTIN}/links")
    assert client.post(url, json=BODY, headers=tenant.headers("read")).status_code == 403
    assert client.get(url, headers=tenant.headers("capture")).status_code == 403
    link = client.post(url, json=BODY, headers=tenant.headers("issue")).get_json()
    theirs = other.url(f"links/{link['id']}")
    assert client.delete(theirs, headers=other.headers("issue")).status_code == 404
    assert (
        client.get(tenant.url("products/00000000/links"), headers=tenant.headers()).status_code
        == 404
    )
