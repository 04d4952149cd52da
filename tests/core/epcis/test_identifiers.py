"""Every GS1 key EPCIS uses, between EPC URN and GS1 Digital Link, both ways."""

import pytest

from tracemark.epcis.identifiers import MalformedEpc, canonical, parse, spell

#: (EPC URN, canonical Digital Link): the Tag Data Standard's worked keys (company
#: prefix 0614141) and the OpenEPCIS translator's SSCC pair.
PAIRS = [
    ("urn:epc:id:sgtin:0614141.812345.6789", "https://id.gs1.org/01/80614141123458/21/6789"),
    ("urn:epc:id:sgtin:0614141.112345.A%2FB", "https://id.gs1.org/01/10614141123459/21/A%2FB"),
    ("urn:epc:class:lgtin:0614141.112345.400", "https://id.gs1.org/01/10614141123459/10/400"),
    ("urn:epc:idpat:sgtin:0614141.112345.*", "https://id.gs1.org/01/10614141123459"),
    ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
    ("urn:epc:id:sscc:234567.18901234567", "https://id.gs1.org/00/123456789012345675"),
    ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
    ("urn:epc:id:sgln:0614141.12345.0", "https://id.gs1.org/414/0614141123452"),
    ("urn:epc:id:pgln:0614141.12345", "https://id.gs1.org/417/0614141123452"),
    ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
    ("urn:epc:idpat:grai:0614141.12345.*", "https://id.gs1.org/8003/00614141123452"),
    ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
    ("urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902"),
    ("urn:epc:id:gsrnp:0614141.1234567890", "https://id.gs1.org/8017/061414112345678902"),
    ("urn:epc:id:gdti:0614141.12345.400", "https://id.gs1.org/253/0614141123452400"),
    ("urn:epc:idpat:gdti:0614141.12345.*", "https://id.gs1.org/253/0614141123452"),
]


@pytest.mark.parametrize(("urn", "link"), PAIRS)
def test_urn_and_digital_link_are_one_identifier_both_ways(urn, link):
    assert parse(urn).uri == link
    assert parse(link).uri == link
    # any host, http or https, is the same identifier
    assert parse(link.replace("https://id.gs1.org", "http://brand.example/dl")).uri == link
    # back to the URN: with the length it was captured with, or the brand's prefix
    assert spell(link, "Always_EPC_URN", original=urn) == urn
    prefix = urn.split(":")[4].split(".")[0]
    assert spell(link, "Always_EPC_URN", prefixes=["99", prefix, prefix[:6]]) == urn
    # an unknown company prefix length is never guessed
    assert spell(link, "Always_EPC_URN") == link
    assert spell(link, "Never_Translates", original=urn) == urn
    assert spell(link, "Always_GS1_Digital_Link", original=urn) == link


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        ("urn:epc:id:sgtin:0614141.812345", "3 fields"),
        ("urn:epc:id:sgtin:061414.112345.1", "13 digits"),
        ("urn:epc:id:sgtin:0614141.812345.a b", "character set 82"),
        ("urn:epc:id:sgtin:0614141.812345.123456789012345678901", "1 to 20"),
        ("urn:epc:id:sscc:0614141.123", "17 digits"),
        ("urn:epc:id:sgln:0614141.12345", "3 fields"),
        ("urn:epc:id:grai:06141x1.12345.1", "digits"),
        ("urn:epc:id:giai:0614141.", "1 to 23"),
        ("urn:epc:id:nosuch:1.2", "not an EPC scheme"),
        ("urn:epc:class:sgtin:0614141.812345.1", "lgtin"),
        ("urn:epc:idpat:sgtin:0614141.*.5", "ends in .*"),
        ("https://id.gs1.org/01/80614141123459/21/1", "check digit"),
        ("https://brand.example/00/12345", "18 digits"),
        ("https://id.gs1.org/414/0614141123452/21/1", "qualifier"),
    ],
)
def test_malformed_identifiers_are_refused_with_the_reason(identifier, reason):
    with pytest.raises(MalformedEpc, match=reason):
        parse(identifier)
    assert canonical(identifier).uri == identifier  # readers keep it as it is


def test_other_uris_and_schemes_without_a_digital_link_are_kept_as_given():
    for identifier in (
        "urn:uuid:0b5a3e0e-6b8b-4d0c-9f59-0a4b0e8c1d01",
        "urn:epc:id:gid:95100000.12345.400",
        "urn:epc:idpat:sgtin:0614141.*.*",
        "https://brand.example/products/42",
        "urn:tracemark:site:1.2",
    ):
        assert parse(identifier).uri == identifier


def test_a_digital_link_with_lot_and_serial_is_the_instance():
    epc = parse("https://tm.example.com/01/80614141123458/10/L1/21/6789?s=sig")
    assert epc.uri == "https://id.gs1.org/01/80614141123458/21/6789"
    assert (epc.gtin, epc.lot, epc.serial) == ("80614141123458", "L1", "6789")
    assert spell(epc.uri, "Always_EPC_URN", prefixes=["0614141"]) == (
        "urn:epc:id:sgtin:0614141.812345.6789"
    )
