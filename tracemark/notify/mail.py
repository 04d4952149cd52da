"""E-mails of rule firings: the text, in the brand's language, and sending over SMTP.

The Message-ID is derived from the outbox message's dedupe key, so the copy a retry sends
after a lost acknowledgement carries the same ID and a mail system (or a person's
filter) can drop it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote, urlsplit

from tracemark.config import ConfigError, Settings
from tracemark.i18n import N_, translate

#: The text of each action taken, in the e-mail (translated).
ACTION_TEXTS = {
    "hold_batch": N_("batch put on hold"),
    "lock_lot": N_("material lot locked"),
    "notify": N_("people notified"),
    "webhook": N_("webhook called"),
}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, starttls: bool = False) -> SmtpConfig:
        """``smtp://[user:password@]host[:port]`` (port 25) or ``smtps://…`` (465).

        :raises ConfigError: another scheme, no host, or a bad port.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("TRACEMARK_SMTP_URL is smtp://host:port or smtps://host:port")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError("TRACEMARK_SMTP_URL has a bad port") from None
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if tls else 25),
            tls=tls,
            starttls=starttls and not tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Mailer:
    """Sends one message per SMTP connection (rule mail is rare; nothing to pool)."""

    def __init__(self, config: SmtpConfig, mail_from: str) -> None:
        self.config, self.mail_from = config, mail_from

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        """None when no SMTP server is configured."""
        if not settings.smtp_url:
            return None
        config = SmtpConfig.from_url(settings.smtp_url, starttls=settings.smtp_starttls)
        return cls(config, settings.mail_from)

    def send(self, message: EmailMessage) -> None:
        """:raises smtplib.SMTPException, OSError: not accepted."""
        config, context = self.config, ssl.create_default_context()
        if config.tls:
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client as smtp:
            if config.starttls:
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)


def message_id(key: str, mail_from: str) -> str:
    domain = mail_from.rsplit("@", 1)[-1].strip("<> ") or "tracemark"
    return f"<{key}@{domain}>"


def batch_link(base_url: str, slug: str, batch_id: int) -> str:
    return f"{base_url.rstrip('/')}/admin/brands/{slug}/batches/{batch_id}"


def compose(
    payload: dict[str, Any],
    recipient: str,
    *,
    key: str,
    mail_from: str,
    base_url: str,
    locale: str | None,
) -> EmailMessage:
    """The plain-text e-mail of one firing (see :func:`tracemark.quality.rule_actions.payload`)."""

    def t(text: str, **params: object) -> str:
        return translate(locale, text, **params)

    rule, event, brand = payload["rule"], payload["event"], payload["brand"]
    none = "—"
    lines = [
        t(N_("The rule “%(rule)s” of %(brand)s matched an event."),
          rule=rule["name"], brand=brand["name"]),
        "",
        t(N_("Event: %(event)s"), event=event["id"]),
        t(N_("Time: %(time)s"), time=event["time"]),
        t(N_("Business step: %(step)s"), step=event.get("biz_step") or none),
        t(N_("Disposition: %(disposition)s"), disposition=event.get("disposition") or none),
    ]  # fmt: skip
    for batch in payload.get("batches", []):
        lines.append(
            t(
                N_("Batch %(lot)s (GTIN %(gtin)s): %(link)s"),
                lot=batch["lot"],
                gtin=batch["gtin"],
                link=batch_link(base_url, brand["slug"], batch["id"]),
            )
        )
    for lot in payload.get("lots", []):
        lines.append(t(N_("Material lot: %(lot)s"), lot=lot["epc_class"]))
    done = [t(ACTION_TEXTS[a["type"]]) for a in payload.get("actions", []) if a.get("done")]
    if done:
        lines.append(t(N_("Actions taken: %(actions)s"), actions=", ".join(done)))
    message = EmailMessage()
    message["Subject"] = t(N_("Rule “%(rule)s” fired"), rule=rule["name"])
    message["From"] = mail_from
    message["To"] = recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(key, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(lines) + "\n")
    return message
