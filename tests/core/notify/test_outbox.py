"""The outbox: e-mail through a real SMTP server, signed webhooks to a real HTTP server,
retries with backoff, dead messages, and redelivery after a worker died mid-send."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from tests.core.trace.trace_chain import document
from tests.helpers.quality import QC_FAILED, inspection
from tracemark import worker as jobs
from tracemark.models import Brand, MessageKind, MessageStatus, OutboxMessage, Rule
from tracemark.models.base import as_utc, utcnow
from tracemark.notify import mail, outbox, webhooks
from tracemark.quality import rules
from tracemark.quality.rules import RuleSpec
from tracemark.trace import capture


@pytest.fixture
def drained(db) -> None:
    """No other test's message waits in the shared outbox."""
    with db.sessions.begin() as session:
        pending = OutboxMessage.status == MessageStatus.PENDING
        session.execute(update(OutboxMessage).where(pending).values(status=MessageStatus.DEAD))


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, _server, _session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.envelopes.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (the controller checks its own by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class _Receiver:
    """Answers ``failures`` 500s, then 200s; keeps what arrived."""

    failures: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, str]]:
    state = _Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            failing = len(state.received) <= state.failures
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _transports(smtp_port: int | None = None, *, max_attempts: int = 8) -> outbox.Transports:
    mailer = None
    if smtp_port is not None:
        config = mail.SmtpConfig.from_url(f"smtp://127.0.0.1:{smtp_port}")
        mailer = mail.Mailer(config, "Tracemark <alerts@tm.example.com>")
    sender = webhooks.WebhookSender(timeout=5, allow_http=True, allow_private=True)
    return outbox.Transports(mailer, sender, "https://tm.example.com", max_attempts)


def _fire(db, demo, actions, *, locale: str | None = None) -> int:
    """A QC-failed rule with ``actions``, fired by one captured event; returns the rule."""
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        brand.locale = locale
        spec = RuleSpec("QC failed", "failed", actions)
        rule_id = rules.create_rule(session, brand, spec, allow_http=True, allow_private=True).id
        failed = inspection("urn:uuid:qc-1", QC_FAILED, disposition="non_conformant")
        capture.capture_document(session, brand, document([failed]))
    return rule_id


def _messages(db, brand_id) -> list[OutboxMessage]:
    with db.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.brand_id == brand_id)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def test_an_email_arrives_once_at_exactly_its_recipients(db, demo, drained, smtp):
    inbox, port = smtp
    notify = {"type": "notify", "emails": ["purchasing@example.com", "qa@example.com"]}
    _fire(db, demo, [{"type": "hold_batch"}, notify], locale="fr")
    transports = _transports(port)
    assert outbox.deliver(db.sessions, transports, "w1").sent == 2
    assert outbox.deliver(db.sessions, transports, "w1").attempted == 0
    assert sorted(tos for tos, _ in inbox.envelopes) == [
        ["purchasing@example.com"],
        ["qa@example.com"],
    ]
    messages = {m.recipient: m for m in _messages(db, demo.brand.id)}
    assert all(m.status is MessageStatus.SENT and m.attempts == 1 for m in messages.values())
    for tos, message in inbox.envelopes:
        key = messages[tos[0]].dedupe_key
        assert message["Message-ID"] == f"<{key}@tm.example.com>"
        assert message["To"] == tos[0]
        assert message["Subject"] == "La règle « QC failed » s\u2019est déclenchée"
        body = message.get_content()
        assert "L2401A" in body and "urn:uuid:qc-1" in body
        assert f"https://tm.example.com/admin/brands/{demo.brand.slug}/batches/" in body


def test_a_webhook_is_signed_and_retried_with_backoff_until_it_is_taken(
    db, demo, drained, receiver
):
    state, url = receiver
    state.failures = 2
    rule_id = _fire(db, demo, [{"type": "webhook", "url": url}])
    with db.sessions() as session:
        secret = session.get_one(Rule, rule_id).secret
    transports, now = _transports(), utcnow()
    for attempt in (1, 2):
        delivery = outbox.deliver(db.sessions, transports, "w1", now=now)
        assert (delivery.sent, delivery.failed) == (0, 1), attempt
        (message,) = _messages(db, demo.brand.id)
        assert message.attempts == attempt and message.last_error == "WebhookError: HTTP 500"
        wait = as_utc(message.next_attempt_at) - now
        base = outbox.BASE_DELAY * 2 ** (attempt - 1)
        assert base / 2 <= wait <= base  # exponential, with jitter
        # not due before its time
        assert outbox.deliver(db.sessions, transports, "w1", now=now).attempted == 0
        now = as_utc(message.next_attempt_at)
    assert outbox.deliver(db.sessions, transports, "w1", now=now).sent == 1
    (message,) = _messages(db, demo.brand.id)
    assert message.status is MessageStatus.SENT and message.attempts == 3
    assert len(state.received) == 3
    keys = {headers["Idempotency-Key"] for headers, _ in state.received}
    assert keys == {message.dedupe_key}
    for headers, body in state.received:
        assert webhooks.verify(secret, headers["Tracemark-Signature"], body)
        assert not webhooks.verify("another secret", headers["Tracemark-Signature"], body)
        assert not webhooks.verify(secret, headers["Tracemark-Signature"], body + b" ")
        sent = json.loads(body)
        assert sent["rule"] == {"id": rule_id, "name": "QC failed"}
        assert sent["event"]["id"] == "urn:uuid:qc-1" and sent["id"] == message.dedupe_key


def test_a_message_is_dead_after_the_last_attempt_and_can_be_retried(db, demo, drained, receiver):
    state, url = receiver
    state.failures = 10
    _fire(db, demo, [{"type": "webhook", "url": url}])
    transports, now = _transports(max_attempts=3), utcnow()
    for _ in range(3):
        outbox.deliver(db.sessions, transports, "w1", now=now)
        now += outbox.MAX_DELAY
    (message,) = _messages(db, demo.brand.id)
    assert message.status is MessageStatus.DEAD and message.attempts == 3
    assert outbox.deliver(db.sessions, transports, "w1", now=now).attempted == 0
    state.failures = 0
    with db.sessions.begin() as session:
        message = session.get_one(OutboxMessage, message.id)
        outbox.retry(session, message)
        with pytest.raises(outbox.NotDead):
            outbox.retry(session, message)
    assert outbox.deliver(db.sessions, transports, "w1").sent == 1


def test_a_webhook_of_a_deleted_rule_is_dead_at_once(db, demo, drained, receiver):
    _state, url = receiver
    rule_id = _fire(db, demo, [{"type": "webhook", "url": url}])
    with db.sessions.begin() as session:
        session.delete(session.get_one(Rule, rule_id))
    assert outbox.deliver(db.sessions, _transports(), "w1").dead == 1


class _Killed(BaseException):
    """The worker's process ending between sending and recording (no ``except`` holds it)."""


def test_a_worker_killed_after_sending_leaves_a_lease_and_the_copy_has_the_same_key(
    db, demo, drained, smtp, receiver, monkeypatch
):
    inbox, port = smtp
    state, url = receiver
    notify = {"type": "notify", "emails": ["qa@example.com"]}
    _fire(db, demo, [notify, {"type": "webhook", "url": url}])
    transports, now = _transports(port), utcnow()
    real = outbox._sender

    def send_then_die(*args, **kwargs):
        send = real(*args, **kwargs)

        def die_after_sending():
            send()
            raise _Killed

        return die_after_sending

    monkeypatch.setattr(outbox, "_sender", send_then_die)
    for _ in range(2):  # the e-mail, then the webhook: each dies after sending
        with pytest.raises(_Killed):
            outbox.deliver(db.sessions, transports, "dying", now=now, limit=1)
    monkeypatch.setattr(outbox, "_sender", real)
    assert all(m.status is MessageStatus.PENDING for m in _messages(db, demo.brand.id))
    # under lease: another worker leaves them alone until it runs out
    assert outbox.deliver(db.sessions, transports, "w2", now=now).attempted == 0
    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    assert outbox.deliver(db.sessions, transports, "w2", now=later).sent == 2
    assert outbox.deliver(db.sessions, transports, "w2", now=later).attempted == 0
    email_key, webhook_key = (m.dedupe_key for m in _messages(db, demo.brand.id))
    assert [m["Message-ID"] for _, m in inbox.envelopes] == [f"<{email_key}@tm.example.com>"] * 2
    assert [h["Idempotency-Key"] for h, _ in state.received] == [webhook_key] * 2


def test_the_worker_delivers_the_outbox_beside_its_tasks(db, demo, drained, idle_queue, smtp):
    inbox, port = smtp
    _fire(db, demo, [{"type": "notify", "emails": ["qa@example.com"]}])
    transports = _transports(port)
    jobs.run_worker(
        db.sessions,
        "unused",
        once=True,
        deliver=lambda: outbox.deliver(db.sessions, transports, "w1").attempted,
    )
    assert [tos for tos, _ in inbox.envelopes] == [["qa@example.com"]]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.com/tm", True),
        ("http://hooks.example.com/tm", False),
        ("https://localhost/x", False),
        ("https://127.0.0.1/x", False),
        ("https://10.1.2.3/x", False),
        ("https://[::1]/x", False),
        ("https://169.254.169.254/latest", False),
        ("https://user:pw@hooks.example.com/", False),
        ("https://hooks.example.com:99999/", False),
        ("ftp://hooks.example.com/", False),
        ("https://hooks.example.com/a b", False),
        ("https:///nohost", False),
    ],
)
def test_webhook_urls_are_https_to_public_hosts_by_default(url, allowed):
    if allowed:
        assert webhooks.check_url(url) == url
    else:
        with pytest.raises(ValueError):
            webhooks.check_url(url)


def test_a_name_resolving_to_a_private_address_is_refused_when_sending():
    host = socket.gethostname()  # a name of this machine: never a public address in CI
    addresses = {info[4][0] for info in socket.getaddrinfo(host, 9)}
    if any(ipaddress.ip_address(a).is_global for a in addresses):
        pytest.skip(f"{host} resolves to a public address here")
    sender = webhooks.WebhookSender(timeout=1, allow_http=True)
    with pytest.raises(webhooks.WebhookError, match="non-public"):
        sender.send(f"http://{host}:9/x", b"{}", "s", "k")


def test_smtp_urls_carry_tls_and_credentials():
    config = mail.SmtpConfig.from_url("smtps://alerts%40x:p%3Aw@mail.example.com")
    assert (config.host, config.port, config.tls) == ("mail.example.com", 465, True)
    assert (config.username, config.password) == ("alerts@x", "p:w")
    plain = mail.SmtpConfig.from_url("smtp://mail.example.com:587", starttls=True)
    assert (plain.port, plain.tls, plain.starttls) == (587, False, True)
    with pytest.raises(Exception, match="TRACEMARK_SMTP_URL"):
        mail.SmtpConfig.from_url("http://mail.example.com")


def test_backoff_grows_and_is_capped():
    assert all(outbox.BASE_DELAY / 2 <= outbox.backoff(1) <= outbox.BASE_DELAY for _ in range(20))
    assert outbox.backoff(4) >= outbox.BASE_DELAY * 4
    assert outbox.backoff(60) <= outbox.MAX_DELAY


def test_kinds_without_a_transport_wait(db):
    transports = _transports()
    assert transports.kinds == [MessageKind.WEBHOOK]


def test_outbox_deliver_once_sends_what_is_due_and_stops(db, demo, drained, smtp):
    from click.testing import CliRunner

    from tracemark.cli import main

    inbox, port = smtp
    _fire(db, demo, [{"type": "notify", "emails": ["qa@example.com"]}])
    env = {
        "TRACEMARK_DATABASE_URL": db.url,
        "TRACEMARK_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "TRACEMARK_MAIL_FROM": "alerts@tm.example.com",
    }
    invoke = CliRunner().invoke
    result = invoke(main, ["outbox", "deliver", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "1 sent, 0 to retry, 0 dead" in result.output
    result = invoke(main, ["outbox", "deliver", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and result.output == ""
    assert [tos for tos, _ in inbox.envelopes] == [["qa@example.com"]]


def test_delivery_settings_come_from_the_environment():
    from tracemark.config import Settings

    settings = Settings.from_env(
        {
            "TRACEMARK_SMTP_URL": "smtp://mail.example.com:587",
            "TRACEMARK_SMTP_STARTTLS": "1",
            "TRACEMARK_MAIL_FROM": "alerts@example.com",
            "TRACEMARK_WEBHOOK_ALLOW_PRIVATE": "1",
            "TRACEMARK_WEBHOOK_TIMEOUT": "3",
            "TRACEMARK_OUTBOX_MAX_ATTEMPTS": "4",
        }
    )
    transports = outbox.Transports.from_settings(settings)
    assert transports.mailer is not None and transports.mailer.config.starttls
    assert transports.mailer.mail_from == "alerts@example.com"
    assert transports.webhooks == webhooks.WebhookSender(3.0, False, True)
    assert transports.max_attempts == 4 and transports.kinds == list(MessageKind)
    assert outbox.Transports.from_settings(Settings.from_env({})).mailer is None
