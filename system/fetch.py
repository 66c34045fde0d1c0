"""Safe image download: SSRF guard, pinned address, redirects re-checked, size cap, deadline.

The guard and the connection share one parse of the URL (``urlsplit``) and one DNS answer: the
host is resolved once, every address is checked, and the socket connects to the checked address
(Host header and TLS SNI keep the original name), so neither a parser differential nor DNS
rebinding can swap the target. A watchdog closes the socket at the whole-download deadline, so a
server that drips bytes cannot hold a worker past it, whether it stalls the headers or the body.

Errors say whether a retry could help: ``PermanentJobError`` for a refused URL, 404, a body that
is too big; ``TransientJobError`` for timeouts, resets and 5xx answers.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from urllib.parse import urljoin, urlsplit

from system.errors import PermanentJobError, TransientJobError
from system.settings import Settings

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
REDIRECTS = {301, 302, 303, 307, 308}
# HTTP answers no retry will change.
PERMANENT_STATUSES = {400, 401, 403, 404, 405, 406, 410, 411, 413, 414, 415, 451}
# What inet_aton also reads as an IPv4 address: 2130706433, 0x7f.1, 0177.0.0.1, 127.1 ...
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_url(url: str, allowed_hosts: tuple[str, ...]) -> str:
    """Refuse what may reach an internal address (SSRF); return the checked address to use."""
    parts = _split(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal(host)
    if literal is None and _NUMERIC_HOST.match(host):
        raise PermanentJobError(f"refused URL {url!r}: {host!r} is a non-canonical IPv4 form")
    by_name = _allowed_by_name(host, allowed_hosts)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise TransientJobError(f"cannot resolve {host!r}: {exc}") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise TransientJobError(f"cannot resolve {host!r}: no address")
    if not by_name:
        for address in addresses:
            problem = _refusal(address, allowed_hosts)
            if problem:
                raise PermanentJobError(
                    f"refused URL {url!r}: {host} resolves to internal address {address} "
                    f"({problem}; ALLOWED_HOSTS may allow it)"
                )
    return str(addresses[0])


def download(url: str, settings: Settings) -> bytes:
    """GET ``url`` within the limits of ``settings``; follow at most three checked redirects."""
    deadline = time.monotonic() + settings.download_deadline_seconds
    for _ in range(MAX_REDIRECTS + 1):
        address = check_url(url, settings.allowed_hosts)
        status, location, body = _fetch_once(url, address, settings, deadline)
        if status in REDIRECTS and location is not None:
            try:
                url = urljoin(url, location)
            except ValueError as exc:
                raise PermanentJobError(
                    f"refused URL {location[:200]!r} (a redirect from {url!r}): malformed ({exc})"
                ) from None
            continue
        _check_status(url, status)
        return body
    raise PermanentJobError(f"too many redirects from {url!r}")


def _split(url: str):
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise PermanentJobError(f"refused URL {url[:200]!r}: whitespace or control character")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise PermanentJobError(f"refused URL {url[:200]!r}: malformed ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise PermanentJobError(f"refused URL {url[:200]!r}: scheme must be http or https")
    if "\\" in parts.netloc or "@" in parts.netloc:
        raise PermanentJobError(f"refused URL {url[:200]!r}: backslash or userinfo in the host")
    if not parts.hostname:
        raise PermanentJobError(f"refused URL {url[:200]!r}: no host")
    return parts


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _refusal(address: Address, allowed: tuple[str, ...]) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and (address.ipv4_mapped or address.sixtofour):
        return "an IPv6 form of an IPv4 address"
    if address in _METADATA:
        return "the cloud metadata address"
    if _allowed_by_address(address, allowed):
        return None
    if address.is_unspecified:
        return "the unspecified address"
    if not address.is_global:
        return "not a globally routable address"
    return None


class _Watchdog:
    """Shuts the connection's socket down at the deadline, waking any blocked read."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float) -> None:
        self.expired = False
        self._conn = conn
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.expired = True
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


def _fetch_once(url: str, address: str, settings: Settings, deadline: float):
    parts = urlsplit(url)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TransientJobError(f"download of {url!r} exceeded its deadline")
    conn = _connection(parts, address, min(settings.connect_timeout_seconds, remaining))
    watchdog = _Watchdog(conn, deadline)
    try:
        conn.connect()
        conn.sock.settimeout(settings.read_timeout_seconds)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target, headers={"User-Agent": "image-jobs", "Accept": "image/*"})
        response = conn.getresponse()
        location = response.getheader("Location") if response.status in REDIRECTS else None
        body = b""
        if 200 <= response.status < 300:
            body = _read_body(url, response, settings.max_download_bytes)
        if watchdog.expired:  # the shut-down socket may read as a clean end: never trust it
            raise TransientJobError(f"download of {url!r} exceeded its deadline")
        return response.status, location, body
    except (PermanentJobError, TransientJobError):
        raise
    except (OSError, http.client.HTTPException) as exc:
        if watchdog.expired:
            raise TransientJobError(f"download of {url!r} exceeded its deadline") from None
        if isinstance(exc, TimeoutError | socket.timeout):
            raise TransientJobError(f"timed out fetching {url!r}") from None
        if isinstance(exc, http.client.HTTPException) and not isinstance(
            exc, http.client.RemoteDisconnected | http.client.IncompleteRead
        ):
            raise PermanentJobError(f"bad HTTP answer from {url!r}: {type(exc).__name__}") from None
        raise TransientJobError(f"download of {url!r} failed: {type(exc).__name__}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _connection(parts, address: str, connect_timeout: float) -> http.client.HTTPConnection:
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = cls(parts.hostname, parts.port, timeout=connect_timeout)
    conn.pinned_address = address
    return conn


def _pinned_socket(conn: http.client.HTTPConnection) -> socket.socket:
    sock = socket.create_connection((conn.pinned_address, conn.port), conn.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    pinned_address = ""

    def connect(self) -> None:
        self.sock = _pinned_socket(self)


class _PinnedHTTPS(http.client.HTTPSConnection):
    pinned_address = ""

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(_pinned_socket(self), server_hostname=self.host)


def _check_status(url: str, status: int) -> None:
    if 200 <= status < 300:
        return
    message = f"HTTP {status} from {url!r}"
    if status in PERMANENT_STATUSES:
        raise PermanentJobError(message)
    if status == 429 or status >= 500:
        raise TransientJobError(message)
    raise PermanentJobError(message)


def _read_body(url: str, response: http.client.HTTPResponse, limit: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PermanentJobError(f"download too big: {url!r} declares {declared} bytes > {limit}")
    body = bytearray()
    while chunk := response.read1(CHUNK):
        body += chunk
        if len(body) > limit:
            raise PermanentJobError(f"download too big: {url!r} exceeds {limit} bytes")
    return bytes(body)


def _allowed_by_name(host: str, allowed: tuple[str, ...]) -> bool:
    return host.lower() in (entry.lower() for entry in allowed)


def _allowed_by_address(address: Address, allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, matched by _allowed_by_name
    return False
