"""The GS1 Digital Link resolver, statement by statement of GS1's conformance list for
resolvers (GS1 Digital Link standard; gs1/GS1DL-resolver-testsuite)."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import fresh_prefix
from tests.helpers.admin import login
from tests.helpers.resolver import GS1, LINKSET, unique_gtin
from tracemark import catalog
from tracemark.accounts import tokens as api_tokens
from tracemark.models import AuditLog, Batch, BrandPrefix, Role
from tracemark.resolver.links import LinkData, LinkError, add_link


def test_get_head_and_options_are_supported_with_cors(client, item):
    path = f"/01/{item['gtin']}"
    for response in (client.get(path), client.head(path), client.options(path)):
        assert response.status_code in (204, 307)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert {"GET", "HEAD", "OPTIONS"} <= set(
            response.headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")
        )
    assert client.options(path).headers["Allow"] == "GET, HEAD, OPTIONS"


def test_no_link_type_redirects_to_the_default_link_with_the_linkset_in_a_link_header(client, item):
    response = client.get(f"/01/{item['gtin']}", headers={"Accept-Language": "en"})
    assert response.status_code == 307
    assert response.headers["Location"] == "https://olivar.example/en/oil"
    link = response.headers["Link"]
    assert f'<http://localhost/01/{item["gtin"]}?linkType=linkset>; rel="linkset"' in link
    assert f'<https://olivar.example/fr/huile>; rel="{GS1}pip"; title="Oil"; hreflang="fr"' in link


def test_the_default_link_follows_accept_language_with_fallback(client, item):
    fr = client.get(f"/01/{item['gtin']}", headers={"Accept-Language": "fr-CA, fr;q=0.9"})
    assert fr.headers["Location"] == "https://olivar.example/fr/huile"
    de = client.get(f"/01/{item['gtin']}", headers={"Accept-Language": "de"})
    assert de.headers["Location"] == "https://olivar.example/en/oil"


def test_link_type_redirects_there_passing_the_query_on(client, item):
    path = f"/01/{item['gtin']}/10/L1?linkType=gs1:certificationInfo&foo=bar&17=261231"
    response = client.get(path)
    assert response.status_code == 307
    assert response.headers["Location"] == "https://lab.example/cert?id=7&foo=bar&17=261231"
    assert 'rel="linkset"' in response.headers["Link"]
    full = client.get(f"/01/{item['gtin']}/10/L1?linkType={GS1}certificationInfo")
    assert full.headers["Location"] == "https://lab.example/cert?id=7"


def test_a_link_type_without_a_link_is_a_404_not_a_redirect(client, item):
    response = client.get(
        f"/01/{item['gtin']}?linkType=gs1:recipeInfo", headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.get_json()["error"] == "no_link"
    # the lot's link is not the GTIN's
    assert client.get(f"/01/{item['gtin']}?linkType=gs1:certificationInfo").status_code == 404


@pytest.mark.parametrize("ask", ["?linkType=linkset", "?linkType=all", ""])
def test_the_linkset_holds_every_level_up_to_the_gtin(client, item, ask):
    headers = {"Accept": LINKSET} if not ask else {"Accept-Language": "fr"}
    response = client.get(f"/01/{item['gtin']}/10/L1/{ask}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == LINKSET
    (context,) = response.get_json()["linkset"]
    assert context["anchor"] == f"http://localhost/01/{item['gtin']}/10/L1"
    assert [t["href"] for t in context[f"{GS1}certificationInfo"]] == [
        "https://lab.example/cert?id=7"
    ]
    assert len(context[f"{GS1}pip"]) == 2
    for targets in (v for k, v in context.items() if k.startswith("https://")):
        assert all(target["href"] and target["title"] for target in targets)
    assert f"{GS1}safetyInfo" not in context and f"{GS1}masterData" not in context
    assert len(context[f"{GS1}defaultLink"]) == 1
    assert "Accept" in response.headers["Vary"]


def test_the_linkset_is_also_served_as_json(client, item):
    response = client.get(
        f"/01/{item['gtin']}?linkType=linkset", headers={"Accept": "application/json"}
    )
    assert response.mimetype == "application/json"
    assert response.get_json()["linkset"][0]["itemDescription"] == "Olive oil 1 l"


@pytest.mark.parametrize(
    ("role", "seen"),
    [(None, set()), (Role.REGULATOR, {"safetyInfo"}), (Role.STAFF, {"safetyInfo", "masterData"})],
)
def test_the_linkset_shows_each_audience_only_its_tier(app, item, role, seen):
    client = app.test_client()
    if role is not None:
        assert login(client, item["people"][role]).status_code == 302
    response = client.get(f"/01/{item['gtin']}?linkType=linkset")
    context = response.get_json()["linkset"][0]
    shown = {key.removeprefix(GS1) for key in context} & {"safetyInfo", "masterData"}
    assert shown == seen
    assert response.headers["Cache-Control"] == (
        "public, max-age=60" if role is None else "no-store"
    )


def test_the_signed_unit_url_is_still_the_verdict_page_with_a_link_header(client, item):
    response = client.get(item["unit"])
    assert response.status_code == 200
    assert 'data-verdict="genuine_first_scan"' in response.get_data(as_text=True)
    path = item["unit"].split("?")[0]
    assert response.headers["Link"].startswith(f"<http://localhost{path}?linkType=linkset>")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    slashed = client.get(item["unit"].replace("?S=", "/?S="))
    # the same device again the same day: a view of the verdict, not another scan
    assert 'data-verdict="genuine_first_scan"' in slashed.get_data(as_text=True)


def test_the_unit_linkset_has_the_verdict_page_as_its_default(client, item):
    response = client.get(item["unit"] + "&linkType=linkset")
    context = response.get_json()["linkset"][0]
    (verification,) = context[f"{GS1}verificationService"]
    assert verification["href"] == "http://localhost" + item["unit"]
    assert context[f"{GS1}defaultLink"] == [verification]
    assert context["anchor"] == "http://localhost" + item["unit"].split("?")[0]
    redirect = client.get(item["unit"] + "&linkType=gs1:verificationService")
    assert (
        redirect.status_code == 307
        and redirect.headers["Location"] == "http://localhost" + item["unit"]
    )


def test_a_trailing_slash_answers_the_same(client, item):
    plain, slashed = client.get(f"/01/{item['gtin']}"), client.get(f"/01/{item['gtin']}/")
    assert (plain.status_code, plain.headers["Location"]) == (
        slashed.status_code,
        slashed.headers["Location"],
    )


@pytest.mark.parametrize(
    "path",
    [
        "/01/09506000134353",
        "/01/{gtin}/foo",
        "/01/{gtin}/10/L1/21/S/10/L",
        "/01/{gtin}?17=991399",
        "/01/{gtin}?linkType=gs1:nothing",
        "/01/" + "9" * 5000,
    ],
)
def test_syntax_errors_are_400_never_200(client, item, path):
    response = client.get(path.format(gtin=item["gtin"]), headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]
    page = client.get(path.format(gtin=item["gtin"]))
    assert (
        page.status_code == 400 and "not a valid GS1 Digital Link" in page.get_data(as_text=True)
    ) or ("link type" in page.get_data(as_text=True))


def test_an_unknown_gtin_is_a_404_page_or_json(client, item):
    gtin = unique_gtin()
    json = client.get(f"/01/{gtin}", headers={"Accept": "application/json"})
    assert json.status_code == 404 and json.get_json()["error"] == "unknown_identifier"
    page = client.get(f"/01/{gtin}/10/L1", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "We know no product with this GTIN." in page.get_data(
        as_text=True
    )
    assert "Location" not in page.headers


def test_the_resolver_description_file(client):
    response = client.get("/.well-known/gs1resolver")
    body = response.get_json()
    assert body["resolverRoot"] == "http://localhost"
    assert body["supportedPrimaryKeys"] == ["01"]
    assert {"namespace": GS1, "prefix": "gs1:"} in body["supportedLinkType"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_links_are_checked_and_audited(db, item):
    with db.sessions.begin() as session:
        from tracemark.resolver.resolve import owning_product

        product = owning_product(session, item["gtin"])
        with pytest.raises(LinkError) as raised:
            add_link(session, product, LinkData("gs1:pip", "javascript:alert(1)", {"en": "x"}))
        assert raised.value.code == "bad_target"
        with pytest.raises(LinkError) as raised:
            add_link(session, product, LinkData("gs1:pip", "https://a.example", {"en": " "}))
        assert raised.value.code == "title_required"
        with pytest.raises(LinkError) as raised:
            add_link(
                session,
                product,
                LinkData("gs1:pip", "https://a.example", {"en": "x"}, qualifiers="/21/S/10/L"),
            )
        assert raised.value.code == "bad_qualifiers"
        link = add_link(
            session,
            product,
            LinkData(
                "https://gs1.org/voc/faqs", "https://a.example", {"en": "FAQ"}, qualifiers="/10/L1/"
            ),
        )
        assert (link.link_type, link.qualifiers) == ("gs1:faqs", "/10/L1")
        entry = (
            session.query(AuditLog)
            .filter_by(object_type="resolver_link", object_id=str(link.id))
            .one()
        )
        assert entry.action == "link.create" and entry.brand_id == product.brand_id


def test_a_batch_has_its_recall_status_and_test_reports_as_built_in_links(db, client, item):
    from tests.conftest import PDF
    from tracemark.content import stories as content
    from tracemark.models import BatchStatus, Product
    from tracemark.models.base import utcnow

    with db.sessions.begin() as session:
        product = session.query(Product).filter_by(gtin=item["gtin"]).one()
        batch = session.query(Batch).filter_by(product_id=product.id, lot="L1").one()
        content.attach_document(session, batch, "Acidity", PDF, filename="a.pdf", publish=True)
        content.attach_document(session, batch, "Draft", PDF, filename="d.pdf")
    response = client.get(f"/01/{item['gtin']}/10/L1?linkType=linkset")
    context = response.get_json()["linkset"][0]
    reports = [
        t for t in context[f"{GS1}certificationInfo"] if t["href"].startswith("http://localhost")
    ]
    assert [t["title"] for t in reports] == ["Acidity"]
    assert client.get(reports[0]["href"]).data == PDF
    status_link = client.get(f"/01/{item['gtin']}/10/L1?linkType=gs1:recallStatus")
    assert status_link.status_code == 307
    released = client.get(status_link.headers["Location"]).get_json()
    assert released["status"] == "released" and released["notice"] == {}
    with db.sessions.begin() as session:
        batch = session.query(Batch).filter_by(product_id=product.id, lot="L1").one()
        batch.status, batch.status_since = BatchStatus.RECALLED, utcnow()
        batch.notice = {"en": "Do not use.", "fr": "Ne pas utiliser."}
    recalled = client.get(status_link.headers["Location"]).get_json()
    assert recalled["status"] == "recalled" and recalled["recalled"] is True
    assert recalled["notice"]["fr"] == "Ne pas utiliser." and recalled["since"]
    assert (
        f"{GS1}recallStatus"
        not in client.get(f"/01/{item['gtin']}?linkType=linkset").get_json()["linkset"][0]
    )
    assert client.get(f"/recall-status/01/{item['gtin']}/10/NOPE").status_code == 404


def test_the_resolvers_json_answers_are_as_documented(db, client, item):
    from pathlib import Path

    from tests.openapi_support import OpenApiDocument

    document = OpenApiDocument.load(Path(__file__).resolve().parents[2] / "portal" / "openapi.yaml")
    gtin, json = item["gtin"], {"Accept": "application/json"}
    answers = [
        ("/01/{gtin}", client.get(f"/01/{gtin}/10/L1?linkType=linkset")),
        ("/01/{gtin}", client.get(f"/01/{gtin}?linkType=all", headers=json)),
        ("/01/{gtin}", client.get(item["unit"] + "&linkType=linkset")),
        ("/01/{gtin}", client.get(f"/01/{gtin}/99/x", headers=json)),
        ("/01/{gtin}", client.get(f"/01/{gtin}?linkType=gs1:faqs", headers=json)),
        ("/01/{gtin}", client.get(f"/01/{unique_gtin()}", headers=json)),
        ("/recall-status/01/{gtin}/10/{lot}", client.get(f"/recall-status/01/{gtin}/10/L1")),
        ("/recall-status/01/{gtin}/10/{lot}", client.get(f"/recall-status/01/{gtin}/10/X")),
        ("/.well-known/gs1resolver", client.get("/.well-known/gs1resolver")),
    ]
    for path, response in answers:
        assert not document.errors(response, path), (path, response.status_code)
    assert [response.status_code for _path, response in answers] == [
        200,
        200,
        200,
        400,
        404,
        404,
        200,
        404,
        200,
    ]


def _registered_first(session, gtin: str):
    """A product of ``gtin`` registered before brands held prefixes, by a brand that never
    held the GTIN's prefix."""
    from tracemark.models import Product

    squatter = catalog.create_brand(session, f"s-{secrets.token_hex(4)}", "Squatter", None)
    early = Product(brand_id=squatter.id, gtin=gtin, name="registered first", texts={})
    session.add(early)
    session.flush()
    return early


def test_only_the_prefix_holders_product_resolves(db, client):
    from tracemark.resolver.resolve import owning_product

    prefix = fresh_prefix()
    gtin = unique_gtin("0" + prefix)
    with db.sessions.begin() as session:
        early = _registered_first(session, gtin)
        assert owning_product(session, gtin).id == early.id
        with pytest.raises(LinkError) as raised:
            add_link(session, early, LinkData("gs1:pip", "https://squatter.example", {"en": "x"}))
        assert raised.value.code == "foreign_gtin"
        holder = catalog.create_brand(session, f"h-{secrets.token_hex(4)}", "Holder", None)
        session.add(BrandPrefix(brand_id=holder.id, prefix=prefix))  # (as held before 0022)
        session.flush()
        assert owning_product(session, gtin) is None
    assert client.get(f"/01/{gtin}").status_code == 404


def test_a_batch_links_to_its_epcis_document_which_only_the_brands_token_opens(db, client, item):
    gtin = item["gtin"]
    context = client.get(f"/01/{gtin}/10/L1?linkType=linkset").get_json()["linkset"][0]
    (trace,) = context[f"{GS1}traceability"]
    api = f"http://localhost/api/v1/brands/{item['slug']}/batches/L1/events?gtin={gtin}"
    assert (trace["href"], trace["type"]) == (api, "application/json")
    redirect = client.get(f"/01/{gtin}/10/L1?linkType=gs1:traceability")
    assert redirect.status_code == 307 and redirect.headers["Location"] == api
    assert client.get(api).status_code == 401
    with db.sessions.begin() as session:
        stranger = catalog.create_brand(session, f"x-{secrets.token_hex(4)}", "Stranger", None)
        foreign = api_tokens.create_token(session, stranger, "reader", ("read",))[1]
    assert client.get(api, headers={"Authorization": f"Bearer {foreign}"}).status_code == 404
    document = client.get(api, headers={"Authorization": f"Bearer {item['token']}"})
    assert document.status_code == 200 and document.get_json()["type"] == "EPCISDocument"
    # the GTIN's own level names no batch: no traceability link there
    top = client.get(f"/01/{gtin}?linkType=linkset").get_json()["linkset"][0]
    assert f"{GS1}traceability" not in top


def test_a_compressed_link_is_answered_as_its_uncompressed_form_and_names_it(client, item):
    from tracemark.resolver.compression import compress

    gtin = item["gtin"]
    uncompressed = f"http://localhost/01/{gtin}/10/L1"
    for path in (compress(f"/01/{gtin}/10/L1"), compress(f"/01/{gtin}/10/L1", keep_primary=True)):
        response = client.get(path + "?linkType=gs1:certificationInfo")
        assert response.status_code == 307, path
        assert response.headers["Location"] == "https://lab.example/cert?id=7"
        assert f'<{uncompressed}>; rel="owl:sameAs"' in response.headers["Link"]
        assert f'<{uncompressed}?linkType=linkset>; rel="linkset"' in response.headers["Link"]
        linkset = client.get(path, headers={"Accept": LINKSET}).get_json()["linkset"][0]
        assert linkset["anchor"] == uncompressed
    assert client.options(compress(f"/01/{gtin}")).status_code == 204


def test_a_compressed_signed_unit_url_opens_the_verdict_page(client, item):
    from tracemark.resolver.compression import compress

    path, query = item["unit"].split("?")
    response = client.get(compress(path, query))
    assert response.status_code == 200
    assert 'data-verdict="genuine_first_scan"' in response.get_data(as_text=True)
    assert f'<http://localhost{item["unit"]}>; rel="owl:sameAs"' in response.headers["Link"]
    second_phone = {"REMOTE_ADDR": "203.0.113.9"}
    again = client.application.test_client().get(item["unit"], environ_base=second_phone)
    assert 'data-verdict="genuine_scanned_before"' in again.get_data(as_text=True)


def test_what_does_not_decompress_is_400_under_01_and_not_found_elsewhere(client, item):
    bad = client.get(f"/01/{item['gtin']}/foo", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and bad.get_json()["error"]
    assert client.get("/AAAAAAAAAAAAAAAAAAAAAAA").status_code == 404  # an SSCC twice
    assert client.get("/nothing-here").status_code == 404
    assert client.get("/.well-known/gs1resolver").status_code == 200


def test_a_provenance_statement_names_the_resolvers_linksets(db, client, item):
    import base64
    import json

    from tracemark.content import provenance
    from tracemark.models import Product

    with db.sessions.begin() as session:
        product = session.query(Product).filter_by(gtin=item["gtin"]).one()
        batch = session.query(Batch).filter_by(product_id=product.id, lot="L1").one()
        issued = provenance.issue_statement(
            session, batch, "statement-passphrase", resolver_base="http://localhost/"
        )
    payload = json.loads(issued.text)["payload"]
    statement = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    links = statement["resolver"]
    assert links == {
        "product_linkset": f"http://localhost/01/{item['gtin']}?linkType=linkset",
        "batch_linkset": f"http://localhost/01/{item['gtin']}/10/L1?linkType=linkset",
    }
    context = client.get(links["batch_linkset"]).get_json()["linkset"][0]
    assert context["anchor"] == f"http://localhost/01/{item['gtin']}/10/L1"
    assert f"{GS1}recallStatus" in context and f"{GS1}pip" in context
    from tracemark.content.statement_text import statement_lines

    assert statement_lines(statement)[-1] == f"links      {links['batch_linkset']}"


def test_a_signed_address_that_does_not_decompress_is_the_verdict_pages_400(client):
    """``/01/0/0?S=…`` reads as a partially compressed link that does not decompress: with a
    signature it is a label's address, so the verdict page says it is not genuine."""
    for path in ("/01/0/0?S=", "/01/0/0?S=AAAA"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert 'data-verdict="not_genuine"' in response.get_data(as_text=True), path
    bare = client.get("/01/0/0", headers={"Accept": "application/json"})
    assert bare.status_code == 400 and bare.get_json()["error"]


def test_the_recall_status_is_the_prefix_holders_batchs(db, client):
    """Two brands registered one GTIN before prefixes existed: the recall status document,
    like every other answer, speaks for the brand holding the GTIN's prefix."""
    from tracemark.models import BatchStatus, Product
    from tracemark.models.base import utcnow

    prefix = fresh_prefix()
    gtin = unique_gtin("0" + prefix)
    with db.sessions.begin() as session:
        recalled = catalog.create_batch(session, _registered_first(session, gtin), "L1")
        recalled.status, recalled.status_since = BatchStatus.RECALLED, utcnow()
        recalled.notice = {"en": "Squatter's recall."}
        holder = catalog.create_brand(session, f"h-{secrets.token_hex(4)}", "Holder", None)
        session.add(BrandPrefix(brand_id=holder.id, prefix=prefix))  # (as held before 0022)
        own = Product(brand_id=holder.id, gtin=gtin, name="the holder's", texts={})
        session.add(own)
        session.flush()
        catalog.create_batch(session, own, "L1")
    status_link = client.get(f"/01/{gtin}/10/L1?linkType=gs1:recallStatus")
    assert status_link.status_code == 307
    document = client.get(status_link.headers["Location"]).get_json()
    assert (document["status"], document["notice"]) == ("released", {})


def test_a_regulator_finds_the_signed_provenance_statement_in_the_batchs_linkset(db, item):
    """The statement is a link of the regulators' tier: the brand's regulators (and its
    members) see it at the lot's level and open it; the public sees no trace of it."""
    from flask import url_for

    from tests.helpers.content import statement_settings
    from tracemark.app import close, create_app
    from tracemark.models import Product

    app = create_app(statement_settings(db), {"TESTING": True})
    try:
        with db.sessions() as session:
            product = session.query(Product).filter_by(gtin=item["gtin"]).one()
            batch_id = session.query(Batch).filter_by(product_id=product.id, lot="L1").one().id
        with app.test_request_context():
            expected = "http://localhost" + url_for(
                "admin.statement", slug=item["slug"], batch_id=batch_id
            )
        path = f"/01/{item['gtin']}/10/L1?linkType=linkset"
        public = app.test_client().get(path)
        assert expected not in public.get_data(as_text=True) + public.headers["Link"]
        regulator = app.test_client()
        assert login(regulator, item["people"][Role.REGULATOR]).status_code == 302
        response = regulator.get(path)
        context = response.get_json()["linkset"][0]
        statements = [t for t in context[f"{GS1}traceability"] if t["href"] == expected]
        assert statements and statements[0]["type"] == "application/json"
        assert expected in response.headers["Link"]
        assert response.headers["Cache-Control"] == "no-store"
        signed = regulator.get(expected)
        assert signed.status_code == 200 and set(signed.get_json()) == {
            "protected",
            "payload",
            "signature",
        }
        # the GTIN's own level names no batch, so no statement there
        top = regulator.get(f"/01/{item['gtin']}?linkType=linkset").get_data(as_text=True)
        assert "statement.json" not in top
    finally:
        close(app)


def test_links_of_a_variant_and_of_one_unit_answer_at_their_own_levels(db, client, item):
    """Links as data at every level a GTIN has: the variant (/22/) and the unit (/21/,
    /235/) levels answer with their own links, and the levels above do not see them."""
    from tracemark.models import Product

    with db.sessions.begin() as session:
        product = session.query(Product).filter_by(gtin=item["gtin"]).one()
        for qualifiers, target in (
            ("/22/V1", "https://olivar.example/variant"),
            ("/10/L1/21/S9", "https://olivar.example/unit-s9"),
            ("/235/TPX-9", "https://olivar.example/tpx-9"),
        ):
            add_link(
                session,
                product,
                LinkData("gs1:instructions", target, {"en": "Use"}, qualifiers=qualifiers),
            )
    gtin, asked = item["gtin"], "?linkType=gs1:instructions"
    for path, target in (
        (f"/01/{gtin}/22/V1", "https://olivar.example/variant"),
        (f"/01/{gtin}/22/V1/10/L1", "https://olivar.example/variant"),  # up to the variant
        (f"/01/{gtin}/10/L1/21/S9", "https://olivar.example/unit-s9"),
        (f"/01/{gtin}/235/TPX-9", "https://olivar.example/tpx-9"),
    ):
        response = client.get(path + asked)
        assert (response.status_code, response.headers.get("Location")) == (307, target), path
    for path in (f"/01/{gtin}", f"/01/{gtin}/10/L1", f"/01/{gtin}/10/L1/21/S8"):
        assert client.get(path + asked).status_code == 404, path
    context = client.get(f"/01/{gtin}/10/L1/21/S9?linkType=linkset").get_json()["linkset"][0]
    assert [t["href"] for t in context[f"{GS1}instructions"]] == ["https://olivar.example/unit-s9"]
    assert f"{GS1}pip" in context and f"{GS1}recallStatus" in context  # the levels above
