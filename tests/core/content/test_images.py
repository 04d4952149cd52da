"""Pictures: checked by content, metadata stripped, limits, and when they are public."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image as Pillow
from PIL import ImageCms, PngImagePlugin

from tests.helpers.content import GPS_TAG, photo
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.content.stories import ContentError
from tracemark.models import PublishState


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` by ``height`` pixels (a decompression bomb's
    opening, without its memory cost)."""
    out = io.BytesIO()
    Pillow.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_exif_and_gps_are_stripped(fmt):
    original = photo(fmt=fmt)
    assert Pillow.open(io.BytesIO(original)).getexif().get(GPS_TAG) is not None
    encoded = images.reencode(original)
    stored = Pillow.open(io.BytesIO(encoded.data))
    assert stored.format == fmt and dict(stored.getexif()) == {}
    assert b"Exif" not in encoded.data and b"PhoneMaker" not in encoded.data
    assert (encoded.width, encoded.height) == (60, 40)
    assert encoded.content_type == images.FORMATS[fmt][0]


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    encoded = images.reencode(photo((60, 40), orientation=6))  # rotated 90°
    assert (encoded.width, encoded.height) == (40, 60)


def test_png_text_chunks_do_not_survive():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret, +34 600 000 000")
    out = io.BytesIO()
    Pillow.new("RGBA", (8, 8)).save(out, "PNG", pnginfo=info)
    assert b"Jane Secret" in out.getvalue()
    assert b"Jane Secret" not in images.reencode(out.getvalue()).data


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_colour_profiles_and_xmp_do_not_survive(fmt):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    xmp = b"<x:xmpmeta>Jane Secret</x:xmpmeta>"
    Pillow.new("RGB", (8, 8)).save(out, fmt, icc_profile=profile, xmp=xmp)
    assert Pillow.open(io.BytesIO(out.getvalue())).info.get("icc_profile")
    stored = images.reencode(out.getvalue()).data
    assert b"Jane Secret" not in stored
    assert not Pillow.open(io.BytesIO(stored)).info.get("icc_profile")


def test_a_palette_keeps_its_transparency():
    out = io.BytesIO()
    picture = Pillow.new("P", (4, 4), 0)
    picture.putpalette([0, 0, 0, 255, 0, 0])
    picture.putpixel((1, 1), 1)
    picture.save(out, "PNG", transparency=0)
    assert Pillow.open(io.BytesIO(out.getvalue())).convert("RGBA").getpixel((0, 0))[3] == 0
    stored = Pillow.open(io.BytesIO(images.reencode(out.getvalue()).data))
    assert stored.mode == "P" and stored.convert("RGBA").getpixel((0, 0))[3] == 0


def test_trailing_bytes_after_the_picture_do_not_survive():
    polyglot = photo(gps=False) + b"<script>alert(1)</script>"
    assert b"<script>" not in images.reencode(polyglot).data


def test_large_pictures_are_scaled_down():
    encoded = images.reencode(photo((3000, 1000), gps=False))
    assert (encoded.width, encoded.height) == (images.MAX_SIDE, 667)


def _gif() -> bytes:
    out = io.BytesIO()
    Pillow.new("RGB", (4, 4)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"MZ\x90\x00" + b"\x00" * 200, "type"),  # a Windows program
        (b"<html><script>alert(1)</script></html>", "type"),
        (b"%PDF-1.4\n%%EOF\n", "type"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "type"),
        (_gif(), "type"),  # a real picture, but not of an accepted kind
        (photo(gps=False)[:200], "type"),  # truncated
        (png_claiming(7_000, 7_000), "too_many_pixels"),
        (png_claiming(50_000, 50_000), "too_many_pixels"),
        (b"\xff\xd8\xff" + b"\x00" * images.MAX_IMAGE_BYTES, "too_large"),
    ],
    ids=["empty", "exe", "html", "pdf", "svg", "gif", "truncated", "49mpx", "bomb", "oversize"],
)
def test_what_is_not_an_accepted_picture_is_refused(data, reason):
    with pytest.raises(ContentError) as refused:
        images.reencode(data)
    assert refused.value.reason == reason


def test_story_pictures_are_public_only_while_a_published_story_shows_them(db, demo):
    with db.sessions.begin() as session:
        batch, product = session.merge(demo.batch), session.merge(demo.product)
        picture = images.add_image(session, batch, photo(), "Grove")
        other = images.add_image(session, batch, photo((30, 30)), "Unused")
        item = images.add_image(session, product, photo(gps=False), "Bottle")
        # the same pixels with and without a position: the same stored bytes
        assert item.sha256 == picture.sha256 != other.sha256
        assert not images.is_public(session, picture)
        story = content.add_story(session, batch, "en", "T", f"![Grove](image:{picture.id})")
        assert not images.is_public(session, picture)  # the story is a draft
        content.set_state(story, PublishState.PUBLISHED)
        session.flush()
        assert images.is_public(session, picture) and not images.is_public(session, other)
        assert not images.is_public(session, item)
        assert images.set_state(item, PublishState.PUBLISHED)
        assert images.is_public(session, item)
        with pytest.raises(ContentError):
            images.set_state(picture, PublishState.PUBLISHED)
        assert [i.id for i in images.images_of(session, batch)] == [picture.id, other.id]
        assert images.get_image(session, demo.brand.id + 10_000, picture.id) is None
