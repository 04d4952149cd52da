"""Webhook targets: every non-public form refused at save and at delivery alike, one
resolution per delivery with the connection pinned to the checked address, and TLS still
verified against the URL's host name."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tracemark.notify import webhooks
from tracemark.quality import rules
from tracemark.quality.rules import Operator, RuleError, RuleSpec


def _wide(text: str) -> str:
    """``text`` in full-width letters and digits."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


INTERNAL = [
    "https://2130706433/x",  # 127.0.0.1 as one integer
    "https://0x7f000001/x",
    "https://0177.0.0.1/x",
    "https://127.1/x",
    "https://0/x",
    "https://0.0.0.0/x",
    "https://167772161/x",  # 10.0.0.1
    "https://[::127.0.0.1]/x",  # IPv4-compatible
    "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped
    "https://[::ffff:7f00:1]/x",
    "https://[64:ff9b::127.0.0.1]/x",  # NAT64 of loopback
    "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of the metadata address
    "https://[64:ff9b:1::a00:1]/x",
    "https://[2002:7f00:1::1]/x",  # 6to4 of loopback
    "https://[2002:c0a8:101::1]/x",  # 6to4 of 192.168.1.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",  # Teredo
    "https://[fec0::1]/x",  # site-local
    "https://[fe80::1%25eth0]/x",
    "https://[ff02::1]/x",
    "https://100.64.0.1/x",
    f"https://{_wide('localhost')}/x",  # full-width: localhost once IDNA-encoded
    f"https://{_wide('127')}.{_wide('0')}.{_wide('0')}.{_wide('1')}/x",
    "https://127\u30020\u30020\u30021/x",  # ideographic full stops
    "https://1.2.3.4.5/x",  # numeric, but no address
    "https://09.1.1.1/x",  # octal with a 9
]
PUBLIC = [
    "https://hooks.example.com/x",
    "https://8.8.8.8/x",
    "https://[2606:4700:4700::1111]/x",
    "https://[64:ff9b::808:808]/x",  # NAT64 of a public address
    "https://[2002:808:808::1]/x",  # 6to4 of a public address
    "https://1e100.net/x",
    "https://bücher.example/x",
]


def _spec(url: str) -> RuleSpec:
    return RuleSpec(
        name="hook", operator=Operator.FAILED, actions=[{"type": "webhook", "url": url}]
    )


@pytest.fixture
def no_network(monkeypatch) -> list:
    """Every connection attempt is recorded and refused; names resolve as ``names`` says."""
    attempts: list = []

    def connect(address, *_args, **_kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", connect)
    return attempts


@pytest.mark.parametrize("url", INTERNAL)
def test_non_public_forms_are_refused_at_save_and_at_delivery(url, no_network):
    with pytest.raises(ValueError):
        webhooks.check_url(url)
    with pytest.raises(RuleError) as refused:
        rules.check(_spec(url))
    assert refused.value.field == "webhook_url"
    sender = webhooks.WebhookSender(timeout=1)
    with pytest.raises(webhooks.WebhookError):
        sender.send(url, b"{}", "secret", "key")
    assert no_network == []  # refused before any connection


@pytest.mark.parametrize("url", PUBLIC)
def test_public_hosts_pass_the_same_check(url):
    assert webhooks.check_url(url) == url
    assert rules.check(_spec(url))["actions"] == [{"type": "webhook", "url": url}]


def _answers(monkeypatch, table: dict[str, list[list[str]]]) -> list[str]:
    """Fake DNS: each lookup of a name in ``table`` takes the next answer of its list."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:  # an address: what the system makes of it
            return real(host, port, *args, **kwargs)
        asked.append(host)
        answer = table[host].pop(0) if len(table[host]) > 1 else table[host][0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_rebinding_name_is_resolved_once_and_the_checked_address_connected(
    monkeypatch, no_network
):
    # the first answer is public, every later one points inside
    asked = _answers(monkeypatch, {"rebind.example.com": [["93.184.215.14"], ["127.0.0.1"]]})
    sender = webhooks.WebhookSender(timeout=1)
    with pytest.raises(webhooks.WebhookError, match="ConnectionRefused"):
        sender.send("https://rebind.example.com/hook", b"{}", "secret", "key")
    assert asked == ["rebind.example.com"]
    assert no_network == [("93.184.215.14", 443)]


@pytest.mark.parametrize(
    "answer", [["93.184.215.14", "10.0.0.7"], ["::ffff:192.168.0.1"], ["64:ff9b::7f00:1"]]
)
def test_a_name_with_any_non_public_address_is_refused_when_sending(
    monkeypatch, no_network, answer
):
    _answers(monkeypatch, {"mixed.example.com": [answer]})
    sender = webhooks.WebhookSender(timeout=1)
    with pytest.raises(webhooks.WebhookError, match="non-public"):
        sender.send("https://mixed.example.com/hook", b"{}", "secret", "key")
    assert no_network == []


def _certificate(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_receiver(tmp_path) -> Iterator[tuple[int, bytes, dict]]:
    """An https receiver on 127.0.0.1 with a certificate for ``hooks.test`` only."""
    cert, key = _certificate("hooks.test")
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    seen: dict = {"sni": [], "host": []}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda _sock, name, _ctx: seen["sni"].append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen["host"].append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert, seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_pinned_https_delivery_keeps_sni_and_verifies_the_host_name(monkeypatch, tls_receiver):
    port, cert, seen = tls_receiver
    _answers(monkeypatch, {"hooks.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    trusted = ssl.create_default_context(cadata=cert.decode())
    sender = webhooks.WebhookSender(timeout=5, allow_private=True, context=trusted)
    assert sender.send(f"https://hooks.test:{port}/hook", b"{}", "secret", "key") == 204
    assert seen["sni"] == ["hooks.test"]
    assert seen["host"] == [f"hooks.test:{port}"]
    # the same address under a name the certificate does not carry is not trusted
    with pytest.raises(webhooks.WebhookError, match=r"certificate|SSL"):
        sender.send(f"https://other.test:{port}/hook", b"{}", "secret", "key")
    assert seen["host"] == [f"hooks.test:{port}"]
    # nor is a receiver whose certificate no trusted authority signed
    with pytest.raises(webhooks.WebhookError, match=r"certificate|SSL"):
        webhooks.WebhookSender(timeout=5, allow_private=True).send(
            f"https://hooks.test:{port}/hook", b"{}", "secret", "key"
        )
