"""Signed webhooks: which URLs a rule may call, the signature, and the sending.

A webhook is a JSON POST with ``Tracemark-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>" under the rule's secret>`` and ``Idempotency-Key`` (the same on every
attempt of one message). Only https is allowed unless the deployment allows http, and
hosts that are, or resolve to, loopback, private, link-local or otherwise non-public
addresses are refused unless it allows those (a rule must not make the worker probe the
internal network); redirects are not followed, for the same reason.

"Non-public" is judged after normalisation: a numeric host is read the way the system's
resolver reads it (``2130706433``, ``0x7f000001`` and ``127.1`` are 127.0.0.1), and IPv6
forms carrying an IPv4 address (mapped, NAT64, 6to4) are judged by that address;
IPv4-compatible, site-local and Teredo addresses are refused outright. The same
:func:`check_url` runs when a rule is saved and before each delivery, which then resolves
the host once and connects to the address it checked (no second lookup a rebinding DNS
server could answer differently), keeping the host name for TLS (SNI and certificate
verification) and the ``Host`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Tracemark-Signature"
MAX_URL = 500
#: How old a signature a receiver should accept, in seconds (see :func:`verify`).
TOLERANCE = 300


class WebhookError(Exception):
    """The receiver did not take the webhook (an HTTP status, a timeout, a refusal)."""


def check_url(url: object, *, allow_http: bool = False, allow_private: bool = False) -> str:
    """The URL, stripped, if a rule may call it (without resolving its host).

    The same check runs when a rule is saved and before every delivery; delivery then
    resolves the host once, checks every address with :func:`is_public_address` and
    connects to a checked one (:func:`resolve`).

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
    host = ascii_host(parts.hostname)
    literal = literal_address(host)  # raises on a malformed numeric host
    if not allow_private and (
        _internal_name(host) or (literal is not None and not is_public_address(literal))
    ):
        raise ValueError("webhooks to loopback or private addresses are not allowed")
    return url


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def ascii_host(host: str) -> str:
    """The host as the resolver will be asked for it: IDNA-encoded, so full-width letters
    and digits and ideographic full stops (U+3002) are judged as the ASCII name or
    address they stand for (full-width "localhost" is ``localhost``).

    :raises ValueError: a host IDNA cannot encode.
    """
    if host.isascii() or host.startswith("["):
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("the webhook URL has a malformed host") from None


#: IPv6 ranges that are not global whatever Python's ``is_global`` says of them:
#: IPv4-compatible (``::a.b.c.d``, deprecated, routed to the embedded IPv4 by some stacks),
#: site-local (deprecated), Teredo (a tunnel to wherever its embedded client is).
_REFUSED_V6 = tuple(
    ipaddress.ip_network(net) for net in ("::/96", "fec0::/10", "2001::/32", "ff00::/8")
)
#: NAT64 prefixes (RFC 6052, RFC 8215): the last 32 bits are the IPv4 address reached.
_NAT64 = tuple(ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48"))
_NUMERIC_PART = re.compile(r"0x[0-9a-f]*|[0-9]+")


def literal_address(host: str) -> Address | None:
    """The address a host names literally, the way the system's resolver reads it.

    Besides the usual forms this reads what ``inet_aton`` accepts — ``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``, ``127.1``, ``0`` — so such a host is judged as the
    address it is, not as a name. None for a name.

    :raises ValueError: a host that looks numeric but is no address (``1.2.3.4.5``).
    """
    host = host.lower().rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not parts[-1] or not _NUMERIC_PART.fullmatch(parts[-1]):
        return None  # a name: its last label is not a number (no numeric top-level domains)
    if len(parts) > 4 or not all(_NUMERIC_PART.fullmatch(part) for part in parts):
        raise ValueError("the webhook URL has a malformed numeric host")
    try:
        values = [_number(part) for part in parts]
    except ValueError:
        raise ValueError("the webhook URL has a malformed numeric host") from None
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 256 ** (5 - len(values)):
        raise ValueError("the webhook URL has a malformed numeric host")
    number = last
    for index, value in enumerate(leading):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # raises on 8 or 9, as inet_aton refuses them
    return int(part)


def is_public_address(address: Address) -> bool:
    """Whether a webhook may reach ``address``: global unicast, and for IPv6 forms that
    carry an IPv4 address (mapped, NAT64, 6to4) the carried address global too."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # without a zone id
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if any(address in net for net in _REFUSED_V6):
            return False
        if any(address in net for net in _NAT64):
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
    return address.is_global and not address.is_multicast


def _internal_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith((".localhost", ".local", ".internal"))


def resolve(host: str, port: int, *, allow_private: bool = False) -> str:
    """Resolve ``host`` once and return the address to connect to.

    Every address the name resolves to must be public (unless ``allow_private``): a name
    that answers with one private address among public ones is refused, and the caller
    connects to the returned address only, so a second resolution (DNS rebinding) never
    happens.

    :raises WebhookError: the name does not resolve, or to a non-public address.
    """
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as error:
            raise WebhookError(f"cannot resolve {host}: {error}") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise WebhookError(f"cannot resolve {host}")
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise WebhookError(f"{host} resolves to a non-public address")
    return str(addresses[0])


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


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to an address resolved and checked beforehand; the URL's host
    still goes in the ``Host`` header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTP` over TLS: SNI and certificate verification use the URL's
    host name, not the address connected to."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@dataclass(frozen=True)
class WebhookSender:
    timeout: float = 10.0
    allow_http: bool = False
    allow_private: bool = False
    #: TLS settings (certificate authorities); None for the system's defaults.
    context: ssl.SSLContext | None = field(default=None, compare=False)

    def send(self, url: str, body: bytes, secret: str, key: str) -> int:
        """POST ``body`` to the address the URL's host resolved to when checked; returns
        the 2xx status. Redirects are not followed, proxies not used.

        :raises WebhookError: refused URL, network failure, timeout or a non-2xx answer.
        """
        try:
            check_url(url, allow_http=self.allow_http, allow_private=self.allow_private)
        except ValueError as error:
            raise WebhookError(str(error)) from None
        parts = urlsplit(url)
        host = ascii_host(parts.hostname or "")  # checked above: encodes
        https = parts.scheme.lower() == "https"
        port = parts.port or (443 if https else 80)
        address = resolve(host, port, allow_private=self.allow_private)
        if https:
            context = self.context or ssl.create_default_context()
            connection: http.client.HTTPConnection = _PinnedHTTPS(
                host, port, address, self.timeout, context
            )
        else:
            connection = _PinnedHTTP(host, port, address, self.timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Tracemark-Webhook/1",
            "Idempotency-Key": key,
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        }
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(4096)
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            raise WebhookError(f"{type(error).__name__}: {error}"[:300]) from None
        finally:
            connection.close()
        if not 200 <= status < 300:
            raise WebhookError(f"HTTP {status}")
        return status
