"""Safe image download: SSRF guard, redirects re-checked, size cap, time limits.

Errors say whether a retry could help: ``PermanentJobError`` for a refused URL, 404, a body that
is too big; ``TransientJobError`` for timeouts, resets and 5xx answers.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests

from system.errors import PermanentJobError, TransientJobError
from system.settings import Settings

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
# HTTP answers no retry will change.
PERMANENT_STATUSES = {400, 401, 403, 404, 405, 406, 410, 411, 413, 414, 415, 451}


def check_url(url: str, allowed_hosts: tuple[str, ...]) -> None:
    """Refuse non-http(s) URLs and hosts that resolve to internal addresses (SSRF)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise PermanentJobError(f"refused URL {url!r}: scheme must be http or https")
    host = parts.hostname
    if not host:
        raise PermanentJobError(f"refused URL {url!r}: no host")
    if _allowed_by_name(host, allowed_hosts):
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransientJobError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _internal(address) and not _allowed_by_address(address, allowed_hosts):
            raise PermanentJobError(
                f"refused URL {url!r}: {host} resolves to internal address {address} "
                "(add it to ALLOWED_HOSTS to allow it)"
            )


def download(url: str, settings: Settings, session: requests.Session) -> bytes:
    """GET ``url`` within the limits of ``settings``; follow at most three checked redirects."""
    deadline = time.monotonic() + settings.download_deadline_seconds
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, settings.allowed_hosts)
        response = _get(url, settings, session)
        if response.is_redirect:
            location = response.headers.get("Location", "")
            response.close()
            url = urljoin(url, location)
            continue
        with response:
            _check_status(url, response)
            return _read_body(url, response, settings.max_download_bytes, deadline)
    raise PermanentJobError(f"too many redirects from {url!r}")


def _get(url: str, settings: Settings, session: requests.Session) -> requests.Response:
    try:
        return session.get(
            url,
            timeout=(settings.connect_timeout_seconds, settings.read_timeout_seconds),
            stream=True,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise TransientJobError(f"timed out fetching {url!r}: {exc}") from None
    except requests.ConnectionError as exc:
        raise TransientJobError(f"connection failed for {url!r}: {exc}") from None
    except requests.RequestException as exc:
        raise PermanentJobError(f"bad request for {url!r}: {exc}") from None


def _check_status(url: str, response: requests.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"HTTP {status} from {url!r}"
    if status in PERMANENT_STATUSES:
        raise PermanentJobError(message)
    if status == 429 or status >= 500:
        raise TransientJobError(message)
    raise PermanentJobError(message)


def _read_body(url: str, response: requests.Response, limit: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PermanentJobError(f"download too big: {url!r} declares {declared} bytes > {limit}")
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > limit:
                raise PermanentJobError(f"download too big: {url!r} exceeds {limit} bytes")
            if time.monotonic() > deadline:
                raise TransientJobError(f"download of {url!r} exceeded its deadline")
    except requests.RequestException as exc:
        raise TransientJobError(f"download of {url!r} failed: {exc}") from None
    return bytes(body)


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allowed_by_name(host: str, allowed: tuple[str, ...]) -> bool:
    return host.lower() in (entry.lower() for entry in allowed)


def _allowed_by_address(address, allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, matched by _allowed_by_name
    return False
