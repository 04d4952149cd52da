"""A brand's resolver links from its own systems (PIM, CMS): list, add, replace, delete.

Reading takes the ``read`` scope; changing the ``issue`` scope (the one for catalog
production data). Each change is audited by the core operation, naming the token.
"""

from __future__ import annotations

from flask import jsonify

from api.access import ApiError, bp, budget_key, made, not_found, requires, token
from api.bodies import body_of
from tracemark import catalog, errors
from tracemark.audit import Actor
from tracemark.models import Audience, Product, ResolverLink
from tracemark.models.base import as_utc
from tracemark.resolver import links as resolver_links
from tracemark.web import db_session, rate_limited


def link_json(link: ResolverLink, gtin: str) -> dict:
    return {
        "id": link.id,
        "gtin": gtin,
        "qualifiers": link.qualifiers,
        "link_type": link.link_type,
        "target": link.target,
        "titles": dict(link.titles),
        "hreflang": link.hreflang,
        "media_type": link.media_type,
        "default": link.is_default,
        "audience": link.audience.value,
        "created_at": as_utc(link.created_at).isoformat(),
    }


def _product(gtin: str) -> Product:
    try:
        return catalog.find_product(db_session(), token().brand, gtin)
    except (errors.NotFound, ValueError):
        raise not_found() from None


def _source() -> str:
    return f"api:{token().prefix}"


@bp.get("/brands/<slug>/products/<gtin>/links")
@rate_limited("api", key=budget_key)
@requires("read")
def list_links(slug: str, gtin: str):
    product = _product(gtin)
    links = resolver_links.links_of_product(db_session(), product)
    return jsonify({"links": [link_json(link, product.gtin) for link in links]})


def _link_data(body: dict) -> resolver_links.LinkData:
    return resolver_links.LinkData(
        link_type=body["link_type"],
        target=body["target"],
        titles=body["titles"],
        qualifiers=body.get("qualifiers") or "",
        hreflang=body.get("hreflang"),
        media_type=body.get("media_type"),
        is_default=bool(body.get("default", False)),
        audience=Audience(body.get("audience", "public")),
    )


def _refused(problem: resolver_links.LinkError) -> ApiError:
    return ApiError(422, problem.code, str(problem), path=f"$.{problem.field}")


def _own_link(link_id: int) -> ResolverLink:
    link = db_session().get(ResolverLink, link_id)
    if link is None or link.brand_id != token().brand.id:
        raise not_found()
    return link


@bp.post("/brands/<slug>/products/<gtin>/links")
@rate_limited("api", key=budget_key)
@requires("issue")
def create_link(slug: str, gtin: str):
    """A link of the product (or one of its levels): 201 with the link."""
    body = body_of("NewLink")
    product = _product(gtin)
    session = db_session()
    try:
        link = resolver_links.add_link(
            session, product, _link_data(body), source=_source(), actor=Actor.of_token(token())
        )
    except resolver_links.LinkError as problem:
        raise _refused(problem) from None
    return made(session, link_json(link, product.gtin))


@bp.put("/brands/<slug>/links/<id:link_id>")
@rate_limited("api", key=budget_key)
@requires("issue")
def replace_link(slug: str, link_id: int):
    """Every field of the link replaced by the body's (a title left out is removed): 200
    with the link. ``default: true`` takes the flag from the other links of its level."""
    body = body_of("NewLink")
    link = _own_link(link_id)
    session = db_session()
    try:
        resolver_links.update_link(
            session, link, _link_data(body), source=_source(), actor=Actor.of_token(token())
        )
    except resolver_links.LinkError as problem:
        raise _refused(problem) from None
    session.commit()
    return jsonify(link_json(link, session.get_one(Product, link.product_id).gtin))


@bp.delete("/brands/<slug>/links/<id:link_id>")
@rate_limited("api", key=budget_key)
@requires("issue")
def delete_link(slug: str, link_id: int):
    session = db_session()
    resolver_links.delete_link(
        session, _own_link(link_id), source=_source(), actor=Actor.of_token(token())
    )
    session.commit()
    return "", 204
