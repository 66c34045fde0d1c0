"""A client for the Toxiproxy REST API: drives the real Toxiproxy and our own proxy alike.

``stream="both"`` is a convenience of this client: it adds one toxic per stream (``<name>_up``
and ``<name>_down``), since the API itself knows only ``upstream`` and ``downstream``.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request


class ProxyApiError(RuntimeError):
    """Raised when the proxy's control API refuses a request or cannot be reached."""


class ToxiproxyClient:
    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            try:
                detail = json.loads(detail).get("error", detail)
            except (ValueError, AttributeError):
                pass
            raise ProxyApiError(f"{method} {path}: {exc.code} {detail}") from None
        except OSError as exc:
            message = f"{method} {path}: proxy API at {self.url} unreachable: {exc}"
            raise ProxyApiError(message) from None
        return json.loads(raw) if raw else None

    def version(self) -> str:
        return self._call("GET", "/version")["version"]

    def proxies(self) -> dict:
        return self._call("GET", "/proxies")

    def create(self, name: str, listen: str, upstream: str, enabled: bool = True) -> dict:
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return self._call("POST", "/proxies", body)

    def proxy(self, name: str) -> dict:
        return self._call("GET", f"/proxies/{name}")

    def set_enabled(self, name: str, enabled: bool) -> dict:
        return self._call("POST", f"/proxies/{name}", {"enabled": enabled})

    def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        name: str | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        **attributes: int,
    ) -> list[str]:
        """Add a toxic (two for ``stream="both"``); returns the names added."""
        base = name or type
        streams = ("upstream", "downstream") if stream == "both" else (stream,)
        added = []
        for one in streams:
            suffix = "_up" if one == "upstream" else "_down"
            toxic_name = base + suffix if stream == "both" else base
            body = {
                "name": toxic_name,
                "type": type,
                "stream": one,
                "toxicity": toxicity,
                "attributes": attributes,
            }
            self._call("POST", f"/proxies/{proxy}/toxics", body)
            added.append(toxic_name)
        return added

    def toxics(self, proxy: str) -> list[dict]:
        return self._call("GET", f"/proxies/{proxy}/toxics")

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def reset(self) -> None:
        self._call("POST", "/reset")


def measure_connect(host: str, port: int, *, timeout: float = 2.0) -> dict:
    """Open a TCP connection through a proxy: how long it took, or how it failed.

    This is the outside view a ``down`` is verified by (refused), and healed by (accepted).
    """
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return {"ok": True, "seconds": round(time.monotonic() - started, 4)}
    except OSError as exc:
        return {"ok": False, "seconds": round(time.monotonic() - started, 4), "error": repr(exc)}


def measure_round_trip(host: str, port: int, payload: bytes, *, timeout: float = 5.0) -> dict:
    """Send ``payload`` through a proxy to a server that answers, and time the first answer.

    For Redis, ``b"PING\\r\\n"``; the added latency of a toxic shows as the difference between
    this and the same round trip taken straight to the server.
    """
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(payload)
            answer = sock.recv(4096)
    except OSError as exc:
        return {"ok": False, "seconds": round(time.monotonic() - started, 4), "error": repr(exc)}
    ok = bool(answer)
    result = {"ok": ok, "seconds": round(time.monotonic() - started, 4)}
    if not ok:
        result["error"] = "closed without an answer"
    return result
