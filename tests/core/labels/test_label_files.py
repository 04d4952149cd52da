"""Issued codes → label files → a real QR decoder → the portal says genuine."""

import csv
import io
import zipfile

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from tests.conftest import PASSPHRASE
from tracemark.codes import issuance
from tracemark.labels import files as label_files


@pytest.fixture
def batch(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 10, PASSPHRASE)
    return demo.batch


def _path(url: str) -> str:
    return url[url.index("/01/") :]


def test_pdf_sheet_decodes_and_every_code_is_genuine(db, batch, client, tmp_path):
    out = tmp_path / "labels.pdf"
    with db.sessions() as session:
        count = label_files.write(
            session, session.merge(batch), "pdf", out, "http://x", columns=3, rows=3
        )
    assert count == 10
    document = pdfium.PdfDocument(str(out))
    assert len(document) == 2
    decoded = []
    for page in document:
        image = page.render(scale=3).to_pil()
        decoded += [result.text for result in zxingcpp.read_barcodes(image)]
    assert len(decoded) == 10
    with db.sessions() as session:
        csv_out = tmp_path / "labels.csv"
        label_files.write(session, session.merge(batch), "csv", csv_out, "http://x")
    rows = list(csv.DictReader(csv_out.open()))
    assert sorted(decoded) == sorted(row["url"] for row in rows)
    for url in decoded:
        page = client.get(_path(url)).get_data(as_text=True)
        assert 'data-verdict="genuine_first_scan"' in page


def test_png_zip_decodes(db, batch, tmp_path):
    out = tmp_path / "labels.zip"
    with db.sessions() as session:
        assert (
            label_files.write(session, session.merge(batch), "png", out, "https://t.example") == 10
        )
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        image = Image.open(io.BytesIO(archive.read(names[0])))
    (result,) = zxingcpp.read_barcodes(image)
    assert result.text.startswith("HTTPS://TM.EXAMPLE.COM/01/09506000134352/10/L2401A/21/")
    assert names[0][:-4] in result.text


def test_failed_render_leaves_no_file(db, batch, tmp_path, monkeypatch):
    out = tmp_path / "labels.pdf"

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(label_files.labels, "write_pdf_sheet", disk_full)
    with db.sessions() as session, pytest.raises(OSError):
        label_files.write(session, session.merge(batch), "pdf", out, "http://x")
    assert list(tmp_path.iterdir()) == []
