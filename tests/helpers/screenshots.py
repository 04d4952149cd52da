"""Screenshots compared with stored reference pictures, so that a layout change is seen.

A pixel differs when one of its channels is off by more than :data:`CHANNEL_TOLERANCE`
(of 255); a screenshot matches when it has the reference's size and at most
:data:`MAX_DIFFERING` of its pixels differ. The small tolerance absorbs what
anti-aliasing may vary; a moved or resized box, a new colour or a changed line break
changes far more pixels than that. When a screenshot does not match, the reference, the
screenshot and a diff picture (the reference faded, differing pixels red) are written
next to the screenshot under ``test-artifacts/``: look at them, and if the change is
meant, store the new pictures with ``TRACEMARK_UPDATE_SCREENSHOTS=1`` (which rewrites the
references that do not match and creates missing ones, leaving matching ones untouched).

The pictures are only comparable when the browser draws the same way on every run: see
``LAUNCH_ARGS`` in :mod:`tests.helpers.browser` and :func:`fixed_clock` for the dates.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops

from tracemark.models import base

CHANNEL_TOLERANCE = 8
MAX_DIFFERING = 0.002
#: when pages are drawn with :func:`fixed_clock`: a morning, so a test run never
#: crosses midnight, after the production and journey dates of ``tests.conftest.furnish``
FIXED_NOW = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)


def updating() -> bool:
    return os.environ.get("TRACEMARK_UPDATE_SCREENSHOTS") == "1"


def mismatch(png: bytes, reference: Path, artifacts: Path) -> str | None:
    """Compare the screenshot ``png`` with the picture at ``reference``: ``None`` when it
    matches, else what differs (the pictures to look at are then in ``artifacts``).

    With ``TRACEMARK_UPDATE_SCREENSHOTS=1`` a missing or differing reference is replaced
    by the screenshot and ``None`` is returned."""
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    problem = _difference(shot, reference)
    if problem is None:
        return None
    if updating():
        reference.parent.mkdir(parents=True, exist_ok=True)
        shot.save(reference, optimize=True)
        return None
    artifacts.mkdir(parents=True, exist_ok=True)
    shot.save(artifacts / f"{reference.stem}-actual.png")
    if reference.exists():
        stored = Image.open(reference).convert("RGB")
        stored.save(artifacts / f"{reference.stem}-reference.png")
        if stored.size == shot.size:
            _diff_picture(stored, shot).save(artifacts / f"{reference.stem}-diff.png")
    return f"{reference.name}: {problem} (see {artifacts}/{reference.stem}-*.png)"


def _difference(shot: Image.Image, reference: Path) -> str | None:
    if not reference.exists():
        return "no reference picture: store one with TRACEMARK_UPDATE_SCREENSHOTS=1"
    stored = Image.open(reference).convert("RGB")
    if stored.size != shot.size:
        return f"size {shot.size}, reference {stored.size}"
    differing = _differing(stored, shot).histogram()[255]
    share = differing / (shot.size[0] * shot.size[1])
    if share > MAX_DIFFERING:
        return f"{differing} pixels differ ({share:.2%}, at most {MAX_DIFFERING:.2%} may)"
    return None


def _differing(a: Image.Image, b: Image.Image) -> Image.Image:
    """A mask: 255 where some channel differs by more than the tolerance, else 0."""
    channels = ImageChops.difference(a, b).point(
        lambda value: 255 if value > CHANNEL_TOLERANCE else 0
    )
    red, green, blue = channels.split()
    return ImageChops.lighter(ImageChops.lighter(red, green), blue)


def _diff_picture(stored: Image.Image, shot: Image.Image) -> Image.Image:
    faded = Image.blend(stored, Image.new("RGB", stored.size, "white"), 0.7)
    faded.paste((255, 0, 0), mask=_differing(stored, shot))
    return faded


def fixed_clock(monkeypatch, at: dt.datetime = FIXED_NOW) -> None:
    """Make the application's clock (``tracemark.models.base.utcnow``, wherever it was
    imported) start at ``at`` and tick on from there, so that dates on pages ("scanned
    since", "registered on") are the same on every run. Only the application's own modules
    are patched: the test tools and the browser driver keep the real time."""
    real, started = base.utcnow, time.monotonic()

    def utcnow() -> dt.datetime:
        return at + dt.timedelta(seconds=time.monotonic() - started)

    ours = ("tracemark", "portal", "admin", "api")
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ours and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", utcnow)
