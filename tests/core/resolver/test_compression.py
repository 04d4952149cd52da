"""Compressed GS1 Digital Links, against the examples GS1 publishes for its compression
algorithm (the same URIs as the GS1 Digital Link compression prototype's test data)."""

from __future__ import annotations

import pytest

from tracemark.resolver.compression import (
    CompressionProblem,
    compress,
    decode,
    decompress,
    is_compressed_path,
)

GTIN = "05412345000013"
#: Fully compressed: segment → the element strings it holds, in order.
FULLY = {
    "AN2yxDhfaiaw": [("00", "998440410914660971")],
    "AQnYUc1gmg": [("01", GTIN)],
    "AQnYUc1gmiCNV4JG": [("01", GTIN), ("10", "ABC123")],
    "AQnYUc1gmiCNV4JGQhcNT6K6c": [("01", GTIN), ("10", "ABC123"), ("21", "72292641703")],
    "AQnYUc1gmiCNV4JGQhcNT6K6cibQCWN9Pee9tT-PQ": [
        ("01", GTIN),
        ("10", "ABC123"),
        ("21", "72292641703"),
        ("22", "AJY3095721P49"),
    ],
    "AQnYUc1gmkax7ipGrOHDPC5YNI8hMz": [("01", GTIN), ("235", "8TFV883a904GH&3")],
    "AQnYUc1gmkIXDU-iun": [("01", GTIN), ("21", "72292641703")],
    "AQnYUc1gmkTaASxvp7z3tqfx6": [("01", GTIN), ("22", "AJY3095721P49")],
    "JTLIetaiHYA": [("253", "3060077601309")],
    "JVUqG5hJ5wA": [("255", "5678409730535")],
    "QBl2DVoxZM2jVm3ZOWEFoxTR5HDgzZg": [("401", "0541234537290A41&GHpp33")],
    "QCJZyW9mC6Z4": [("402", "21173492661712079")],
    "QUSaVjC_dA": [("414", "5060917510004")],
    "QUSaVjC_dHBAVlCrg": [("414", "5060917510004"), ("7040", "5KFX")],
    "gBNw12345678901234MS": [("8013", "12345678901234MS")],
    "gBe1ajAd9ATDmAGXPRfk": [("8017", "817019610850151481"), ("8019", "4003812")],
    "EEarwSOABgwEj9s0bAmQ": [("10", "ABC123"), ("8006", "054123450000130201")],
}
#: Partially compressed (/01/{gtin}/segment): segment → the qualifiers it holds.
PARTLY = {
    "EEarwSM": [("10", "ABC123")],
    "EEarwSMhC4an0V04": [("10", "ABC123"), ("21", "72292641703")],
    "I1j3FSNWcOGeFywaR5CZm": [("235", "8TFV883a904GH&3")],
    "IQuGp9FdO": [("21", "72292641703")],
}


@pytest.mark.parametrize(("segment", "elements"), FULLY.items())
def test_gs1s_fully_compressed_examples_decode_to_their_element_strings(segment, elements):
    found, others = decode(segment)
    assert sorted(found) == sorted(elements) and others == []


@pytest.mark.parametrize(("segment", "elements"), PARTLY.items())
def test_gs1s_partially_compressed_examples_decode_to_their_qualifiers(segment, elements):
    assert decode(segment) == (elements, [])
    assert decompress(f"/01/{GTIN}/{segment}") == f"/01/{GTIN}" + "".join(
        f"/{ai}/{value.replace('&', '%26')}" for ai, value in elements
    )


def test_decompressing_gives_the_canonical_uncompressed_uri():
    assert (
        decompress("/AQnYUc1gmiCNV4JGQhcNT6K6cibQCWN9Pee9tT-PQ")
        == f"/01/{GTIN}/22/AJY3095721P49/10/ABC123/21/72292641703"
    )
    assert decompress(f"/01/{GTIN}/EEarwSM") == f"/01/{GTIN}/10/ABC123"
    assert decompress("/AQnYUc1gmkax7ipGrOHDPC5YNI8hMz", "linkType=all") == (
        f"/01/{GTIN}/235/8TFV883a904GH%263?linkType=all"
    )


def test_compression_round_trips_with_data_attributes_and_other_pairs():
    path, query = f"/01/{GTIN}/10/L%2F1/21/a.b", "17=261231&3103=000750&S=1.K7Q.ABCdef-_"
    compressed = compress(path, query)
    assert is_compressed_path(compressed)
    assert decompress(compressed) == f"{path}?17=261231&3103=000750&S=1.K7Q.ABCdef-_"
    partly = compress(path, keep_primary=True)
    assert partly.startswith(f"/01/{GTIN}/") and decompress(partly) == path
    # leading zeros survive, in a variable-length numeric value and in a digits-only lot
    assert decompress(compress(f"/01/{GTIN}/10/00123", "30=0042")) == (
        f"/01/{GTIN}/10/00123?30=0042"
    )


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/AN2yxDhfaiaw", "not_gtin"),  # an SSCC: not a key this resolver serves
        ("/abc!defghijk", "bad_segment"),
        ("/AQnYUc1g", "bad_segment"),  # too short to hold a GTIN
        ("/AQnYUc1gmiCNV4J", "truncated"),
        ("/5QnYUc1gmiCNV4JG", "unknown_sequence"),  # nibbles E, 4: no AI, no sequence
        ("/FAAAAAAAAAAAA", "unknown_ai"),  # AI 14: none
        ("/" + "A" * 23, "duplicate"),  # AI 00 twice
        (f"/01/{GTIN}/AQnYUc1gmg", "duplicate"),  # the GTIN again
        ("/a/b", "bad_path"),
    ],
)
def test_what_is_not_a_compressed_gtin_link_is_refused_with_a_reason(path, reason):
    with pytest.raises(CompressionProblem) as raised:
        decompress(path)
    assert raised.value.reason == reason


def test_only_base64_segments_look_compressed():
    assert is_compressed_path("/AQnYUc1gmg") and is_compressed_path(f"/01/{GTIN}/EEarwSM")
    assert not is_compressed_path("/about") and not is_compressed_path("/favicon.ico")
    assert not is_compressed_path(f"/01/{GTIN}/10/L1")
