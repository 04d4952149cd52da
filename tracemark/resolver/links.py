"""Operations on a brand's resolver links: add, change, make default, remove; each
writes its own audit entry.

Callers pass the ``audit.Actor`` (a member, an API token, the CLI; the demo is the
system) and commit; the entry is written in the same transaction. ``source`` names the
caller in the entry's details when it is no person (an API token's prefix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import audit, catalog
from tracemark.i18n import normalize
from tracemark.models import Audience, Brand, Product, ResolverLink
from tracemark.resolver.identifiers import SyntaxProblem, parse
from tracemark.resolver.vocabulary import UnknownLinkType, compact

MAX_TITLE = 200
MAX_TARGET = 1000


class LinkError(ValueError):
    """A link that cannot be stored; ``field`` names the culprit, ``code`` is stable."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True, slots=True)
class LinkData:
    """What a link is, as a form or an API body gives it (checked by :func:`check`)."""

    link_type: str
    target: str
    titles: Mapping[str, str]
    qualifiers: str = ""
    hreflang: str | None = None
    media_type: str | None = None
    is_default: bool = False
    audience: Audience = Audience.PUBLIC


def check(product: Product, data: LinkData) -> dict:
    """The column values for ``data`` on ``product``.

    :raises LinkError: ``link_type`` unknown, ``target`` not an absolute http(s) URL,
        ``titles`` empty or of an unsupported locale, ``qualifiers`` not a Digital Link
        qualifier path, ``hreflang`` or ``media_type`` malformed.
    """
    try:
        link_type = compact(data.link_type)
    except UnknownLinkType:
        raise LinkError("link_type", "unknown_link_type", "not a known link type") from None
    target = data.target.strip()
    parts = urlsplit(target) if target.isascii() and target.isprintable() else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(target) > MAX_TARGET
    ):
        raise LinkError("target", "bad_target", "a target is an absolute http(s) URL")
    titles = {}
    for locale, text in data.titles.items():
        code = normalize(locale)
        text = (text or "").strip()
        if code is None or code != locale:
            raise LinkError("titles", "bad_locale", f"unsupported locale {locale!r}")
        if text:
            if len(text) > MAX_TITLE:
                raise LinkError("titles", "title_too_long", "a title has at most 200 characters")
            titles[code] = text
    if not titles:
        raise LinkError("titles", "title_required", "a link needs a title")
    qualifiers = data.qualifiers.strip().rstrip("/")
    try:
        parsed = parse(f"/01/{product.gtin}{qualifiers}")
    except SyntaxProblem:
        raise LinkError("qualifiers", "bad_qualifiers", "not a qualifier path") from None
    hreflang = (data.hreflang or "").strip() or None
    if hreflang is not None and not _is_language_tag(hreflang):
        raise LinkError("hreflang", "bad_hreflang", "not a language tag")
    media_type = (data.media_type or "").strip() or None
    if media_type is not None and not _is_media_type(media_type):
        raise LinkError("media_type", "bad_media_type", "not a media type")
    return {
        "link_type": link_type,
        "target": target,
        "titles": titles,
        "qualifiers": parsed.path[len(f"/01/{product.gtin}") :],
        "hreflang": hreflang,
        "media_type": media_type,
        "is_default": bool(data.is_default),
        "audience": Audience(data.audience),
    }


def _is_language_tag(tag: str) -> bool:
    pieces = tag.split("-")
    return (
        len(tag) <= 35
        and 2 <= len(pieces[0]) <= 3
        and all(piece.isascii() and piece.isalnum() and 1 <= len(piece) <= 8 for piece in pieces)
    )


def _is_media_type(value: str) -> bool:
    kind, slash, sub = value.partition("/")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789!#$&-^_.+")
    return (
        bool(slash)
        and len(value) <= 100
        and bool(kind)
        and bool(sub)
        and set(kind.lower()) <= allowed
        and set(sub.lower()) <= allowed
    )


def check_owner(session: Session, product: Product) -> None:
    """A brand publishes links only for GTINs under the GS1 company prefixes it holds.

    :raises LinkError: ``foreign_gtin``.
    """
    try:
        catalog.check_gtin_owner(session, session.get_one(Brand, product.brand_id), product.gtin)
    except catalog.ForeignGtin:
        raise LinkError(
            "gtin", "foreign_gtin", "the GTIN is under none of the brand's company prefixes"
        ) from None


def _details(link: ResolverLink, source: str | None = None) -> dict:
    return {
        **({"source": source} if source else {}),
        "gtin_level": link.qualifiers,
        "link_type": link.link_type,
        "target": link.target,
        "titles": dict(link.titles),
        "audience": link.audience.value,
        "default": link.is_default,
    }


def add_link(
    session: Session,
    product: Product,
    data: LinkData,
    *,
    actor: audit.Actor = audit.SYSTEM,
    source: str | None = None,
) -> ResolverLink:
    """Add a link to ``product`` (or one of its levels), audited as ``link.create`` by
    ``actor``. A default link takes the flag from the other links of its level.

    :raises LinkError: see :func:`check`; ``foreign_gtin`` when the product's GTIN is
        under no GS1 company prefix its brand holds.
    """
    check_owner(session, product)
    values = check(product, data)
    link = ResolverLink(brand_id=product.brand_id, product_id=product.id, **values)
    session.add(link)
    session.flush()
    cleared = _clear_other_defaults(session, link) if link.is_default else []
    _audit(session, "link.create", link, actor, source, **({"cleared": cleared} if cleared else {}))
    return link


def update_link(
    session: Session,
    link: ResolverLink,
    data: LinkData,
    *,
    actor: audit.Actor = audit.SYSTEM,
    source: str | None = None,
) -> ResolverLink:
    """Change every field of ``link`` to ``data`` (titles of every language at once: a
    language left out loses its title), audited as ``link.update`` with the fields before
    and after.

    :raises LinkError: as :func:`add_link`.
    """
    product = session.get_one(Product, link.product_id)
    check_owner(session, product)
    before = _details(link)
    for name, value in check(product, data).items():
        setattr(link, name, value)
    session.flush()
    cleared = _clear_other_defaults(session, link) if link.is_default else []
    _audit(session, "link.update", link, actor, source, before=before, cleared=cleared)
    return link


def set_default(
    session: Session,
    link: ResolverLink,
    *,
    actor: audit.Actor = audit.SYSTEM,
    source: str | None = None,
) -> ResolverLink:
    """Make ``link`` the default of its level: the link a request without ``linkType``
    goes to there; the other links of that level lose the flag. Audited as
    ``link.set_default``."""
    link.is_default = True
    cleared = _clear_other_defaults(session, link)
    _audit(session, "link.set_default", link, actor, source, cleared=cleared)
    return link


def _clear_other_defaults(session: Session, link: ResolverLink) -> list[int]:
    """One default link per level: the others of ``link``'s level lose the flag."""
    others = session.scalars(
        select(ResolverLink).where(
            ResolverLink.product_id == link.product_id,
            ResolverLink.qualifiers == link.qualifiers,
            ResolverLink.id != link.id,
            ResolverLink.is_default.is_(True),
        )
    ).all()
    for other in others:
        other.is_default = False
    session.flush()
    return [other.id for other in others]


def delete_link(
    session: Session,
    link: ResolverLink,
    *,
    actor: audit.Actor = audit.SYSTEM,
    source: str | None = None,
) -> None:
    """Remove ``link``, audited as ``link.delete`` with what it was."""
    _audit(session, "link.delete", link, actor, source)
    session.delete(link)
    session.flush()


def _audit(
    session: Session,
    action: str,
    link: ResolverLink,
    actor: audit.Actor,
    source: str | None,
    **extra,
) -> None:
    details = {**_details(link, source), **extra}
    audit.log(session, actor, action, "resolver_link", link.id, details, brand_id=link.brand_id)


def links_of_product(session: Session, product: Product) -> list[ResolverLink]:
    """The product's links, by level and then in the order they were added."""
    return list(
        session.scalars(
            select(ResolverLink)
            .where(ResolverLink.product_id == product.id)
            .order_by(ResolverLink.qualifiers, ResolverLink.id)
        )
    )
