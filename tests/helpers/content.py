"""Content for tests: camera pictures with EXIF, a check that rendered HTML is harmless,
and a batch furnished for the regulator's view."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from PIL import Image as Pillow

from tests.conftest import furnish
from tests.helpers.admin import Catalog
from tracemark import catalog
from tracemark.config import Settings
from tracemark.models import Batch

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def photo(size=(60, 40), fmt="JPEG", *, gps=True, orientation=None) -> bytes:
    """A picture with a camera's EXIF: GPS position, maker, and optionally an orientation."""
    picture = Pillow.new("RGB", size, (200, 120, 40))
    exif = Pillow.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[GPS_TAG] = {1: "N", 2: (37.0, 46.0, 12.0), 3: "W", 4: (3.0, 47.0, 24.0)}
    if orientation:
        exif[ORIENTATION_TAG] = orientation
    out = io.BytesIO()
    picture.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


class Elements(HTMLParser):
    """Every start tag of a fragment with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_harmless(html: str) -> None:
    for tag, attrs in Elements(html).found:
        assert tag not in {"script", "style", "iframe", "object", "embed", "svg", "math", "form"}
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in {"style", "srcset", "formaction"}, (tag, name)
            if name == "href":
                assert value.split(":")[0].lower() in {"http", "https", "mailto"}, value
            if name == "src":
                assert value.startswith("/images/7/"), value


STATEMENT_PASSPHRASE = "test-statement-passphrase"


def statement_settings(db) -> Settings:
    """Settings of a web app that holds the statement passphrase and not the code-key
    passphrase, as the regulator's view runs."""
    return Settings(
        database_url=db.url,
        secret_key="test",
        pin_secret="test-pin-secret",
        statement_passphrase=STATEMENT_PASSPHRASE,
    )


def furnished(db, shop: Catalog) -> None:
    """``shop``'s batch furnished as a consumer page shows it, and recalled."""
    with db.sessions.begin() as session:
        batch = session.get(Batch, shop.batch_id)
        furnish(session, batch)
        catalog.set_batch_status(session, batch, "recalled", {"en": "Return it to the shop."})
