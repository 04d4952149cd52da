"""Writing what the resolver knows: RFC 9264 linksets, ``Link`` headers (RFC 8288) and
the resolver description file (``/.well-known/gs1resolver``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from tracemark.resolver.resolve import Link, Resolution
from tracemark.resolver.vocabulary import GS1_LINK_TYPES, GS1_NAMESPACE, uri

LINKSET_TYPE = "application/linkset+json"
DEFAULT_LINK = GS1_NAMESPACE + "defaultLink"


def linkset_url(base: str, path: str) -> str:
    """Where the linkset of the identifier at ``path`` (canonical) is served."""
    return f"{base}{path}?linkType=linkset"


def target(link: Link) -> dict[str, Any]:
    """One target object: href, title (and every title by language), type, hreflang."""
    body: dict[str, Any] = {"href": link.href, "title": link.title}
    if len(link.titles) > 1:
        body["title*"] = [
            {"value": text, "language": locale.replace("_", "-")}
            for locale, text in sorted(link.titles.items())
        ]
    if link.media_type:
        body["type"] = link.media_type
    if link.hreflang:
        body["hreflang"] = [link.hreflang]
    return body


def build(resolution: Resolution, base: str, languages: Sequence[str] = ()) -> dict[str, Any]:
    """The RFC 9264 JSON linkset: one context object whose anchor is the request's
    uncompressed, canonical URI, holding the links of every level up to the GTIN by
    relation type URI, and the default link as ``gs1:defaultLink``."""
    context: dict[str, Any] = {
        "anchor": base + resolution.identifier.path,
        "itemDescription": resolution.item_description,
    }
    for link in resolution.links:
        context.setdefault(uri(link.link_type), []).append(target(link))
    default = resolution.choose(None, languages)
    if default is not None:
        context[DEFAULT_LINK] = [target(default)]
    return {"linkset": [context]}


def _quoted(name: str, value: str) -> str:
    """A Link header parameter: a quoted string, or RFC 8187 ``name*`` beyond ASCII."""
    if value.isascii() and value.isprintable():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}="{escaped}"'
    return f"{name}*=UTF-8''{quote(value, safe='')}"


def header_entry(href: str, rel: str, **params: str | None) -> str:
    parts = [f"<{quote(href, safe=':/?#[]@!$&()*+,;=%~-._')}>", f'rel="{rel}"']
    parts.extend(_quoted(name, value) for name, value in params.items() if value)
    return "; ".join(parts)


def linkset_entry(base: str, path: str) -> str:
    """The ``Link`` header entry every answer carries: where its linkset is."""
    return header_entry(linkset_url(base, path), "linkset", type=LINKSET_TYPE, title="Linkset")


def same_as_entry(uncompressed: str) -> str:
    """The ``Link`` header entry of a compressed request naming its uncompressed URI,
    titled like every link the resolver exposes."""
    return header_entry(uncompressed, "owl:sameAs", title="Uncompressed GS1 Digital Link")


def link_header(resolution: Resolution, base: str) -> str:
    """The ``Link`` header of a resolver answer: the linkset, then every link the caller
    may see (target, relation type, title, language, media type)."""
    entries = [linkset_entry(base, resolution.identifier.path)]
    for link in resolution.links:
        entries.append(
            header_entry(
                link.href,
                uri(link.link_type),
                title=link.title,
                hreflang=link.hreflang,
                type=link.media_type,
            )
        )
    return ", ".join(entries)


def description(base: str, name: str) -> dict[str, Any]:
    """The resolver description file (GS1 Digital Link: resolver description)."""
    return {
        "name": name,
        "resolverRoot": base,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_NAMESPACE, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": True,
        "linkTypes": sorted(f"gs1:{term}" for term in GS1_LINK_TYPES),
        "supportedQualifiers": {"01": ["22", "10", "21", "235"]},
    }
