"""Settings, read once from the environment, with safe defaults for a local demo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The folder for the embedded database and other local state.
DEFAULT_INSTANCE_DIR = Path.cwd() / "instance"


class ConfigError(RuntimeError):
    """A required setting is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None = None
    secret_key: str | None = None
    #: Passphrase that encrypts signing keys at rest.
    key_passphrase: str | None = None
    #: Passphrase that encrypts provenance-statement keys at rest (web servers hold it;
    #: it never decrypts a key that signs unit codes).
    statement_passphrase: str | None = None
    #: Secret deriving scratch-off PINs (see ``tracemark.codes.pins``).
    pin_secret: str | None = None
    #: The origin printed in label URLs when a brand has none of its own.
    public_base_url: str = "http://127.0.0.1:5000"
    #: Demo mode allows built-in development secrets; never set it in production.
    demo: bool = False
    #: Rate limit for code scans per client address (``limits`` notation: windows
    #: separated by ``;``, see :mod:`tracemark.ratelimit`).
    scan_rate_limit: str = "60/minute;1000/hour"
    #: Rate limit for PIN claims per client address.
    claim_rate_limit: str = "10/hour"
    #: Rate limit for forgery reports per client address.
    report_rate_limit: str = "5/hour;20/day"
    #: Rate limit for admin sign-in attempts per client address.
    login_rate_limit: str = "10/minute"
    #: Rate limit for integration API calls per token.
    api_rate_limit: str = "6000/minute"
    #: Rate limit for integration API calls with a missing or bad token, per
    #: client address; past it, the address is refused before any token lookup.
    api_auth_failure_limit: str = "60/minute"
    #: Mark the session cookie Secure on every response (set when always served over TLS;
    #: otherwise it is Secure on requests that arrived over HTTPS).
    secure_cookies: bool = False
    #: Header carrying the client's ISO country from a trusted proxy (e.g. CF-IPCountry).
    country_header: str | None = None
    #: Number of trusted reverse proxies in front (X-Forwarded-For/Proto hops to trust).
    proxies: int = 0
    #: Seconds a batch's story, reports and journey are cached per worker.
    batch_view_ttl: float = 30.0
    #: Where the worker writes label files and the admin app reads them for download
    #: (a folder shared by both when they run on different hosts).
    label_dir: Path = DEFAULT_INSTANCE_DIR / "labels"
    #: Where rule e-mails go out: ``smtp://[user:password@]host[:port]`` or ``smtps://…``;
    #: None keeps e-mails in the outbox until it is set.
    smtp_url: str | None = None
    #: Upgrade a plain ``smtp://`` connection with STARTTLS (required once set).
    smtp_starttls: bool = False
    mail_from: str = "tracemark@localhost"
    #: Webhooks over plain http (a test or an internal receiver), not only https.
    webhook_allow_http: bool = False
    #: Webhooks to loopback and private addresses (refused by default: no rule may make
    #: the worker reach into the internal network).
    webhook_allow_private: bool = False
    webhook_timeout: float = 10.0
    #: Attempts at delivering one outbox message before it is marked dead.
    outbox_max_attempts: int = 8
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, demo: bool = False) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get("TRACEMARK_INSTANCE_DIR", DEFAULT_INSTANCE_DIR))
        return cls(
            database_url=env.get("TRACEMARK_DATABASE_URL")
            or f"sqlite:///{instance / 'tracemark.db'}",
            redis_url=env.get("TRACEMARK_REDIS_URL") or None,
            secret_key=env.get("TRACEMARK_SECRET_KEY") or None,
            key_passphrase=env.get("TRACEMARK_KEY_PASSPHRASE") or None,
            statement_passphrase=env.get("TRACEMARK_STATEMENT_PASSPHRASE") or None,
            pin_secret=env.get("TRACEMARK_PIN_SECRET") or None,
            public_base_url=env.get("TRACEMARK_PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
            demo=demo or env.get("TRACEMARK_DEMO") == "1",
            scan_rate_limit=env.get("TRACEMARK_SCAN_RATE_LIMIT", "60/minute;1000/hour"),
            claim_rate_limit=env.get("TRACEMARK_CLAIM_RATE_LIMIT", "10/hour"),
            report_rate_limit=env.get("TRACEMARK_REPORT_RATE_LIMIT", "5/hour;20/day"),
            login_rate_limit=env.get("TRACEMARK_LOGIN_RATE_LIMIT", "10/minute"),
            api_rate_limit=env.get("TRACEMARK_API_RATE_LIMIT", "6000/minute"),
            api_auth_failure_limit=env.get("TRACEMARK_API_AUTH_FAILURE_LIMIT", "60/minute"),
            secure_cookies=env.get("TRACEMARK_SECURE_COOKIES") == "1",
            country_header=env.get("TRACEMARK_COUNTRY_HEADER") or None,
            proxies=int(env.get("TRACEMARK_PROXIES", "0") or 0),
            batch_view_ttl=float(env.get("TRACEMARK_BATCH_VIEW_TTL", "30") or 30),
            label_dir=Path(env.get("TRACEMARK_LABEL_DIR") or instance / "labels"),
            smtp_url=env.get("TRACEMARK_SMTP_URL") or None,
            smtp_starttls=env.get("TRACEMARK_SMTP_STARTTLS") == "1",
            mail_from=env.get("TRACEMARK_MAIL_FROM") or "tracemark@localhost",
            webhook_allow_http=env.get("TRACEMARK_WEBHOOK_ALLOW_HTTP") == "1",
            webhook_allow_private=env.get("TRACEMARK_WEBHOOK_ALLOW_PRIVATE") == "1",
            webhook_timeout=float(env.get("TRACEMARK_WEBHOOK_TIMEOUT", "10") or 10),
            outbox_max_attempts=int(env.get("TRACEMARK_OUTBOX_MAX_ATTEMPTS", "8") or 8),
        )

    def require_key_passphrase(self) -> str:
        """The key passphrase; a fixed development one only in demo mode."""
        if self.key_passphrase:
            return self.key_passphrase
        if self.demo:
            return "tracemark-demo-passphrase"
        raise ConfigError("set TRACEMARK_KEY_PASSPHRASE to create or use signing keys")

    def require_statement_passphrase(self) -> str:
        """The statement-key passphrase; a fixed development one only in demo mode."""
        if self.statement_passphrase:
            return self.statement_passphrase
        if self.demo:
            return "tracemark-demo-statement-passphrase"
        raise ConfigError("set TRACEMARK_STATEMENT_PASSPHRASE to sign provenance statements")

    def require_pin_secret(self) -> str:
        if self.pin_secret:
            return self.pin_secret
        if self.demo:
            return "tracemark-demo-pin-secret"
        raise ConfigError("set TRACEMARK_PIN_SECRET to issue or check scratch-off PINs")

    def require_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        if self.demo:
            return "tracemark-demo-secret-key"
        raise ConfigError("set TRACEMARK_SECRET_KEY outside the demo")
