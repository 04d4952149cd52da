"""GS1's conformance statements for a Digital Link resolver (gs1/GS1DL-resolver-testsuite:
ConformantResolver1_0.txt, Conformance1_2.txt), one test each, against the portal.

Not walked here: HTTPS (TLS ends at the reverse proxy in front of the portal, see
docs/operations.md), the JSON-LD context link (a SHOULD), and gs1:handledBy redirects
(this resolver answers for its own brands' GTINs, it hands no prefix on to another).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.resolver import GS1, LINKSET, product_of_new_brand, unique_gtin
from tests.openapi_support import OpenApiDocument
from tracemark import catalog
from tracemark.resolver.compression import compress

#: A media type as IANA registers them: type/subtype.
MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]+")


def _linkset(client, path, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    (context,) = response.get_json()["linkset"]
    return response, context


def _targets(context):
    return [
        (relation, target)
        for relation, targets in context.items()
        if relation.startswith("https://")
        for target in targets
    ]


def test_every_key_qualifier_of_a_gtin_is_supported(client, item):
    gtin = item["gtin"]
    for path in (
        f"/01/{gtin}/22/V1",
        f"/01/{gtin}/10/L1",
        f"/01/{gtin}/22/V1/10/L1/21/S1",
        f"/01/{gtin}/235/TPX-1",
    ):
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == 307, path  # up the levels to the GTIN's default
        assert response.headers["Location"] == "https://olivar.example/en/oil"


def test_get_head_and_options_are_supported(client, item):
    path = f"/01/{item['gtin']}"
    assert client.get(path).status_code == 307
    head = client.head(path)
    assert head.status_code == 307 and head.data == b"" and head.headers["Location"]
    assert client.options(path).status_code == 204


def test_cors_is_supported_on_answers_and_preflights(client, item):
    path = f"/01/{item['gtin']}"
    preflight = client.options(
        path,
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    for response in (client.get(path), client.get(f"{path}?linkType=linkset")):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Link" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "path",
    ["/01/12345", "/01/{gtin}/10/L1/22/V1", "/01/{gtin}/99/X", "/01/{gtin}?17=99999"],
)
def test_syntax_errors_are_400(client, item, path):
    response = client.get(path.format(gtin=item["gtin"]), headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]


def test_no_error_is_a_200(client, item):
    gtin = item["gtin"]
    for path, status in (
        (f"/01/{unique_gtin()}", 404),
        (f"/01/{gtin}?linkType=gs1:recipeInfo", 404),
        (f"/01/{gtin}?linkType=gs1:nothing", 400),
        (f"/01/{gtin}/10/{'x' * 21}", 400),
    ):
        assert client.get(path).status_code == status, path


def test_a_compressed_uri_is_decompressed_not_redirected_to_and_named_as_the_same(client, item):
    gtin = item["gtin"]
    compressed = compress(f"/01/{gtin}/10/L1")
    response = client.get(compressed)
    assert response.status_code == 307
    assert response.headers["Location"] != f"http://localhost/01/{gtin}/10/L1"
    assert f'<http://localhost/01/{gtin}/10/L1>; rel="owl:sameAs"' in response.headers["Link"]
    _response, context = _linkset(client, compressed + "?linkType=linkset")
    assert context["anchor"] == f"http://localhost/01/{gtin}/10/L1"  # the uncompressed URI


@pytest.mark.parametrize("ask", ["query", "accept"])
def test_a_linkset_lists_the_links_of_every_level_up_to_the_primary_key(client, item, ask):
    path = f"/01/{item['gtin']}/10/L1"
    if ask == "query":
        response, context = _linkset(client, f"{path}?linkType=linkset")
    else:
        response, context = _linkset(client, path, Accept=LINKSET)
    assert response.mimetype == LINKSET
    relations = {relation for relation, _target in _targets(context)}
    assert {f"{GS1}pip", f"{GS1}certificationInfo", f"{GS1}recallStatus"} <= relations
    assert context["anchor"] == f"http://localhost{path}"


def test_every_link_has_target_type_and_title_and_an_iana_shaped_media_type(client, item):
    _response, context = _linkset(client, f"/01/{item['gtin']}/10/L1?linkType=linkset")
    for relation, target in _targets(context):
        assert target["href"].startswith(("http://", "https://")) and target["title"], relation
        if "type" in target:
            assert MEDIA_TYPE.fullmatch(target["type"]), target
    languages = [t for _r, t in _targets(context) if "hreflang" in t]
    assert languages, "links in a language say which"


def test_the_default_link_is_also_described_by_its_own_link_type(client, item):
    _response, context = _linkset(client, f"/01/{item['gtin']}?linkType=linkset")
    (default,) = context[f"{GS1}defaultLink"]
    described = [t for r, t in _targets(context) if r != f"{GS1}defaultLink"]
    assert default in described


def test_the_default_link_is_the_answer_unless_the_request_matches_better(client, item):
    path = f"/01/{item['gtin']}"
    plain = client.get(path)
    assert plain.headers["Location"] == "https://olivar.example/en/oil"
    french = client.get(path, headers={"Accept-Language": "fr"})
    assert french.headers["Location"] == "https://olivar.example/fr/huile"


def test_a_requested_link_type_redirects_there_or_is_a_404(client, item):
    gtin = item["gtin"]
    found = client.get(f"/01/{gtin}/10/L1?linkType=gs1:recallStatus")
    assert found.status_code == 307 and "/recall-status/" in found.headers["Location"]
    missing = client.get(f"/01/{gtin}?linkType=gs1:faqs")
    assert missing.status_code == 404 and "Location" not in missing.headers


def test_the_query_string_is_passed_on_when_redirecting(client, item):
    response = client.get(f"/01/{item['gtin']}?linkType=gs1:pip&campaign=x1&17=271231")
    assert response.headers["Location"].endswith("?campaign=x1&17=271231")


def test_the_resolver_description_file_lists_the_primary_keys(client):
    body = client.get("/.well-known/gs1resolver").get_json()
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["resolverRoot"] == "http://localhost"


def test_the_gs1_namespace_is_recognised_and_not_shadowed(client, item):
    gtin = item["gtin"]
    for spelling in ("gs1:pip", f"{GS1}pip", "http://gs1.org/voc/pip"):
        response = client.get(f"/01/{gtin}?linkType={spelling}", headers={"Accept-Language": "en"})
        assert response.headers["Location"] == "https://olivar.example/en/oil", spelling
    # a term the GS1 namespace does not define is no link type at all
    assert client.get(f"/01/{gtin}?linkType={GS1}madeUp").status_code == 400


def test_a_trailing_slash_is_tolerated(client, item):
    gtin = item["gtin"]
    assert client.get(f"/01/{gtin}/").status_code == 307
    assert client.get(f"/01/{gtin}/10/L1/?linkType=linkset").status_code == 200
    assert client.get(compress(f"/01/{gtin}") + "/").status_code == 307


def test_every_answer_links_to_its_linkset_redirects_included(client, item):
    gtin = item["gtin"]
    entry = f'<http://localhost/01/{gtin}?linkType=linkset>; rel="linkset"'
    for response in (
        client.get(f"/01/{gtin}"),
        client.get(f"/01/{gtin}?linkType=gs1:pip"),
        client.get(f"/01/{gtin}?linkType=linkset"),
        client.head(f"/01/{gtin}"),
    ):
        assert entry in response.headers["Link"]


def test_there_is_a_default_link_even_for_an_item_without_links_of_its_own(db, client):
    """ "For any request URI … there SHALL be a default link at the entry level or higher":
    for a product its brand gave no link yet, the linkset is that default (as the
    description file's ``linkTypeDefaultCanBeLinkset`` says), never a 404. So it is for
    a batch of it: its built-in links (recall status, test reports) are not the default
    a shopper lands on, though asked for by type they answer."""
    with db.sessions.begin() as session:
        product = product_of_new_brand(session, "Bare", "Linkless oil")
        catalog.create_batch(session, product, "B1")
        gtin = product.gtin
    document = OpenApiDocument.load(Path(__file__).resolve().parents[2] / "portal" / "openapi.yaml")
    for path in (
        f"/01/{gtin}",
        f"/01/{gtin}/22/V1",
        f"/01/{gtin}/10/NOBATCH/",
        f"/01/{gtin}/10/B1",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not document.errors(response, "/01/{gtin}"), path
        (context,) = response.get_json()["linkset"]
        assert context["anchor"] == f"http://localhost{path.rstrip('/')}"
        assert context["itemDescription"] == "Linkless oil"
        assert 'rel="linkset"' in response.headers["Link"]
        assert GS1 + "defaultLink" not in context
    assert GS1 + "recallStatus" in context  # the batch's, last of the paths
    assert client.get(f"/01/{gtin}/10/B1?linkType=gs1:recallStatus").status_code == 307
    assert client.head(f"/01/{gtin}").status_code == 200
    # a link type asked for and missing is still the 404 it was
    assert client.get(f"/01/{gtin}?linkType=gs1:pip").status_code == 404
    assert client.get("/.well-known/gs1resolver").get_json()["linkTypeDefaultCanBeLinkset"]


def test_every_link_of_the_link_header_is_titled_and_typed_compressed_or_not(client, item):
    """GS1's test suite reads the ``Link`` header: each entry has a target, a ``rel`` and a
    ``title``, and asking for each GS1 link type redirects to that entry's target."""
    gtin = item["gtin"]
    entry = re.compile(r'<(?P<href>[^>]+)>; rel="(?P<rel>[^"]+)"(?P<params>[^,]*)')
    for path in (f"/01/{gtin}/10/L1", compress(f"/01/{gtin}/10/L1")):
        response = client.get(path, headers={"Accept-Language": "fr"})
        entries = list(entry.finditer(response.headers["Link"]))
        assert len(entries) == response.headers["Link"].count("<"), path
        for found in entries:
            assert 'title="' in found["params"] or "title*=" in found["params"], found[0]
        targets = [found["href"] for found in entries]
        assert response.headers["Location"] in targets
    for found in entries:
        if found["rel"].startswith(GS1) and found["rel"] != f"{GS1}pip":
            redirect = client.get(f"/01/{gtin}/10/L1?linkType={found['rel']}")
            assert redirect.status_code == 307 and redirect.headers["Location"] in targets


def test_only_gtin_key_qualifiers_are_accepted(client, item):
    """/22/, /10/, /21/ and /235/ qualify a GTIN; /254/ (a GLN extension) qualifies a GLN
    (414), no primary key this resolver serves, so under /01/ it is a syntax error."""
    gtin = item["gtin"]
    response = client.get(f"/01/{gtin}/254/X1", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "unknown_qualifier"
    described = client.get("/.well-known/gs1resolver").get_json()
    assert described["supportedQualifiers"] == {"01": ["22", "10", "21", "235"]}
    assert described["supportedPrimaryKeys"] == ["01"]
