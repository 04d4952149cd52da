"""The transactional outbox: e-mails and webhooks written with the change that causes them,
delivered afterwards, at least once.

A message is written in its cause's transaction (:func:`enqueue`), so it exists exactly
when the cause committed. A deliverer claims due messages under a lease (``SELECT … FOR
UPDATE SKIP LOCKED``, as :mod:`tracemark.worker` claims tasks), sends each outside any
transaction, then records the outcome. A deliverer that dies between sending and
recording leaves the message pending under a lease that runs out; it is then sent again
with the same dedupe key (the e-mail's Message-ID, the webhook's ``Idempotency-Key``), so
a receiver drops the repeat. Failures are retried with exponential backoff and jitter up
to a maximum number of attempts, after which the message is dead until someone retries
it by hand (:func:`retry`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.config import Settings
from tracemark.db import newest_of_brand
from tracemark.errors import get_of_brand
from tracemark.models import (
    Brand,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    QuerySubscription,
    Rule,
)
from tracemark.models.base import utcnow
from tracemark.notify import mail, webhooks

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
#: Delay after the first failure; doubled after each further one, up to MAX_DELAY.
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=6)
MAX_ATTEMPTS = 8
#: Messages one deliverer claims at a time.
CLAIM = 20


class NotDead(ValueError):
    """Only a dead message goes back in the queue by hand."""


class Undeliverable(Exception):
    """A message that no retry can deliver (its rule or subscription was deleted): dead at
    once."""


def dedupe_key(firing_id: int, kind: MessageKind | str, recipient: str) -> str:
    """One key per (firing, recipient): the receiver's way to recognise a repeat."""
    text = f"{firing_id}\x00{MessageKind(kind).value}\x00{recipient}"
    return hashlib.sha256(text.encode()).hexdigest()


def enqueue(
    session: Session,
    brand_id: int,
    firing_id: int,
    kind: MessageKind,
    recipient: str,
    payload: dict[str, Any],
) -> OutboxMessage:
    """Add a pending message, due now, to the caller's transaction."""
    message = OutboxMessage(
        brand_id=brand_id,
        firing_id=firing_id,
        kind=kind,
        dedupe_key=dedupe_key(firing_id, kind, recipient),
        recipient=recipient,
        payload=payload,
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message


def backoff(attempts: int, rng: random.Random | None = None) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: exponential, capped, with jitter
    (between half and all of it), so failed messages do not retry in step."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** min(max(0, attempts - 1), 20))
    return delay * (rng or random).uniform(0.5, 1.0)


@dataclass(frozen=True)
class Transports:
    """How messages leave: None for e-mail keeps e-mails waiting (no SMTP server set)."""

    mailer: mail.Mailer | None
    webhooks: webhooks.WebhookSender
    base_url: str = "http://127.0.0.1:5000"
    max_attempts: int = MAX_ATTEMPTS

    @classmethod
    def from_settings(cls, settings: Settings) -> Transports:
        return cls(
            mailer=mail.Mailer.from_settings(settings),
            webhooks=webhooks.WebhookSender(
                timeout=settings.webhook_timeout,
                allow_http=settings.webhook_allow_http,
                allow_private=settings.webhook_allow_private,
            ),
            base_url=settings.public_base_url,
            max_attempts=settings.outbox_max_attempts,
        )

    @property
    def kinds(self) -> list[MessageKind]:
        return [MessageKind.WEBHOOK] if self.mailer is None else list(MessageKind)


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.dead


def claim(
    sessions: sessionmaker[Session],
    worker: str,
    kinds: list[MessageKind],
    *,
    now: dt.datetime | None = None,
    limit: int = CLAIM,
) -> list[int]:
    """Lease up to ``limit`` due messages for ``worker``, oldest due first."""
    now = now or utcnow()
    with sessions.begin() as session:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == MessageStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.kind.in_(kinds),
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        messages = list(session.scalars(query))
        for message in messages:
            message.lease_until, message.worker = now + LEASE, worker
        return [message.id for message in messages]


def deliver(
    sessions: sessionmaker[Session],
    transports: Transports,
    worker: str,
    *,
    now: dt.datetime | None = None,
    limit: int = CLAIM,
) -> Delivery:
    """Claim due messages and deliver each once; returns what happened."""
    result = Delivery()
    for message_id in claim(sessions, worker, transports.kinds, now=now, limit=limit):
        status, error = _deliver_one(sessions, transports, message_id, worker, now)
        if status is MessageStatus.SENT:
            result.sent += 1
        elif status is MessageStatus.DEAD:
            result.dead += 1
        elif status is MessageStatus.PENDING:
            result.failed += 1
        if error:
            result.errors.append(error)
    return result


def _deliver_one(
    sessions: sessionmaker[Session],
    transports: Transports,
    message_id: int,
    worker: str,
    now: dt.datetime | None,
) -> tuple[MessageStatus | None, str | None]:
    error, permanent = None, False
    try:
        with sessions() as session:  # read what to send, then send outside any transaction
            send = _sender(session, transports, session.get_one(OutboxMessage, message_id))
        send()
    except Undeliverable as failure:
        error, permanent = str(failure), True
    except Exception as failure:
        error = f"{type(failure).__name__}: {failure}"
    finished = now or utcnow()
    with sessions.begin() as session:
        message = session.get_one(OutboxMessage, message_id, with_for_update=True)
        if message.worker != worker or message.status is not MessageStatus.PENDING:
            log.warning("outbox message %s was taken over while it was sent", message_id)
            return None, error
        message.attempts += 1
        message.lease_until, message.worker = None, None
        if error is None:
            message.status, message.sent_at, message.last_error = (
                MessageStatus.SENT, finished, None
            )  # fmt: skip
        else:
            message.last_error = error[:500]
            if permanent or message.attempts >= transports.max_attempts:
                message.status = MessageStatus.DEAD
            else:
                message.next_attempt_at = finished + backoff(message.attempts)
            log.warning("outbox message %s: attempt %s failed: %s", message_id,
                        message.attempts, error)  # fmt: skip
        return message.status, error


def _sender(
    session: Session, transports: Transports, message: OutboxMessage
) -> Callable[[], object]:
    """What sends ``message``: the e-mail composed, or the webhook body and its secret.

    :raises Undeliverable: no retry can send it.
    """
    payload, key = message.payload, message.dedupe_key
    if message.kind is MessageKind.EMAIL:
        mailer = transports.mailer
        if mailer is None:
            raise Undeliverable("no SMTP server is configured")
        brand = session.get_one(Brand, message.brand_id)
        email = mail.compose(
            payload,
            message.recipient,
            key=key,
            mail_from=mailer.mail_from,
            base_url=transports.base_url,
            locale=brand.locale,
        )
        return functools.partial(mailer.send, email)
    subscription_id = _subscription_of(payload)
    if subscription_id is not None:  # a subscription's report: the document as it is
        subscription = session.get(QuerySubscription, subscription_id)
        if subscription is None or subscription.brand_id != message.brand_id:
            raise Undeliverable("the subscription was cancelled: its secret is gone")
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return functools.partial(
            transports.webhooks.send, message.recipient, body, subscription.secret, key
        )
    rule = session.get(Rule, payload["rule"]["id"])
    if rule is None or rule.brand_id != message.brand_id:
        raise Undeliverable("the rule was deleted: its webhook secret is gone")
    body = json.dumps({**payload, "id": key}, sort_keys=True, separators=(",", ":")).encode()
    return functools.partial(transports.webhooks.send, message.recipient, body, rule.secret, key)


def _subscription_of(payload: dict[str, Any]) -> int | None:
    """The subscription a message reports to (an EPCIS query document naming its
    ``subscriptionID``; see :mod:`tracemark.trace.subscriptions`), or None (a rule's)."""
    if payload.get("type") != "EPCISQueryDocument":
        return None
    found = payload.get("epcisBody", {}).get("queryResults", {}).get("subscriptionID")
    return int(found) if isinstance(found, str) and found.isdigit() else None


def retry(session: Session, message: OutboxMessage, *, actor: Actor = SYSTEM) -> None:
    """Put a dead message back in the queue, due now, with a fresh count of attempts;
    audited as ``outbox.retry``.

    :raises NotDead: it is pending or sent.
    """
    if message.status is not MessageStatus.DEAD:
        raise NotDead(f"outbox message {message.id} is {message.status.value}")
    message.status, message.attempts = MessageStatus.PENDING, 0
    message.next_attempt_at, message.lease_until, message.worker = utcnow(), None, None
    session.flush()
    details = {"kind": message.kind.value, "recipient": message.recipient}
    audit.log(session, actor, "outbox.retry", "outbox_message", message.id, details,
              brand_id=message.brand_id)  # fmt: skip


def messages(session: Session, brand: Brand, limit: int = 100) -> list[OutboxMessage]:
    """The brand's most recent messages, newest first."""
    return list(session.scalars(newest_of_brand(OutboxMessage, brand.id, limit)))


def get_message(session: Session, brand: Brand, message_id: int) -> OutboxMessage:
    """:raises NotFound: no such message, or one of another brand."""
    return get_of_brand(session, OutboxMessage, brand, message_id)
