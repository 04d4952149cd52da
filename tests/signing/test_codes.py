import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing import KeyEntry, KeyRing, KeyStatus, Status, build_url, parse_and_verify, sign_code
from signing.codes import MAX_URL_LENGTH, MalformedCode, new_serial, parse
from signing.gs1 import CSET82, gtin_check_digit, normalize_gtin
from signing.keys import generate_private_key

GTIN = "09506000134352"
KEY = generate_private_key()
RING = KeyRing([KeyEntry("ABCDE", KEY.public_key())])


def _url(lot="L2401A", serial="K7Q2M9XW4B3CD", kid="ABCDE", key=KEY, gtin=GTIN):
    return build_url("https://tm.example-brand-name.com", sign_code(key, kid, gtin, lot, serial))


def test_round_trip_is_valid():
    result = parse_and_verify(_url(), RING)
    assert result.status is Status.VALID
    assert (result.code.gtin, result.code.lot, result.code.serial) == (
        GTIN,
        "L2401A",
        "K7Q2M9XW4B3CD",
    )
    assert result.key.kid == "ABCDE"


def test_url_is_digital_link_and_upper_case():
    url = _url()
    assert url.startswith(
        "HTTPS://TM.EXAMPLE-BRAND-NAME.COM/01/09506000134352/10/L2401A/21/K7Q2M9XW4B3CD?S=1.ABCDE."
    )
    assert len(url.split(".")[-1]) == 103


def test_path_only_form_verifies_as_a_server_receives_it():
    url = _url()
    assert parse_and_verify(url[url.index("/01/") :], RING).status is Status.VALID


def test_tampered_signature_is_not_genuine():
    url = _url()
    last = url[-2]
    tampered = url[:-2] + ("A" if last != "A" else "B") + url[-1]
    assert parse_and_verify(tampered, RING).status is Status.BAD_SIGNATURE


def test_other_serial_with_copied_signature_is_not_genuine():
    url = _url().replace("/21/K7Q2M9XW4B3CD", "/21/K7Q2M9XW4B3CE")
    assert parse_and_verify(url, RING).status is Status.BAD_SIGNATURE


def test_unknown_key_id():
    result = parse_and_verify(_url(kid="ZZZZZ"), RING)
    assert result.status is Status.UNKNOWN_KEY and result.key is None


def test_key_from_another_brand_is_a_bad_signature():
    assert parse_and_verify(_url(key=generate_private_key()), RING).status is Status.BAD_SIGNATURE


def test_revoked_key_still_checks_the_signature():
    ring = KeyRing([KeyEntry("ABCDE", KEY.public_key(), KeyStatus.REVOKED)])
    assert parse_and_verify(_url(), ring).status is Status.REVOKED_KEY
    assert parse_and_verify(_url(key=generate_private_key()), ring).status is Status.BAD_SIGNATURE


def test_retired_key_still_verifies():
    ring = KeyRing([KeyEntry("ABCDE", KEY.public_key(), KeyStatus.RETIRED)])
    assert parse_and_verify(_url(), ring).status is Status.VALID


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda u: u.replace("/01/09506000134352", "/01/09506000134353"), "bad_check_digit"),
        (lambda u: u.replace("/01/09506000134352", "/01/9506000134352"), "bad_gtin"),
        (lambda u: u.replace("/10/", "/11/"), "bad_path"),
        (lambda u: u.replace("?S=1.", "?S=2."), "unsupported_version"),
        (lambda u: u.replace("?S=1.ABCDE.", "?S=1.abcde."), "bad_kid"),
        (lambda u: u[:-1], "bad_signature_encoding"),
        (lambda u: u + "A", "bad_signature_encoding"),
        (lambda u: u.split("?")[0], "missing_signature"),
        (lambda u: u + "&x=1", "missing_signature"),
        (lambda u: u + "#frag", "bad_url"),
        (lambda u: u.replace("HTTPS", "FTP"), "bad_url"),
        (lambda u: u.replace("L2401A", "L2401\u00e9"), "bad_characters"),
        (lambda u: u + "A" * MAX_URL_LENGTH, "too_long"),
        (lambda u: u.replace("L2401A", "L2401%41"), "non_canonical"),
        (lambda u: u.replace("L2401A", "L2401%ZZ"), "non_canonical"),
        (lambda u: u.replace("L2401A", "L2401%7C"), "bad_lot"),
        (lambda u: u.replace("/21/", "/21/../../"), "bad_path"),
    ],
)
def test_malformed_inputs_get_a_typed_reason(mutate, reason):
    result = parse_and_verify(mutate(_url()), RING)
    assert (result.status, result.reason) == (Status.MALFORMED, reason)


def test_percent_escaped_lot_round_trips():
    url = _url(lot="L24/01a b"[:8].replace(" ", "_"))
    assert "/10/L24%2F01a_/" in url
    assert parse_and_verify(url, RING).status is Status.VALID


def test_non_zero_trailing_base32_bits_are_not_accepted():
    url = _url()
    # the last character carries 3 unused bits: flipping only those must not verify
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    last = alphabet.index(url[-1])
    assert last % 8 == 0
    tampered = url[:-1] + alphabet[last + 1]
    assert parse_and_verify(tampered, RING).status is Status.MALFORMED


def test_parse_rejects_non_strings():
    with pytest.raises(MalformedCode):
        parse(b"/01/x")  # type: ignore[arg-type]
    assert parse_and_verify(None, RING).status is Status.MALFORMED  # type: ignore[arg-type]


def test_serials_are_random_and_short():
    serials = {new_serial() for _ in range(1000)}
    assert len(serials) == 1000
    assert all(len(s) == 13 and set(s) <= set(string.ascii_uppercase + "234567") for s in serials)


def test_gtin_check_digits():
    assert gtin_check_digit("0950600013435") == 2
    assert normalize_gtin("9506000134352") == GTIN
    assert normalize_gtin("96385074") == "00000096385074"
    for bad in ("9506000134353", "95060001343", "95060001343a2", "٩٥٠٦٠٠٠١٣٤٣٥٢"):
        with pytest.raises(ValueError):
            normalize_gtin(bad)


ai_values = st.text(alphabet=sorted(CSET82), min_size=1, max_size=20)
gtin_bodies = st.text(alphabet="0123456789", min_size=13, max_size=13)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=gtin_bodies, lot=ai_values, serial=ai_values)
def test_property_any_code_survives_the_round_trip(body, lot, serial):
    gtin = body + str(gtin_check_digit(body))
    result = parse_and_verify(_url(lot=lot, serial=serial, gtin=gtin), RING)
    assert result.status is Status.VALID
    assert (result.code.gtin, result.code.lot, result.code.serial) == (gtin, lot, serial)


ALPHABET = sorted(set(string.printable) - set(string.whitespace) | {" ", "\u00e9", "\u4e2d"})


@settings(max_examples=300, deadline=None)
@given(lot=ai_values, data=st.data())
def test_property_any_single_changed_character_fails(lot, data):
    url = _url(lot=lot)
    start = url.index("/01/")  # scheme and host name the resolver and are not signed
    position = data.draw(st.integers(min_value=start, max_value=len(url) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != url[position]))
    changed = url[:position] + replacement + url[position + 1 :]
    assert parse_and_verify(changed, RING).status is not Status.VALID


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=600), st.binary(max_size=600).map(lambda b: b.decode("latin-1"))))
def test_property_any_string_gives_a_result_never_an_exception(text):
    assert parse_and_verify(text, RING).status in set(Status)
