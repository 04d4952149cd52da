"""Pictures for products and batch stories: checked by content, re-encoded, served by hash.

An upload is decoded with Pillow whatever its name or declared type says, refused unless
it is a PNG, JPEG or WebP within :data:`MAX_IMAGE_BYTES` and :data:`MAX_PIXELS`, then
re-encoded from its pixels alone: EXIF (GPS, camera, owner), XMP, ICC and text chunks do
not survive, and neither does anything a crafted file hid after its image data.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image as Pillow
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.content.stories import ContentError
from tracemark.models import Batch, BatchStory, Image, Product, PublishState

#: Largest upload accepted.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
#: Largest picture accepted, in pixels (decoding a bigger one could exhaust memory).
MAX_PIXELS = 40_000_000
#: Longest side stored: larger pictures are scaled down (phones show them a few hundred px wide).
MAX_SIDE = 2000
#: Pillow format → (content type, file extension).
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}
_EXTENSIONS = {content_type: ext for content_type, ext in FORMATS.values()}
#: How a story refers to one of its batch's pictures: ``![alt](image:12)``.
REFERENCE = re.compile(r"image:([0-9]{1,10})")


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    width: int
    height: int


def reencode(data: bytes) -> Encoded:
    """The picture in ``data`` decoded and written again in its own format, without metadata.

    The EXIF orientation is applied to the pixels first, so a photo stays upright. Animated
    pictures keep their first frame.

    :raises ContentError: empty or too large, not a PNG, JPEG or WebP by its content, over
        :data:`MAX_PIXELS`, or undecodable.
    """
    if not data:
        raise ContentError("the image is empty", "empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ContentError("an image can be at most 5 MB", "too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Pillow.DecompressionBombWarning)
            with Pillow.open(io.BytesIO(data), formats=list(FORMATS)) as picture:
                kind = picture.format
                if picture.width * picture.height > MAX_PIXELS:
                    raise ContentError("the image has too many pixels", "too_many_pixels")
                picture.load()
                upright = ImageOps.exif_transpose(picture)
    except ContentError:
        raise
    except (Pillow.DecompressionBombError, Pillow.DecompressionBombWarning) as error:
        raise ContentError("the image has too many pixels", "too_many_pixels") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ContentError("not a PNG, JPEG or WebP image") from error
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    # Pillow writes some metadata it read back out (a PNG's ICC profile): keep only what
    # the pixels need (a palette's transparent entry)
    upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    out = io.BytesIO()
    if kind == "JPEG":
        upright = upright if upright.mode in ("RGB", "L") else upright.convert("RGB")
        upright.save(out, "JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            upright = upright.convert("RGBA")
        upright.save(out, "PNG", optimize=True)
    else:
        upright = upright if upright.mode in ("RGB", "RGBA") else upright.convert("RGBA")
        upright.save(out, "WEBP", quality=85)
    return Encoded(out.getvalue(), FORMATS[kind][0], upright.width, upright.height)


def add_image(
    session: Session, owner: Product | Batch, data: bytes, alt: str = "", *, actor: Actor = SYSTEM
) -> Image:
    """Store the picture in ``data`` for a product or for a batch's stories (a draft);
    audited as ``image.add``.

    :raises ContentError: see :func:`reencode`; nothing is stored then.
    """
    encoded = reencode(data)
    image = Image(
        brand_id=owner.brand_id,
        product_id=owner.id if isinstance(owner, Product) else None,
        batch_id=owner.id if isinstance(owner, Batch) else None,
        content_type=encoded.content_type,
        width=encoded.width,
        height=encoded.height,
        size=len(encoded.data),
        sha256=hashlib.sha256(encoded.data).hexdigest(),
        alt=alt[:200],
        state=PublishState.DRAFT,
        data=encoded.data,
    )
    session.add(image)
    session.flush()
    kind = "product" if isinstance(owner, Product) else "batch"
    details = {kind: owner.id, "sha256": image.sha256, "size": image.size,
               "width": image.width, "height": image.height}  # fmt: skip
    audit.log(session, actor, "image.add", "image", image.id, details, brand_id=owner.brand_id)
    return image


def image_path(image: Image) -> str:
    """The portal address of ``image``; it names the content's hash, so it can be cached
    for as long as a browser likes (new content, new address)."""
    return f"/images/{image.id}/{image.sha256}.{_EXTENSIONS[image.content_type]}"


def images_of(session: Session, owner: Product | Batch) -> list[Image]:
    """A product's or a batch's pictures, oldest first (bytes not loaded)."""
    column = Image.product_id if isinstance(owner, Product) else Image.batch_id
    return list(session.scalars(select(Image).where(column == owner.id).order_by(Image.id)))


def get_image(session: Session, brand_id: int, image_id: int) -> Image | None:
    """The brand's image ``image_id``; None for an unknown one or another brand's."""
    image = session.get(Image, image_id)
    return image if image is not None and image.brand_id == brand_id else None


def references(body: str) -> set[int]:
    """The image ids a story's source refers to."""
    return {int(found) for found in REFERENCE.findall(body)}


def is_public(session: Session, image: Image) -> bool:
    """A product picture while published; a story picture while a published story of its
    batch shows it."""
    if image.product_id is not None:
        return image.state is PublishState.PUBLISHED
    bodies = session.scalars(
        select(BatchStory.body).where(
            BatchStory.batch_id == image.batch_id, BatchStory.state == PublishState.PUBLISHED
        )
    )
    return any(image.id in references(body) for body in bodies)


def set_state(image: Image, state: PublishState, *, actor: Actor = SYSTEM) -> bool:
    """Publish or withdraw a product picture (in its session); True when that changed
    something, audited then as ``image.state``.

    :raises ContentError: a story picture (it follows its stories instead).
    """
    if image.product_id is None:
        raise ContentError("a story image is public with the stories that show it")
    changed = image.state is not state
    image.state = state
    if changed:
        audit.log(
            object_session(image),
            actor,
            "image.state",
            "image",
            image.id,
            {"state": state.value},
            brand_id=image.brand_id,
        )
    return changed
