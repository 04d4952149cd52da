import pytest

from tracemark.resolver.identifiers import SyntaxProblem, parse
from tracemark.resolver.vocabulary import UnknownLinkType, compact, uri


def test_a_unit_uri_parses_into_gtin_qualifiers_and_query():
    link = parse("/01/09506000134352/10/L%2F1/21/ABC", "S=1.K.SIG&17=261231&foo=bar")
    assert link.gtin == "09506000134352"
    assert link.qualifiers == (("10", "L/1"), ("21", "ABC"))
    assert link.attributes == {"17": "261231"}
    assert link.param("S") == "1.K.SIG" and link.param("foo") == "bar"
    assert link.path == "/01/09506000134352/10/L%2F1/21/ABC"
    assert link.levels == ["/10/L%2F1/21/ABC", "/10/L%2F1", ""]


def test_short_gtins_are_padded_and_a_trailing_slash_is_tolerated():
    assert parse("/01/9506000134352/").path == "/01/09506000134352"


def test_every_qualifier_in_the_standards_order():
    link = parse("/01/09506000134352/22/V1/10/L1/235/TPX-1")
    assert [ai for ai, _value in link.qualifiers] == ["22", "10", "235"]


@pytest.mark.parametrize(
    ("path", "query", "reason"),
    [
        ("/01/09506000134353", "", "bad_gtin"),
        ("/01/0950600013435", "", "bad_gtin"),
        ("/01/09506000134352/10", "", "bad_path"),
        ("/01/09506000134352/10/L1/foo", "", "bad_path"),
        ("/01/09506000134352/99/x", "", "unknown_qualifier"),
        ("/01/09506000134352/21/S/10/L", "", "qualifier_order"),
        ("/01/09506000134352/21/S/235/T", "", "qualifier_order"),
        ("/01/09506000134352/10/" + "L" * 21, "", "bad_qualifier_value"),
        ("/01/09506000134352/10/%C3%A9", "", "bad_qualifier_value"),
        ("/01/09506000134352/10/%ff", "", "bad_qualifier_value"),
        ("/01/09506000134352", "17=261332", "bad_attribute"),
        ("/01/09506000134352", "17=2612", "bad_attribute"),
        ("/01/09506000134352", "10=L1", "qualifier_in_query"),
        ("/01/09506000134352", "3103=1&3103=2", "bad_attribute"),
        ("/01/" + "9" * 5000, "", "too_long"),
        ("/01/09506000134352/10/é", "", "bad_characters"),
    ],
)
def test_syntax_errors_have_stable_reasons(path, query, reason):
    with pytest.raises(SyntaxProblem) as raised:
        parse(path, query)
    assert raised.value.reason == reason


def test_link_types_in_every_spelling_compact_to_the_gs1_term():
    assert compact("gs1:pip") == "gs1:pip"
    assert compact("https://gs1.org/voc/pip") == "gs1:pip"
    assert compact("http://gs1.org/voc/recallStatus") == "gs1:recallStatus"
    assert compact("https://example.com/voc/thing") == "https://example.com/voc/thing"
    assert uri("gs1:pip") == "https://gs1.org/voc/pip"


@pytest.mark.parametrize("value", ["gs1:nothing", "https://gs1.org/voc/nothing", "pip", "ftp://x"])
def test_unknown_link_types_are_refused(value):
    with pytest.raises(UnknownLinkType):
        compact(value)
