"""Signed webhooks: which URLs a rule may call, the signature, and the sending.

A webhook is a JSON POST with ``Tracemark-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>" under the rule's secret>`` and ``Idempotency-Key`` (the same on every
attempt of one message). Only https is allowed unless the deployment allows http, and
hosts that are, or resolve to, loopback, private, link-local or otherwise non-public
addresses are refused unless it allows those (a rule must not make the worker probe the
internal network); redirects are not followed, for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Tracemark-Signature"
MAX_URL = 500
#: How old a signature a receiver should accept, in seconds (see :func:`verify`).
TOLERANCE = 300


class WebhookError(Exception):
    """The receiver did not take the webhook (an HTTP status, a timeout, a refusal)."""


def check_url(url: object, *, allow_http: bool = False, allow_private: bool = False) -> str:
    """The URL, stripped, if a rule may call it (without resolving its host).

    :raises ValueError: why not.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("a webhook needs a URL")
    url = url.strip()
    if len(url) > MAX_URL or not url.isprintable() or any(ch.isspace() for ch in url):
        raise ValueError(f"a webhook URL is printable, without spaces, at most {MAX_URL} long")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise ValueError("a webhook URL must use https")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise ValueError("the webhook URL has a bad port") from None
    if not parts.hostname:
        raise ValueError("the webhook URL has no host")
    if parts.username or parts.password:
        raise ValueError("a webhook URL carries no credentials")
    if not allow_private and _internal_name(parts.hostname):
        raise ValueError("webhooks to loopback or private addresses are not allowed")
    return url


def _internal_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        return not _public(ipaddress.ip_address(host))
    except ValueError:
        return False


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def _check_resolved(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise WebhookError(f"cannot resolve {host}: {error}") from None
    for *_, sockaddr in infos:
        if not _public(ipaddress.ip_address(sockaddr[0].split("%")[0])):
            raise WebhookError(f"{host} resolves to a non-public address")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Tracemark-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE
) -> bool:
    """What a receiver does: the header's HMAC matches ``body`` and its time is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None  # a 3xx is an HTTPError: not delivered


@dataclass(frozen=True)
class WebhookSender:
    timeout: float = 10.0
    allow_http: bool = False
    allow_private: bool = False

    def send(self, url: str, body: bytes, secret: str, key: str) -> int:
        """POST ``body``; returns the 2xx status.

        :raises WebhookError: refused URL, network failure, timeout or a non-2xx answer.
        """
        try:
            check_url(url, allow_http=self.allow_http, allow_private=self.allow_private)
        except ValueError as error:
            raise WebhookError(str(error)) from None
        parts = urlsplit(url)
        if not self.allow_private:
            _check_resolved(parts.hostname or "", parts.port or 443)
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked above)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Tracemark-Webhook/1",
                "Idempotency-Key": key,
                SIGNATURE_HEADER: signature(secret, int(time.time()), body),
            },
        )
        opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                response.read(4096)
                status = response.status
        except urllib.error.HTTPError as error:
            raise WebhookError(f"HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise WebhookError(f"{type(reason).__name__}: {reason}"[:300]) from None
        if not 200 <= status < 300:
            raise WebhookError(f"HTTP {status}")
        return status
