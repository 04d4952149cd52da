"""Labels: segmentation, per-unit renderings, the bulk encoder and the PDF sheet."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zlib

import pytest
import segno

from tracemark.labels.render import (
    Label,
    label_png,
    label_svg,
    make_qr,
    qr_segments,
    qr_version_for,
    write_csv,
    write_pdf_sheet,
)

zxingcpp = pytest.importorskip("zxingcpp")
pdfium = pytest.importorskip("pypdfium2")
Image = pytest.importorskip("PIL.Image")
np = pytest.importorskip("numpy")

from tracemark.labels.qrbatch import Encoder  # noqa: E402 - needs numpy

TYPICAL = (
    "HTTPS://TM.EXAMPLE-BRAND-NAME.COM/01/09506000134352/10/L2401A/21/K7Q2M9XW4B3CD"
    "?S=1.ABCDE." + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 3 + "ABCDEFG"
)


class Seeded:
    """Deterministic base32 test data from a seed (SHA-512 counter stream)."""

    def __init__(self, seed: object) -> None:
        self._seed = str(seed).encode()
        self._counter = 0

    def base32(self, n: int) -> str:
        self._counter += 1
        digest = hashlib.sha512(self._seed + b"/%d" % self._counter).digest()
        return base64.b32encode(digest).decode()[:n]


def make_label(rng: Seeded, lot: str = "L2401A") -> Label:
    serial, sig = rng.base32(13), rng.base32(103)
    url = (
        f"HTTPS://TM.EXAMPLE-BRAND-NAME.COM/01/09506000134352/10/{lot}/21/{serial}?S=1.ABCDE.{sig}"
    )
    return Label(url, serial)


def decode(image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


# --------------------------------------------------------------------------- segments


def test_typical_url_is_version_8_with_segments_and_10_as_one_byte_segment():
    assert len(TYPICAL) == 192
    assert "".join(qr_segments(TYPICAL)) == TYPICAL
    assert qr_version_for(TYPICAL) == 8
    assert make_qr(TYPICAL).version == 8
    assert make_qr(TYPICAL).error == "M"
    assert segno.make(TYPICAL, error="M", boost_error=False, mode="byte").version == 10


def test_segments_merge_short_alphanumeric_runs_into_byte():
    url = TYPICAL.replace("L2401A", "lot%2F7b")
    segs = qr_segments(url)
    assert "".join(segs) == url
    # "%2F7" alone would cost a 13-bit header to save 10 bits: absorbed by "lot...b".
    assert "lot%2F7b" in segs
    assert make_qr(url).version <= 8


def test_segments_are_guessed_in_the_intended_mode():
    url = "https://x.example/a?b=1&c=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    segs = qr_segments(url)
    assert "".join(segs) == url
    qr = segno.make(segs, error="M", boost_error=False)
    single = segno.make(url, error="M", boost_error=False)
    assert qr.version <= single.version
    assert qr_version_for(url) == qr.version


# --------------------------------------------------------------------------- per unit


@pytest.mark.parametrize("lot", ["L2401A", "lot%2F7b", "a/b"])
def test_png_decodes_to_the_url(lot):
    label = make_label(Seeded(lot), lot=lot)
    img = Image.open(io.BytesIO(label_png(label, scale=4)))
    assert decode(img) == [label.url]


def test_svg_path_matches_segno_matrix_and_has_caption():
    label = make_label(Seeded(7))
    svg = label_svg(label)
    path = re.search(r' d="([^"]+)"', svg).group(1)
    matrix = np.array(make_qr(label.url).matrix, dtype=np.uint8)
    n = len(matrix)
    grid = np.zeros((n + 8, n + 8), dtype=np.uint8)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        grid[int(y), int(x) : int(x) + int(w)] = 1
    assert grid.sum() == matrix.sum()
    assert (grid[4:-4, 4:-4] == matrix).all()
    assert f">{label.caption}</text>" in svg


def test_svg_rasterised_decodes():
    label = make_label(Seeded(8))
    svg = label_svg(label, caption=False)
    n = len(make_qr(label.url).matrix) + 8
    img = Image.new("L", (n * 4, n * 4), 255)
    px = img.load()
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        for xx in range(int(x) * 4, (int(x) + int(w)) * 4):
            for yy in range(int(y) * 4, int(y) * 4 + 4):
                px[xx, yy] = 0
    assert decode(img) == [label.url]


def test_csv_round_trips():
    labels = [make_label(Seeded(i)) for i in range(5)]
    labels.append(Label("HTTPS://X/1?A=1,2", 'odd, "serial"'))
    buf = io.StringIO()
    assert write_csv(labels, buf) == 6
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0] == ["serial", "url"]
    assert rows[1:] == [[lab.caption, lab.url] for lab in labels]


# --------------------------------------------------------------------------- bulk encoder


def test_bulk_encoder_equals_segno_including_mask_choice():
    rng = Seeded(2024)
    urls = [make_label(rng).url for _ in range(40)]
    urls += [make_label(rng, lot=lot).url for lot in ("lot%2F7b", "123", "x", "A-B.C")]
    urls += [
        "HELLO WORLD",
        "hello",
        "12345678901234567890",
        "https://example.com/" + "a1" * 60,
        "HTTPS://EXAMPLE.COM/?Q=" + "9" * 40,
        "é-non-ascii",  # handled by segno fallback
        "x" * 400,  # version > 9: segno fallback
    ]
    encoder = Encoder()
    mats = encoder.matrices(urls)
    # Only the last two go through segno: the vectorised path must not be bypassed
    # (its run-time self-check would otherwise hide a bug behind the fallback).
    assert encoder.fallbacks == 2
    masks = set()
    for url, mat in zip(urls, mats, strict=True):
        ref = make_qr(url)
        masks.add(ref.mask)
        assert mat.shape == (len(ref.matrix),) * 2, url
        assert (mat == np.array(ref.matrix, dtype=np.uint8)).all(), url
    assert len(masks) >= 4  # the mask evaluation really discriminates


def test_bulk_encoder_equals_segno_for_each_fixed_mask_structure():
    # Same URLs, forced masks through segno: our unmasked data XOR mask must match.
    rng = Seeded(5)
    for _ in range(10):
        url = make_label(rng).url
        encoder = Encoder()
        ours = encoder.matrices([url])[0]
        assert encoder.fallbacks == 0
        ref = make_qr(url)
        other = (ref.mask + 1) % 8
        assert not (ours == np.array(make_qr(url, mask=other).matrix, dtype=np.uint8)).all()
        assert (ours == np.array(make_qr(url, mask=ref.mask).matrix, dtype=np.uint8)).all()


# --------------------------------------------------------------------------- PDF


class WriteOnly:
    """A socket-like sink: only write(), no seek/tell."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def check_pdf_structure(data: bytes) -> None:
    """Every stream inflates completely and every xref entry points at its object.

    (The files were also checked with ``qpdf --check`` during development; qpdf is
    not a test dependency.)
    """
    assert data.startswith(b"%PDF-1.4")
    assert data.endswith(b"%%EOF\n")
    for m in re.finditer(rb"<< /Length (\d+) /Filter /FlateDecode >>\nstream\n", data):
        body = data[m.end() : m.end() + int(m.group(1))]
        d = zlib.decompressobj()
        d.decompress(body)
        assert d.eof and not d.unused_data
        assert data[m.end() + len(body) :].startswith(b"\nendstream")
    startxref = int(data.rsplit(b"startxref\n", 1)[1].split()[0])
    head, _, table = data[startxref:].partition(b"\n")
    assert head == b"xref"
    first, size = map(int, table.split(b"\n", 1)[0].split())
    entries = table.split(b"\n", 1)[1][: 20 * size]
    assert (first, entries[:20]) == (0, b"0000000000 65535 f \n")
    for num in range(1, size):
        offset = int(entries[20 * num : 20 * num + 10])
        assert data[offset:].startswith(b"%d 0 obj\n" % num)
    assert re.search(rb"trailer\n<< /Size %d /Root 1 0 R >>" % size, data)


def test_pdf_sheet_two_pages_decode():
    rng = Seeded(11)
    labels = [make_label(rng) for _ in range(29)] + [make_label(rng, lot="lot%2F7b")]
    calls = []
    out = WriteOnly()
    assert write_pdf_sheet(labels, out, progress=lambda d, t: calls.append((d, t))) == 30
    assert calls == [(24, 30), (30, 30)]
    data = out.getvalue()
    check_pdf_structure(data)
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 2
    decoded: set[str] = set()
    per_page = []
    for i in range(len(doc)):
        page = doc[i]
        assert page.get_size() == pytest.approx((595.276, 841.89), abs=0.01)
        urls = decode(page.render(scale=3).to_pil())
        per_page.append(len(urls))
        decoded |= set(urls)
        text = page.get_textpage().get_text_range()
        for lab in labels[i * 24 : (i + 1) * 24]:
            assert lab.caption in text
    assert per_page == [24, 6]
    assert decoded == {lab.url for lab in labels}


def test_pdf_letter_generator_grid_and_cut_marks():
    rng = Seeded(3)
    labels = [make_label(rng) for _ in range(7)]
    calls = []
    buf = io.BytesIO()
    n = write_pdf_sheet(
        (lab for lab in labels),
        buf,
        page="Letter",
        columns=3,
        rows=2,
        cut_marks=True,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert n == 7
    assert calls == [(6, None), (7, None)]
    check_pdf_structure(buf.getvalue())
    doc = pdfium.PdfDocument(buf.getvalue())
    assert len(doc) == 2
    assert doc[0].get_size() == pytest.approx((612, 792))
    assert set(decode(doc[0].render(scale=2).to_pil())) == {lab.url for lab in labels[:6]}


def test_pdf_empty_input_is_valid():
    buf = io.BytesIO()
    assert write_pdf_sheet([], buf) == 0
    check_pdf_structure(buf.getvalue())  # pdfium refuses page-less docs
    assert b"/Type /Pages /Kids [] /Count 0" in buf.getvalue()


def test_pdf_rejects_unprintable_grid():
    with pytest.raises(ValueError, match="mm modules"):
        write_pdf_sheet([], io.BytesIO(), columns=20, rows=30)
    with pytest.raises(ValueError, match="page size"):
        write_pdf_sheet([], io.BytesIO(), page="A7")


def test_pdf_process_pool_output_is_identical():
    rng = Seeded(99)
    labels = [make_label(rng) for _ in range(1100)]  # three chunks
    inline, pooled = io.BytesIO(), io.BytesIO()
    assert write_pdf_sheet(labels, inline, workers=1) == 1100
    assert write_pdf_sheet(labels, pooled, workers=2) == 1100
    assert inline.getvalue() == pooled.getvalue()
    check_pdf_structure(pooled.getvalue())
    doc = pdfium.PdfDocument(pooled.getvalue())
    assert len(doc) == 46  # ceil(1100 / 24)
    last = set(decode(doc[45].render(scale=3).to_pil()))
    assert last == {lab.url for lab in labels[45 * 24 :]}


def test_penalty_scores_equal_segno_on_adversarial_matrices():
    """N1-N4 on matrices seeded with chained 1:1:3:1:1 patterns (segno's scan order)."""
    from segno.encoder import mask_scores  # segno internal: the reference implementation

    from tracemark.labels.qrbatch import _pack_bits, _penalties

    rng = np.random.default_rng(12)
    chains = [
        [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1],  # counted, then skipped at +4
        [1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0],  # overlap at +6
        [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0],  # chain of 3
    ]
    for n in (21, 49):
        mats = rng.integers(0, 2, size=(150, n, n), dtype=np.uint8)
        for mat in mats:
            for _ in range(6):
                chain = chains[rng.integers(len(chains))]
                if len(chain) > n:
                    continue
                r, c = rng.integers(n), rng.integers(n - len(chain) + 1)
                if rng.integers(2):
                    mat[r, c : c + len(chain)] = chain
                else:
                    mat[c : c + len(chain), r] = chain
        lines = np.concatenate([_pack_bits(mats), _pack_bits(mats.transpose(0, 2, 1))], axis=1)
        ours = _penalties(lines[:, None, :], n)[:, 0]
        ref = [sum(mask_scores([bytearray(row) for row in m], n, n)) for m in mats]
        assert ours.tolist() == ref
