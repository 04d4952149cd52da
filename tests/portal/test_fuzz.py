"""Hostile input to the portal and the public API never gives a server error.

Hypothesis sends random text and bytes as code paths, over-long strings, unicode, path
traversal, SQL-looking strings, NUL bytes, mutated real code URLs, random query strings
and random JSON bodies, through the Flask test client; also hostile language, address
and country headers, other routes (language switch, documents, static files, the claim
form) and methods. Every answer must be an ordinary one: never 5xx, never a stack trace,
only headers a WSGI server can send, a known verdict code on every verdict page. Rate
limits are set out of reach, so a 429 fails too (except a unit locked by wrong PINs).

Volume: the SQLite tests run ``sum(SQLITE_EXAMPLES.values())`` = 10,000 examples, one
request each (test_at_least_10000_inputs_ran checks that they all ran), and a mixed run
of ``POSTGRES_EXAMPLES`` = 500 goes to PostgreSQL. Server errors found so far are in
``FOUND`` and replayed on every run.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, quote_from_bytes, unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import PASSPHRASE
from tracemark.app import close, create_app
from tracemark.codes import issuance
from tracemark.codes.pins import ClaimStatus
from tracemark.codes.printing import batch_urls
from tracemark.scanning.scans import Verdict

SQLITE_EXAMPLES = {
    "page_path": 2500,
    "page_code_shaped": 1500,
    "page_mutated": 1500,
    "page_query": 500,
    "api_url": 2000,
    "api_json": 1000,
    "misc": 700,
    "claim": 300,
}
POSTGRES_EXAMPLES = 500
RAN: Counter[str] = Counter()

KNOWN_VERDICTS = frozenset(verdict.value for verdict in Verdict)
GENUINE = frozenset(
    {
        Verdict.GENUINE_FIRST_SCAN.value,
        Verdict.GENUINE_SCANNED_BEFORE.value,
        Verdict.SUSPICIOUS_COPY.value,
    }
)
_VERDICT = re.compile(rb'data-verdict="([^"]*)"')
_CLAIM = re.compile(rb'data-claim="([^"]*)"')
KNOWN_CLAIMS = frozenset(status.value for status in ClaimStatus)
#: 308 comes from the router merging doubled slashes (``/01//x`` → ``/01/x``).
REDIRECTS = frozenset({301, 302, 303, 307, 308})
ALLOWED = frozenset({200, 400, 404, 405}) | REDIRECTS
#: 10,500 requests: the whole module stays out of the quick subset (``-m "not slow"``).
pytestmark = pytest.mark.slow
SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
POSTGRES = pytest.mark.parametrize(
    "db", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=False,
        database=None,  # nothing written into the checkout
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --- strategies ----------------------------------------------------------------------

#: Kept raw in a request line; everything else (space, controls, non-ASCII, '#') is
#: percent-encoded as a real client would. '%' stays raw so bogus escapes get through.
RAW_SAFE = "/%?=&;:@!$'()*+,[]"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
HOSTILE = [
    "../",
    "..%2f",
    "%2e%2e/",
    "%2e%2e%2f",
    "..\\",
    "%5c..%5c",
    "/etc/passwd",
    "....//",
    "%252e%252e/",
    "' OR 1=1--",
    "'; DROP TABLE unit;--",
    '" OR ""="',
    "1; SELECT pg_sleep(0)",
    "\x00",
    "%00",
    "%",
    "%%",
    "%zz",
    "%ff",
    "%c0%ae",
    "%u002e",
    "\r\n",
    "%0d%0aSet-Cookie: x=1",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "%(brand)s",
    "%s%s%s%n",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "\u4e2d\u6587",
    "A" * 513,
    "?S=",
    "?S=1..",
    "&S=2",
    "#frag",
    "01",
    "10",
    "21",
]

#: Any character a client can put in a URL or form (UTF-8 encodable: lone surrogates are
#: sent only in JSON bodies, below).
_any_char = st.characters(codec="utf-8")
_pieces = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(_any_char, max_size=20),
    st.text(alphabet=CSET82, max_size=20),
    st.text(alphabet="0123456789", min_size=1, max_size=15),
)
#: Random text assembled from hostile pieces, plain unicode (NUL included) and code-like
#: characters; sometimes repeated past every length limit.
hostile_text = st.one_of(
    st.lists(_pieces, max_size=6).map("".join),
    st.text(_any_char, max_size=40),
    st.builds(lambda piece, n: (piece * n)[:n], _pieces.filter(bool), st.integers(500, 2500)),
)


def sendable(text: str) -> str:
    return quote(text, safe=RAW_SAFE)


def from_bytes(data: bytes) -> str:
    return quote_from_bytes(data, safe=RAW_SAFE)


@dataclass
class Req:
    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: The portal's verdict page answers: 200/400 must carry a known verdict.
    verdict_page: bool = False
    #: An altered issued code (path or signature changed): must never verify as genuine.
    must_not_be_genuine: bool = False


_segment = st.one_of(hostile_text.map(sendable), st.binary(max_size=40).map(from_bytes))

page_path = st.builds(lambda rest: Req("GET", "/01/" + rest, verdict_page=True), _segment)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _fields(code: str) -> tuple[str, str, str, str]:
    """(gtin, lot, serial, kid) of an issued code path."""
    path, query = code.split("?S=1.")
    parts = path.split("/")
    return parts[2], parts[4], parts[6], query.split(".")[0]


@functools.cache
def page_code_shaped(codes: tuple[str, ...]):
    """Code-shaped paths, ``/01/{gtin}/10/{lot}/21/{serial}?S={v}.{kid}.{sig}``, each part
    real, plausible or hostile: reaches every check of the format, the key lookup and the
    signature verification."""
    real = [_fields(code) for code in codes]
    gtin = st.one_of(st.sampled_from([f[0] for f in real]), st.text("0123456789", max_size=15))
    lot = st.one_of(st.sampled_from([f[1] for f in real]), st.text(CSET82, max_size=22))
    serial = st.one_of(st.sampled_from([f[2] for f in real]), st.text(CSET82, max_size=22))
    kid = st.one_of(st.sampled_from([f[3] for f in real]), st.text(BASE32, max_size=17))
    canonical = st.binary(min_size=64, max_size=64).map(lambda sig: _b32(sig + b"\0")[:103])
    signature = st.one_of(
        canonical,
        st.tuples(canonical, st.sampled_from(BASE32)).map(lambda t: t[0][:-1] + t[1]),
        st.binary(max_size=70).map(_b32),
    )
    version = st.sampled_from(["1", "1", "1", "2", "", "1.1", "%31"])
    part = st.one_of(gtin, lot, serial, kid, signature, version, _segment)
    slot = st.integers(0, 5)
    replaced = st.integers(0, 2)

    @st.composite
    def build(draw) -> Req:
        pieces = [draw(gtin), draw(lot), draw(serial), draw(version), draw(kid), draw(signature)]
        for _ in range(draw(replaced)):  # a hostile or misplaced piece or two
            pieces[draw(slot)] = draw(part)
        g, lo, se, v, k, si = pieces
        path = f"/01/{g}/10/{sendable(lo)}/21/{sendable(se)}?S={v}.{k}.{si}"
        return Req("GET", path, verdict_page=True)

    return build()


_EDITS = st.integers(1, 4)
_OPERATIONS = st.sampled_from(["flip", "bit", "insert", "delete", "swap", "case"])
_NEW_CHAR = st.one_of(st.sampled_from(CSET82), _any_char)
_BIT = st.integers(0, 6)


def mutate(draw, text: str) -> str:
    """Flip, bit-flip, insert, delete, swap or case-change a few characters of ``text``."""
    chars = list(text)
    for _ in range(draw(_EDITS)):
        at = draw(st.integers(0, max(len(chars) - 1, 0)))
        operation = draw(_OPERATIONS) if chars else "insert"
        if operation == "flip":
            chars[at] = draw(_NEW_CHAR)
        elif operation == "bit":
            chars[at] = chr(ord(chars[at]) ^ (1 << draw(_BIT)))
        elif operation == "insert":
            chars.insert(at, draw(_NEW_CHAR))
        elif operation == "delete":
            del chars[at]
        elif operation == "swap" and at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        else:
            chars[at] = chars[at].swapcase()
    return "".join(chars)


@functools.cache
def mutated_page(codes: tuple[str, ...]):
    originals = st.sampled_from(codes)

    @st.composite
    def build(draw) -> Req:
        original = draw(originals)
        changed = sendable(mutate(draw, original))
        if not changed.startswith("/"):
            changed = "/" + changed
        return Req(
            "GET",
            changed,
            verdict_page=changed.startswith("/01/"),
            must_not_be_genuine=changed != original,
        )

    return build()


_query_text = st.one_of(
    hostile_text.map(lambda text: quote(text, safe="=&%;+")),
    st.dictionaries(hostile_text, hostile_text, max_size=4).map(
        lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs.items())
    ),
    st.lists(st.sampled_from(["S=", "S=1.A.B", "lang=ar", "lang=", "S", "&", "=", "%"])).map(
        "".join
    ),
    hostile_text.map(lambda text: "lang=" + quote(text)),
)


@functools.cache
def page_query(codes: tuple[str, ...]):
    return with_hostile_headers(
        st.builds(
            lambda base, query: Req("GET", f"{base}?{query}", verdict_page=True),
            st.one_of(
                st.sampled_from([code.split("?")[0] for code in codes]),
                _segment.map(lambda rest: "/01/" + rest),
            ),
            _query_text,
        )
    )


@functools.cache
def api_url(codes: tuple[str, ...]):
    """The same hostile strings, and mutated real URLs, as ``url`` for GET and POST."""
    absolute = st.sampled_from(["HTTPS://TM.EXAMPLE.COM" + code for code in codes] + list(codes))

    @st.composite
    def mutated(draw) -> str:
        return mutate(draw, draw(absolute))

    url = st.one_of(hostile_text, mutated())
    # A JSON body may carry what no query string can: lone surrogates, controls.
    json_only = st.text(alphabet=st.characters(codec=None, categories=["Cs", "Co", "Cc"]))
    return st.one_of(
        st.builds(lambda u: Req("GET", "/api/v1/verify", {"query_string": {"url": u}}), url),
        st.builds(
            lambda u: Req("GET", "/api/v1/verify?url=" + sendable(u)),
            st.one_of(url, st.binary(max_size=60).map(lambda b: b.decode("latin-1"))),
        ),
        st.builds(
            lambda u: Req("POST", "/api/v1/verify", {"json": {"url": u}}),
            st.one_of(url, json_only),
        ),
        st.builds(lambda u: Req("POST", "/api/v1/verify", {"data": {"url": u}}), url),
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=10,
)
_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/octet-stream",
]
api_json = st.one_of(
    # random JSON documents, with and without a "url" member of any type
    st.builds(
        lambda value: Req(
            "POST",
            "/api/v1/verify",
            {"data": json.dumps(value), "content_type": "application/json"},
        ),
        json_values,
    ),
    st.builds(
        lambda value, extra: Req(
            "POST",
            "/api/v1/verify",
            {"data": json.dumps({**extra, "url": value}), "content_type": "application/json"},
        ),
        json_values,
        st.dictionaries(st.text(max_size=10), json_values, max_size=3),
    ),
    # raw bodies under every content type: broken JSON, broken multipart, bytes
    st.builds(
        lambda body, content_type: Req(
            "POST", "/api/v1/verify", {"data": body, "content_type": content_type}
        ),
        st.one_of(
            st.binary(max_size=200),
            hostile_text.map(lambda text: text.encode("utf-8")),
            json_values.map(lambda value: json.dumps(value)[:-1].encode()),
        ),
        st.sampled_from(_CONTENT_TYPES),
    ),
)

_PREFIXES = [
    "/",
    "/01",
    "/01/",
    "/static/",
    "/documents/1/",
    "/images/1/",
    "/lang/",
    "/api/v1/",
    "/api/v1/verify/",
    "/.well-known/tracemark/",
    "/claim/",
    "//",
]


@st.composite
def with_hostile_headers(draw, requests) -> Req:
    """Sometimes add hostile language, user agent, client address and country headers."""
    req = draw(requests)
    if draw(st.booleans()):
        headers = req.kwargs.setdefault("headers", {})
        headers["Accept-Language"] = draw(_header_text)
        headers["User-Agent"] = draw(_header_text)
        headers["Cookie"] = "tm_lang=" + quote(draw(hostile_text))
        headers["X-Forwarded-For"] = draw(_address)
        headers["CF-IPCountry"] = draw(_country)
    return req


_header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255))
_address = st.one_of(st.ip_addresses().map(str), _header_text)
_country = st.one_of(st.sampled_from(["ES", "FR", "US", "XX", "T1", "es", ""]), _header_text)

misc = with_hostile_headers(
    st.one_of(
        # anywhere: traversal into static files, unknown routes, doubled slashes
        st.builds(
            lambda prefix, rest: Req("GET", prefix + rest), st.sampled_from(_PREFIXES), _segment
        ),
        # the language switcher's redirect target
        st.builds(
            lambda code, target: Req("GET", f"/lang/{code}?next={target}"),
            st.one_of(st.sampled_from(["en", "fr", "zh-Hans", "ar", "pt_BR"]), _segment),
            st.one_of(_segment, _segment.map(lambda text: "/" + text)),
        ),
        # document ids past every integer type
        st.builds(
            lambda number, name: Req("GET", f"/documents/{number}/{name}"),
            st.one_of(st.integers(0, 2**31), st.integers(2**63 - 2, 2**80)),
            _segment.filter(lambda text: text and "/" not in text and "?" not in text),
        ),
        # picture ids past every integer type, with any hash and extension
        st.builds(
            lambda number, name: Req("GET", f"/images/{number}/{name}"),
            st.one_of(st.integers(0, 2**31), st.integers(2**63 - 2, 2**80)),
            _segment.filter(lambda text: text and "/" not in text and "?" not in text),
        ),
        # methods the routes do not take
        st.builds(
            lambda method, path: Req(method, path),
            st.sampled_from(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST", "TRACE"]),
            st.sampled_from(
                ["/api/v1/verify", "/01/x/10/y/21/z?S=1.A.B", "/.well-known/tracemark/keys.json"]
            ),
        ),
    )
)


@functools.cache
def claim_form(codes: tuple[str, ...]):
    """The claim form posted with hostile or altered codes and PINs (codes take PINs)."""
    code = st.one_of(
        hostile_text, st.sampled_from(codes), mutated_page(codes).map(lambda r: r.path)
    )
    pin = st.one_of(hostile_text, st.text("0123456789 ", max_size=12))
    fields = st.fixed_dictionaries({}, optional={"code": code, "pin": pin, "csrf_token": pin})
    return with_hostile_headers(
        st.builds(lambda data: Req("POST", "/claim", {"data": data}), fields)
    )


@functools.cache
def any_request(codes: tuple[str, ...]):
    return st.one_of(
        with_hostile_headers(page_path),
        page_code_shaped(codes),
        mutated_page(codes),
        page_query(codes),
        api_url(codes),
        api_json,
        misc,
        claim_form(codes),
    )


# --- the app under fire ----------------------------------------------------------------


class _Captured(logging.Handler):
    """Keeps the tracebacks the app logs for unhandled errors, to report them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append("".join(traceback.format_exception(*record.exc_info)))


@dataclass
class Target:
    app: Flask
    client: FlaskClient
    codes: tuple[str, ...]
    errors: _Captured


@pytest.fixture
def target(db, demo, settings):
    issuance.issue(db.sessions, demo.batch.id, 4, PASSPHRASE, with_pin=True)
    with db.sessions() as session:
        batch = session.merge(demo.batch)
        urls = [url for _serial, url, _pin in batch_urls(session, batch, "http://x")]
    codes = tuple(url[url.index("/01/") :] for url in urls)
    deployed = replace(
        settings,
        scan_rate_limit="1000000/minute",
        claim_rate_limit="1000000/minute",
        country_header="CF-IPCountry",  # as behind a CDN: these headers are fuzzed too
        proxies=1,
    )
    # No CSRF token to fetch first: the claim form is fuzzed directly.
    app = create_app(deployed, {"TESTING": True, "WTF_CSRF_ENABLED": False})
    captured = _Captured()
    app.logger.addHandler(captured)
    # No cookie jar: each request stands alone (a failing example replays the same).
    yield Target(app, app.test_client(use_cookies=False), codes, captured)
    app.logger.removeHandler(captured)
    close(app)


def send(target: Target, req: Req) -> None:
    """One request; fail with the input and the server's traceback on a server error."""
    target.errors.records.clear()
    shown = f"{req.method} {req.path!r} {req.kwargs!r}"
    kwargs = dict(req.kwargs)
    path = req.path
    if path.startswith("//"):
        # The test client reads "//x/..." as a host; a server gets it as the path.
        path, _, query = path.partition("?")
        kwargs["environ_overrides"] = {
            "PATH_INFO": unquote(path).encode().decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": req.path,
            "REQUEST_URI": req.path,
        }
        path = "/"
    try:
        response = target.client.open(path, method=req.method, **kwargs)
    except Exception as exc:  # propagated out of the app: a 500 in production
        pytest.fail(f"server raised for {shown}:\n{traceback.format_exc()}\n{exc!r}")
    status, body = response.status_code, response.get_data()
    server_trace = "\n".join(target.errors.records)
    assert status < 500, f"{status} for {shown}\n{server_trace}"
    assert b"Traceback" not in body, f"stack trace in the body for {shown}"
    claimed = _CLAIM.search(body) if req.path == "/claim" else None
    if status == 429:  # only a unit locked after wrong PINs; never the rate limits
        assert claimed and claimed.group(1) == b"locked", f"rate limited: {shown}"
    else:
        # the resolver answers a CORS preflight (GS1 Digital Link) with 204
        allowed = ALLOWED | {204} if req.method == "OPTIONS" else ALLOWED
        assert status in allowed, f"unexpected {status} for {shown}"
    for name, value in response.headers.items():
        # What a WSGI server must be able to write (PEP 3333: latin-1); gunicorn fails
        # the response otherwise, which the test client alone would not show.
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            pytest.fail(f"header {name}: {value!r} cannot be sent, for {shown}")
    if status in REDIRECTS:
        location = response.headers.get("Location", "")
        assert location.startswith(("/", "http://localhost/")), f"{location!r} for {shown}"
        assert not location.startswith("//"), f"{location!r} for {shown}"
    if req.method in ("HEAD", "OPTIONS"):
        return
    if req.verdict_page and status in (200, 400) and _signed(req.path):
        found = _VERDICT.search(body)
        assert found, f"no verdict on the page for {shown}"
        verdict = found.group(1).decode()
        assert verdict in KNOWN_VERDICTS, f"unknown verdict {verdict!r} for {shown}"
        if req.must_not_be_genuine:
            assert verdict not in GENUINE, f"altered code verified as {verdict} for {shown}"
    if req.path == "/claim":
        assert claimed and claimed.group(1).decode() in KNOWN_CLAIMS, f"no claim status: {shown}"
    if req.path.startswith("/api/") and status != 308:
        payload = response.get_json(silent=True)
        assert isinstance(payload, dict), f"API answered {response.mimetype} for {shown}"
        if status == 200 and req.path.startswith("/api/v1/verify"):
            assert payload["verdict"] in KNOWN_VERDICTS, shown
        elif status != 200:
            assert set(payload) == {"error", "message"}, f"{payload!r} for {shown}"


def _signed(path: str) -> bool:
    """Whether the verdict page answers ``path`` (see ``portal.resolver.wants_resolution``);
    other Digital Link URIs get the resolver, whose answers are checked in
    test_resolver.py."""
    query = path.partition("?")[2]
    return query.startswith("S=") and "linkType=" not in query


def _run(name: str, target: Target, req: Req) -> None:
    send(target, req)
    RAN[name] += 1


# --- SQLite: 10,000 examples -------------------------------------------------------------


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["page_path"])
@given(req=with_hostile_headers(page_path))
def test_page_random_paths(target, req):
    _run("page_path", target, req)


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["page_code_shaped"])
@given(data=st.data())
def test_page_code_shaped_paths(target, data):
    _run("page_code_shaped", target, data.draw(page_code_shaped(target.codes)))


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["page_mutated"])
@given(data=st.data())
def test_page_mutated_real_codes(target, data):
    _run("page_mutated", target, data.draw(mutated_page(target.codes)))


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["page_query"])
@given(data=st.data())
def test_page_random_query_strings(target, data):
    _run("page_query", target, data.draw(page_query(target.codes)))


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["api_url"])
@given(data=st.data())
def test_api_hostile_urls(target, data):
    _run("api_url", target, data.draw(api_url(target.codes)))


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["api_json"])
@given(req=api_json)
def test_api_random_bodies(target, req):
    _run("api_json", target, req)


#: Server errors this module found: replayed on every run, on both databases.
FOUND = [
    Req("GET", "/lang/en?next=/%0D"),
    Req("GET", "/lang/en?next=/x%0ASet-Cookie:%20a=b"),
    Req("GET", "/documents/9223372036854775808/report.pdf"),
    Req("GET", "/documents/2147483648/report.pdf"),
]


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["misc"])
@given(req=misc)
@example(req=FOUND[0])
@example(req=FOUND[1])
@example(req=FOUND[2])
@example(req=FOUND[3])
def test_other_routes_and_methods(target, req):
    _run("misc", target, req)


@SQLITE
@fuzz_settings(SQLITE_EXAMPLES["claim"])
@given(data=st.data())
def test_claim_form(target, data):
    _run("claim", target, data.draw(claim_form(target.codes)))


def test_at_least_10000_inputs_ran():
    """Runs after the SQLite tests above (file order); checks they ran their examples."""
    if set(RAN) != set(SQLITE_EXAMPLES):
        pytest.skip("only with the whole SQLite set of this module")
    assert sum(RAN[name] for name in SQLITE_EXAMPLES) >= 10_000, dict(RAN)


# --- PostgreSQL: a smaller mixed run ---------------------------------------------------


@POSTGRES
@fuzz_settings(POSTGRES_EXAMPLES)
@given(data=st.data())
def test_postgresql_mixed(target, data):
    send(target, data.draw(any_request(target.codes)))


@POSTGRES
@pytest.mark.parametrize("req", FOUND, ids=lambda req: req.path)
def test_postgresql_found(target, req):
    send(target, req)
