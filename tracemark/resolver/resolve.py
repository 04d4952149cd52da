"""Resolution: an identifier, a link type, the client's languages and who asks → the
links it may see and the one link that answers.

:func:`resolve` reads; :meth:`Resolution.choose` is a pure function of the links, so the
portal's redirect, the linkset and the ``Link`` header all agree on the default link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import catalog
from tracemark.accounts.users import role_in
from tracemark.models import Audience, Product, ResolverLink, Role, User
from tracemark.resolver.identifiers import DigitalLink

_RANK = {Audience.PUBLIC: 0, Audience.REGULATOR: 1, Audience.BRAND: 2}
_TIER_OF_ROLE = {
    Role.OWNER: Audience.BRAND,
    Role.STAFF: Audience.BRAND,
    Role.MARKETING: Audience.BRAND,
    Role.REGULATOR: Audience.REGULATOR,
}


@dataclass(frozen=True, slots=True)
class Link:
    """One link as a client sees it: the title already chosen for its language."""

    link_type: str
    href: str
    title: str
    titles: dict[str, str] = field(default_factory=dict)
    hreflang: str | None = None
    media_type: str | None = None
    is_default: bool = False
    #: The qualifier path of the level it belongs to (``""``: the GTIN).
    level: str = ""
    audience: Audience = Audience.PUBLIC
    #: A link of Tracemark's own (the verdict page, recall status…), not stored.
    builtin: bool = False


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the resolver knows of one identifier for one caller."""

    identifier: DigitalLink
    brand_id: int
    item_description: str
    #: Most specific level first; within a level, default links first.
    links: list[Link]
    tier: Audience = Audience.PUBLIC

    def choose(self, link_type: str | None, languages: Sequence[str] = ()) -> Link | None:
        """The link answering a request for ``link_type`` (compact form; None: the
        default link), in the client's ``languages`` (best first), or None.

        The most specific level having such a link wins; within it, the first link whose
        language matches the client's earliest language, else one without a language,
        else the first. Without a link type, links flagged default come first, and with
        none flagged the most specific level's first link of the brand's own is the
        default; the flag chooses the link type, the languages then choose among its
        links. A built-in link (recall status, test reports…) is the default only when
        flagged (the verdict page of a signed unit): where the brand gave no link, the
        answer is None and the linkset is the default, not a JSON document a shopper
        would land on.
        """
        if link_type is None:
            flagged = [link for link in self.links if link.is_default] or [
                link for link in self.links if not link.builtin
            ]
            if not flagged:
                return None
            link_type = flagged[0].link_type
        candidates = [link for link in self.links if link.link_type == link_type]
        if not candidates:
            return None
        level = candidates[0].level
        return by_language([link for link in candidates if link.level == level], languages)


def by_language(links: Sequence[Link], languages: Sequence[str]) -> Link:
    """The link for the earliest of ``languages`` that one of ``links`` is in; else one
    with no language; else the first."""
    for tag in languages:
        primary = _primary(tag)
        for link in links:
            if link.hreflang and _primary(link.hreflang) == primary:
                return link
    for link in links:
        if not link.hreflang:
            return link
    return links[0]


def title_for(titles: dict[str, str], languages: Sequence[str], fallback: str) -> str:
    """The title in the earliest of ``languages`` there is one for, else English, else any."""
    by_primary = {_primary(tag): text for tag, text in titles.items() if text}
    for tag in (*languages, "en"):
        if titles.get(tag):
            return titles[tag]
        if _primary(tag) in by_primary:
            return by_primary[_primary(tag)]
    return next(iter(by_primary.values()), fallback)


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


def tier_of(session: Session, user: User | None, brand_id: int) -> Audience:
    """The audience a caller belongs to for one brand's links: the brand's own members
    see everything, its regulators public and regulator links, everyone else public."""
    if user is None:
        return Audience.PUBLIC
    role = role_in(session, user, brand_id)
    return _TIER_OF_ROLE.get(role, Audience.PUBLIC) if role is not None else Audience.PUBLIC


def visible(audience: Audience, tier: Audience) -> bool:
    return _RANK[audience] <= _RANK[tier]


def owning_product(session: Session, gtin: str) -> Product | None:
    """The product a GTIN names: the product of the brand holding the GTIN's company
    prefix; for a GTIN under no claimed prefix, the first registered."""
    query = select(Product).where(Product.gtin == gtin).order_by(Product.id)
    holder = catalog.prefix_holder(session, gtin)
    if holder is not None:
        query = query.where(Product.brand_id == holder)
    return session.scalars(query).first()


def resolve(
    session: Session,
    identifier: DigitalLink,
    *,
    base: str,
    languages: Sequence[str] = (),
    user: User | None = None,
) -> Resolution | None:
    """The links of ``identifier`` and every level above it that ``user`` (None: an
    anonymous client) may see, titled for ``languages``; None when no product has the
    GTIN. Qualifiers nobody published links for fall back to the levels above them.

    ``base`` is the resolver's origin (``https://host``), for links to its own pages.
    """
    from tracemark.resolver import builtin  # (builtin builds Links: it imports this module)

    product = owning_product(session, identifier.gtin)
    if product is None:
        return None
    tier = tier_of(session, user, product.brand_id)
    levels = identifier.levels
    rank = {level: i for i, level in enumerate(levels)}
    rows = session.scalars(
        select(ResolverLink)
        .where(ResolverLink.product_id == product.id, ResolverLink.qualifiers.in_(levels))
        .order_by(ResolverLink.id)
    ).all()
    links = [
        Link(
            link_type=row.link_type,
            href=row.target,
            title=title_for(row.titles, languages, row.link_type),
            titles=dict(row.titles),
            hreflang=row.hreflang,
            media_type=row.media_type,
            is_default=row.is_default,
            level=row.qualifiers,
            audience=row.audience,
        )
        for row in rows
        if visible(row.audience, tier)
    ]
    links.extend(builtin.verification_link(identifier, base, languages))
    links.extend(
        link
        for link in builtin.batch_links(session, product, identifier, base, languages)
        if visible(link.audience, tier)
    )
    links.sort(key=lambda link: (rank[link.level], not link.is_default))
    return Resolution(identifier, product.brand_id, _description(product, languages), links, tier)


def _description(product: Product, languages: Sequence[str]) -> str:
    names = {"en": product.name}
    names.update(
        (locale, texts["name"])
        for locale, texts in (product.texts or {}).items()
        if texts.get("name")
    )
    return title_for(names, languages, product.name)
