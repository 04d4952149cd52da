"""Label files for a batch: a PDF sheet, a ZIP of SVG or PNG, or a CSV of URLs.

Files are written next to their destination and renamed into place only when complete,
so an interrupted or failed render (a full disk, say) never leaves a partial file where
a printer would pick it up.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from tracemark.codes.printing import batch_urls
from tracemark.labels import render as labels
from tracemark.models import Batch

FORMATS = ("pdf", "svg", "png", "csv")


#: Labels between two progress reports of a ZIP or CSV (a PDF reports every page).
PROGRESS_EVERY = 500


def batch_labels(
    session: Session,
    batch: Batch,
    default_base: str,
    pin_key: bytes | None = None,
    *,
    job_id: int | None = None,
) -> Iterator[labels.Label]:
    for serial, url, pin in batch_urls(session, batch, default_base, pin_key, job_id=job_id):
        yield labels.Label(url=url, caption=serial, pin=pin)


def write(
    session: Session,
    batch: Batch,
    fmt: str,
    path: Path,
    default_base: str,
    *,
    columns: int = 4,
    rows: int = 6,
    progress: Callable[[int, int | None], None] | None = None,
    pin_key: bytes | None = None,
    job_id: int | None = None,
) -> int:
    """Render ``batch``'s labels (job ``job_id``'s only, when given) as ``fmt`` to
    ``path``; returns the number of labels.

    With ``pin_key`` (CSV only) each row also carries the unit's scratch-off PIN.
    ``progress(done, None)`` is called every page of a PDF, every
    :data:`PROGRESS_EVERY` labels otherwise; an exception it raises stops the render and
    leaves no file.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if pin_key is not None and fmt != "csv":
        raise ValueError("PINs are written to CSV only: they are printed apart from the code")
    items = batch_labels(session, batch, default_base, pin_key, job_id=job_id)
    if progress is not None and fmt != "pdf":
        items = _counted(items, progress)
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w" if fmt == "csv" else "wb", **_text(fmt)) as out:
            if fmt == "pdf":
                count = labels.write_pdf_sheet(
                    items, out, columns=columns, rows=rows, progress=progress
                )
            elif fmt == "csv":
                count = labels.write_csv(items, out, with_pin=pin_key is not None)
            else:
                count = _write_zip(items, out, fmt)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _counted(
    items: Iterator[labels.Label], progress: Callable[[int, int | None], None]
) -> Iterator[labels.Label]:
    count = 0
    for count, item in enumerate(items, 1):
        yield item
        if count % PROGRESS_EVERY == 0:
            progress(count, None)
    progress(count, None)


def _text(fmt: str) -> dict[str, str]:
    return {"encoding": "ascii", "newline": ""} if fmt == "csv" else {}


def _write_zip(items: Iterator[labels.Label], out, fmt: str) -> int:
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for label in items:
            if fmt == "svg":
                archive.writestr(f"{label.caption}.svg", labels.label_svg(label))
            else:
                archive.writestr(f"{label.caption}.png", labels.label_png(label))
            count += 1
    return count
