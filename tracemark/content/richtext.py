"""Stories: Markdown source → HTML that is safe to put in the portal page.

Rendering is CommonMark (markdown-it-py) with raw HTML switched off, so HTML a brand types
shows as text and never as markup; the result then goes through an allow-list sanitiser
(nh3) as a second, independent wall: paragraphs, emphasis, lists, quotes, code, headings
h2-h4, links to http(s) and mailto (``rel="nofollow noopener"``), and pictures only from the
batch's own stored images, written ``![alt](image:ID)`` in the source.

Stories are rendered when read, not when saved: the source stays the one truth, a better
sanitiser applies to every story at once, and image addresses (which name the content's
hash) are always current. The batch view caches the result, so a story is rendered about
once per locale and cache lifetime, not per scan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from tracemark.content.images import REFERENCE, image_path
from tracemark.models import Image

_markdown = MarkdownIt("commonmark", {"html": False})
_LINK_SCHEMES = re.compile(r"(?:https?:|mailto:)", re.IGNORECASE)
_IMAGE_SRC = re.compile(r"/images/[0-9]{1,10}/[0-9a-f]{64}\.(?:png|jpg|webp)")
_TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "h2", "h3", "h4", "a", "img",
         "blockquote", "code", "pre", "hr"}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding"},
    "ol": {"start"},
}


def _attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "a" and name == "href":
        return value if _LINK_SCHEMES.match(value) else None
    if tag == "img" and name == "src":
        return value if _IMAGE_SRC.fullmatch(value) else None
    return value


_cleaner = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute,
    link_rel="nofollow noopener",
)


def render(source: str, images: Mapping[int, Image]) -> Markup:
    """``source`` (Markdown) as sanitised HTML.

    ``images`` are the pictures the story may show, by id (its batch's); a reference to any
    other id, and any other picture address, is dropped and its alt text kept.
    """
    tokens = _markdown.parse(source)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(max(int(token.tag[1]), 2), 4)}"
        dropping = False
        for child in token.children or ():
            if child.type == "image":
                _resolve(child, images)
            elif child.type == "link_open" and not _LINK_SCHEMES.match(child.attrs["href"]):
                child.type, child.tag, child.attrs, dropping = "text", "", {}, True
            elif child.type == "link_close" and dropping:  # links do not nest
                child.type, child.tag, dropping = "text", "", False
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return Markup(_cleaner.clean(html))  # noqa: S704  (sanitised just now)


def _resolve(token: Token, images: Mapping[int, Image]) -> None:
    """Point an image token at the stored picture it names, or turn it into its alt text."""
    match = REFERENCE.fullmatch(str(token.attrs.get("src", "")))
    image = images.get(int(match.group(1))) if match else None
    if image is None:
        token.type, token.tag, token.attrs = "text", "", {}
        token.content = "".join(child.content for child in token.children or ())
        token.children = None
        return
    token.attrs = {
        "src": image_path(image),
        "width": str(image.width),
        "height": str(image.height),
        "loading": "lazy",
        "decoding": "async",
        **({"title": token.attrs["title"]} if token.attrs.get("title") else {}),
    }
