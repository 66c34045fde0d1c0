"""The REST control API: the subset of Toxiproxy's that the harness uses, on loopback.

Routes (JSON in and out, errors as ``{"error": ..., "status": ...}`` like Toxiproxy's):
``GET /version``, ``GET|POST /proxies``, ``GET|POST|DELETE /proxies/{name}``,
``GET|POST /proxies/{name}/toxics``, ``GET|POST|DELETE /proxies/{name}/toxics/{toxic}``,
``POST /reset`` (every proxy enabled, every toxic removed).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chaos.netproxy.proxy import Proxy
from chaos.netproxy.toxics import Toxic, ToxicError

VERSION = "2.9.0-chaos"  # the Toxiproxy API version whose subset this speaks


class ApiError(Exception):
    """Raised by a handler to answer with a status and a message naming the problem."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ProxyServer:
    """The proxies and the HTTP server that controls them."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None):
        self.proxies: dict[str, Proxy] = {}
        self.seed = seed
        self.lock = threading.Lock()
        self.http = _Http((host, port), _Handler)
        self.http.owner = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ProxyServer:
        self._thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        for proxy in list(self.proxies.values()):
            proxy.set_enabled(False)

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the routes ---------------------------------------------------------------------------
    def handle(self, method: str, parts: list[str], body: object) -> tuple[int, object]:
        if parts == ["version"] and method == "GET":
            return 200, {"version": VERSION}
        if parts == ["reset"] and method == "POST":
            for proxy in list(self.proxies.values()):
                proxy.clear_toxics()
                proxy.set_enabled(True)
            return 204, None
        if parts == ["proxies"]:
            if method == "GET":
                return 200, {name: p.as_dict() for name, p in self.proxies.items()}
            if method == "POST":
                return 201, self._create(_object(body)).as_dict()
        if len(parts) >= 2 and parts[0] == "proxies":
            proxy = self.proxies.get(parts[1])
            if proxy is None:
                raise ApiError(404, f"proxy {parts[1]!r} not found")
            if len(parts) == 2:
                return self._proxy_route(method, proxy, body)
            if parts[2] == "toxics":
                return self._toxic_route(method, proxy, parts[3:], body)
        raise ApiError(404, f"no route {method} /{'/'.join(parts)}")

    def _create(self, body: dict) -> Proxy:
        name, listen, upstream = body.get("name"), body.get("listen"), body.get("upstream")
        for key, value in (("name", name), ("listen", listen), ("upstream", upstream)):
            if not isinstance(value, str) or not value:
                raise ApiError(400, f"proxy {key} {value!r} is missing or not a string")
        for key, value in (("listen", listen), ("upstream", upstream)):
            if not value.rpartition(":")[2].isdigit():
                raise ApiError(400, f"proxy {key} {value!r} is not host:port")
        with self.lock:
            if name in self.proxies:
                raise ApiError(409, f"proxy {name!r} already exists")
            proxy = Proxy(name, listen, upstream, seed=self.seed)
            if body.get("enabled", True):
                try:
                    proxy.set_enabled(True)
                except OSError as exc:
                    raise ApiError(400, f"cannot listen on {listen!r}: {exc}") from None
            self.proxies[name] = proxy
        return proxy

    def _proxy_route(self, method: str, proxy: Proxy, body: object) -> tuple[int, object]:
        if method == "GET":
            return 200, proxy.as_dict()
        if method == "DELETE":
            proxy.set_enabled(False)
            del self.proxies[proxy.name]
            return 204, None
        if method in ("POST", "PATCH"):
            enabled = _object(body).get("enabled", proxy.enabled)
            if not isinstance(enabled, bool):
                raise ApiError(400, f"enabled {enabled!r} is not true or false")
            proxy.set_enabled(enabled)
            return 200, proxy.as_dict()
        raise ApiError(405, f"{method} not allowed on a proxy")

    def _toxic_route(self, method, proxy: Proxy, rest: list[str], body) -> tuple[int, object]:
        if not rest:
            if method == "GET":
                return 200, [t.as_dict() for t in proxy.toxics_list()]
            if method == "POST":
                toxic = _toxic(body)
                try:
                    proxy.add_toxic(toxic)
                except KeyError:
                    raise ApiError(409, f"toxic {toxic.name!r} already exists") from None
                return 200, toxic.as_dict()
        elif len(rest) == 1:
            current = {t.name: t for t in proxy.toxics_list()}.get(rest[0])
            if current is None:
                raise ApiError(404, f"toxic {rest[0]!r} not found on proxy {proxy.name!r}")
            if method == "GET":
                return 200, current.as_dict()
            if method == "DELETE":
                proxy.remove_toxic(current.name)
                return 204, None
            if method in ("POST", "PATCH"):
                merged = {**current.as_dict(), **_object(body), "name": current.name}
                merged["attributes"] = {**current.attributes, **(merged.get("attributes") or {})}
                toxic = _toxic(merged)
                proxy.update_toxic(toxic)
                return 200, toxic.as_dict()
        raise ApiError(404, f"no route {method} on toxics of {proxy.name!r}")


def _object(body: object) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {body!r}")
    return body


def _toxic(body: object) -> Toxic:
    try:
        return Toxic.from_dict(body)
    except ToxicError as exc:
        raise ApiError(400, str(exc)) from None


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    owner: ProxyServer


class _Handler(BaseHTTPRequestHandler):
    server: _Http

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args) -> None:  # the harness records what it asks for itself
        pass

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError:
                raise ApiError(400, f"the request body is not JSON: {raw[:80]!r}") from None
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            status, payload = self.server.owner.handle(method, parts, body)
        except ApiError as exc:
            status, payload = exc.status, {"error": str(exc), "status": exc.status}
        except Exception as exc:  # noqa: BLE001 - a bug here must still answer, not hang
            status, payload = 500, {"error": f"{type(exc).__name__}: {exc}", "status": 500}
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
