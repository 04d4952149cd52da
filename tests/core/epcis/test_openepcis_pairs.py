"""EPC URN ↔ GS1 Digital Link pairs of the OpenEPCIS EPC-Digital Link translator's tests
(openepcis/openepcis-epc-digitallink-translator, src/test/…/tests/*Test.java), written
here: each agrees both ways, on any host, the URN given back with its company prefix
length. Where the translator's expected value breaks a GS1 rule (a check digit, AI
8003's leading zero, AI 8004's 30 characters), this side refuses it with the rule."""

import pytest

from tracemark.epcis.identifiers import MalformedEpc, parse, spell

#: (EPC URN, Digital Link as the translator's test writes it).
AGREED = [
    # SGTINTest
    ("urn:epc:id:sgtin:234567890.1123.9999", "https://id.gs1.org/01/12345678901231/21/9999"),
    ("urn:epc:id:sgtin:387583.7784374.9302932", "https://id.gs1.org/01/73875837843740/21/9302932"),
    ("urn:epc:id:sgtin:387583784374.7.9302932", "https://id.gs1.org/01/73875837843740/21/9302932"),
    (
        "urn:epc:id:sgtin:235678.1908012.1234",
        "https://lidl.de/food/frozen/01/12356789080128/21/1234",
    ),
    ("urn:epc:idpat:sgtin:8853849.838493.*", "https://id.gs1.org/01/88853849384934"),
    ("urn:epc:idpat:sgtin:5394839.848938.*", "https://id.gs1.org/01/85394839489381"),
    ("urn:epc:idpat:sgtin:3489348.939489.*", "https://id.gs1.org/01/93489348394895"),
    # LGTINTest
    (
        "urn:epc:class:lgtin:4023333.002000.2019-10-07",
        "https://id.gs1.org/01/04023333020008/10/2019-10-07",
    ),
    ("urn:epc:class:lgtin:234567.1890124.1234", "https://id.gs1.org/01/12345678901248/10/1234"),
    # SSCCTest
    ("urn:epc:id:sscc:123456.06663868985", "https://id.gs1.org/00/012345666638689852"),
    ("urn:epc:id:sscc:743847384738.47483", "https://id.gs1.org/00/474384738473874832"),
    ("urn:epc:id:sscc:587584.77584578485", "https://marriot.in/blr/123/00/758758475845784857"),
    ("urn:epc:id:sscc:9403940349.9034903", "https://marriot.in/blr/123/00/994039403490349033"),
    # SGLNTest (an extension 0 is the GLN itself: no /254/)
    ("urn:epc:id:sgln:1234567890.11.1111", "https://id.gs1.org/414/1234567890111/254/1111"),
    ("urn:epc:id:sgln:785783.438478.0394903", "https://id.gs1.org/414/7857834384782/254/0394903"),
    ("urn:epc:id:sgln:4374736473.64.0", "https://id.gs1.org/414/4374736473640"),
    # PGLNTest (a 12-digit company prefix leaves the reference empty)
    ("urn:epc:id:pgln:123456.789012", "https://horrem.kerpen.de/417/1234567890128"),
    ("urn:epc:id:pgln:473847.837483", "https://id.gs1.org/417/4738478374830"),
    ("urn:epc:id:pgln:859839494502.", "https://id.gs1.org/417/8598394945028"),
    ("urn:epc:id:pgln:0394039.40394", "https://id.gs1.org/417/0394039403940"),
    ("urn:epc:id:pgln:93592677.4657", "https://horrem.kerpen.de/417/9359267746574"),
    # GIAITest
    ("urn:epc:id:giai:123456789012.123", "https://id.gs1.org/8004/123456789012123"),
    ("urn:epc:id:giai:123456.7", "https://id.gs1.org/8004/1234567"),
    ("urn:epc:id:giai:839495849585.0", "https://id.gs1.org/8004/8394958495850"),
    ("urn:epc:id:giai:1234567890.12123", "https://news.google.in/8004/123456789012123"),
    # GSRNTest, GSRNPTest
    ("urn:epc:id:gsrn:1234567890.1234567", "https://id.gs1.org/8018/123456789012345675"),
    ("urn:epc:id:gsrn:142512.45142152511", "https://id.gs1.org/8018/142512451421525110"),
    ("urn:epc:id:gsrn:673674637437.47783", "https://id.gs1.org/8018/673674637437477836"),
    ("urn:epc:id:gsrn:654683828.92302309", "https://id.gs1.org/8018/654683828923023096"),
    ("urn:epc:id:gsrnp:1234567890.1234567", "https://id.gs1.org/8017/123456789012345675"),
    ("urn:epc:id:gsrnp:843984.93439439493", "https://id.gs1.org/8017/843984934394394932"),
    ("urn:epc:id:gsrnp:578457847548.75847", "https://id.gs1.org/8017/578457847548758479"),
    ("urn:epc:id:gsrnp:3454254352.3524352", "https://id.gs1.org/8017/345425435235243521"),
    # GDTITest
    ("urn:epc:id:gdti:1234567890.12.ABC", "https://id.gs1.org/253/1234567890128ABC"),
    ("urn:epc:id:gdti:434934948984..4", "https://id.gs1.org/253/43493494898454"),
    ("urn:epc:idpat:gdti:439483483943..*", "https://id.gs1.org/253/4394834839438"),
    ("urn:epc:idpat:gdti:474834.384738.*", "https://id.gs1.org/253/4748343847383"),
    ("urn:epc:idpat:gdti:637463764.376.*", "https://id.gs1.org/253/6374637643768"),
    ("urn:epc:idpat:gdti:57578348837.4.*", "https://id.gs1.org/253/5757834883747"),
]


def _canonical(link: str) -> str:
    """The link on id.gs1.org: the translator's hosts and path prefixes dropped."""
    for ai in ("/01/", "/00/", "/414/", "/417/", "/8003/", "/8004/", "/8018/", "/8017/", "/253/"):
        if ai in link:
            return "https://id.gs1.org" + link[link.index(ai) :]
    raise AssertionError(link)


@pytest.mark.parametrize(("urn", "link"), AGREED)
def test_openepcis_pairs_agree_both_ways(urn, link):
    canonical = _canonical(link)
    assert parse(urn).uri == canonical
    assert parse(link).uri == canonical
    company_prefix = urn.split(":")[4].split(".")[0]
    assert spell(canonical, "Always_EPC_URN", prefixes=[company_prefix]) == urn
    assert spell(canonical, "Always_EPC_URN", original=urn) == urn


def test_a_serial_the_translator_leaves_unescaped_is_the_same_identifier():
    """SGTINTest and GDTITest write URN serials without TDS's escapes: read the same,
    spelt back escaped (TDS §6.3) and percent-encoded in the link."""
    raw = "urn:epc:id:sgtin:234567.1890123.!\"%&'()*+,-./"
    escaped = "urn:epc:id:sgtin:234567.1890123.!%22%25%26'()*+,-.%2F"
    assert parse(raw).uri == parse(escaped).uri
    assert parse(raw).serial == "!\"%&'()*+,-./"
    assert spell(parse(raw).uri, "Always_EPC_URN", prefixes=["234567"]) == escaped
    bang = parse("https://id.gs1.org/253/1247575784846!")
    assert bang.uri == parse("urn:epc:id:gdti:124757.578484.!").uri
    assert (
        spell(bang.uri, "Always_EPC_URN", prefixes=["124757"]) == "urn:epc:id:gdti:124757.578484.!"
    )


#: The translator's expected link for a URN where it breaks a GS1 rule: (URN, the
#: translator's link, the link by GS1's rule, why the translator's is refused).
DIFFERENT = [
    # SGTINTest/LGTINTest: toURN slices the GTIN without checking its check digit
    (
        "urn:epc:id:sgtin:9046539.520374.9302932",
        "https://lidl.de/food/frozen/01/59046539203740/21/9302932",
        "https://id.gs1.org/01/59046539203747/21/9302932",
        "wrong GTIN check digit",
    ),
    (
        "urn:epc:idpat:sgtin:234567.1890123.*",
        "https://id.gs1.org/01/12345678901234",
        "https://id.gs1.org/01/12345678901231",
        "wrong GTIN check digit",
    ),
    (
        "urn:epc:class:lgtin:9046537.500345.998877",
        "https://id.gs1.org/01/59046537003451/10/998877",
        "https://id.gs1.org/01/59046537003455/10/998877",
        "wrong GTIN check digit",
    ),
    (
        "urn:epc:id:sscc:123456.07890123456",
        "https://marriot.in/blr/123/00/012345678901234567",
        "https://id.gs1.org/00/012345678901234560",
        "wrong SSCC check digit",
    ),
    (
        "urn:epc:id:sgln:123456.789012.1234",
        "https://deutscheBahn.de/train/414/1234567890123/254/1234",
        "https://id.gs1.org/414/1234567890128/254/1234",
        "wrong SGLN check digit",
    ),
    (
        "urn:epc:id:pgln:7337677.82938",
        "https://horrem.kerpen.de/417/7337677829387",
        "https://id.gs1.org/417/7337677829386",
        "wrong PGLN check digit",
    ),
    (
        "urn:epc:id:gsrn:301037.67524514251",
        "https://hp.com/laptop/8018/301037675245142514",
        "https://id.gs1.org/8018/301037675245142512",
        "wrong GSRN check digit",
    ),
    (
        "urn:epc:id:gsrnp:643963.76437473634",
        "https://google.com/8017/643963764374736343",
        "https://id.gs1.org/8017/643963764374736345",
        "wrong GSRNP check digit",
    ),
    (
        "urn:epc:id:gdti:1234567890.12.A",
        "https://benelog1.de/253/1234567890123A",
        "https://id.gs1.org/253/1234567890128A",
        "wrong GDTI check digit",
    ),
    # GRAITest: AI 8003 is N14 with a leading 0 (GS1 General Specifications §3.9.3)
    (
        "urn:epc:id:grai:1234567890.12.4ABC",
        "https://id.gs1.org/8003/12345678901284ABC",
        "https://id.gs1.org/8003/012345678901284ABC",
        "check digit",
    ),
    (
        "urn:epc:idpat:grai:4843847.38473.*",
        "https://id.gs1.org/8003/4843847384737",
        "https://id.gs1.org/8003/04843847384737",
        "a GRAI has 14 digits",
    ),
]


@pytest.mark.parametrize(("urn", "theirs", "ours", "reason"), DIFFERENT)
def test_where_the_translator_breaks_a_gs1_rule_the_rule_wins(urn, theirs, ours, reason):
    assert parse(urn).uri == ours
    with pytest.raises(MalformedEpc, match=reason):
        parse(theirs)


def test_a_giai_longer_than_ai_8004_allows_is_refused_both_ways():
    """GIAITest's ``42512183..SENSOR.TR-07-AVE-583:1`` has 31 characters (AI 8004: 30)."""
    with pytest.raises(MalformedEpc, match="1 to 22 characters"):
        parse("urn:epc:id:giai:42512183..SENSOR.TR-07-AVE-583:1")
    with pytest.raises(MalformedEpc, match="at most 30 characters"):
        parse("https://id.gs1.org/8004/42512183.SENSOR.TR-07-AVE-583:1")
