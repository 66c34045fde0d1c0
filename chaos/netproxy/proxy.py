"""One TCP proxy: a listener, an upstream, and the toxics applied to what passes between them.

Each accepted connection gets an upstream connection and two pump threads (one per stream).
Toxics are read afresh for every chunk, so adding or removing one acts on open connections too;
timers handle what must happen on idle connections (``reset_peer``, a closing ``timeout``).
Sockets have Nagle disabled so small requests are not held back ~40 ms by the proxy itself.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time

from chaos.netproxy.toxics import Toxic

CHUNK = 32 * 1024
POLL_S = 0.05  # how often a stalled stream looks again at its toxics


def _nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1"), int(port)


class Link:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: Proxy, client: socket.socket, upstream: socket.socket):
        self.proxy = proxy
        self.socks = {"upstream": upstream, "downstream": client}
        self.closed = threading.Event()
        self.started = time.monotonic()
        self._chosen: dict[str, bool] = {}
        self._passed = {"upstream": 0, "downstream": 0}
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        for stream, src, dst in (
            ("upstream", self.socks["downstream"], self.socks["upstream"]),
            ("downstream", self.socks["upstream"], self.socks["downstream"]),
        ):
            threading.Thread(target=self._pump, args=(stream, src, dst), daemon=True).start()
        self.toxics_changed()

    def applies(self, toxic: Toxic) -> bool:
        """Whether this connection is one of the ``toxicity`` share a toxic applies to."""
        with self._lock:
            if toxic.name not in self._chosen:
                self._chosen[toxic.name] = self.proxy.rng.random() < toxic.toxicity
            return self._chosen[toxic.name]

    def toxics(self, stream: str) -> list[Toxic]:
        return [t for t in self.proxy.toxics_list() if t.stream == stream and self.applies(t)]

    def toxics_changed(self) -> None:
        """Arm the timers of the connection-level toxics, and disarm those that went away."""
        live = {t.name: t for t in self.proxy.toxics_list() if self.applies(t)}
        with self._lock:
            for name in list(self._timers):
                if name not in live:
                    self._timers.pop(name).cancel()
            for name, toxic in live.items():
                if name in self._timers:
                    continue
                if toxic.type == "reset_peer":
                    action, ms = self.reset, toxic.attr("timeout")
                elif toxic.type == "timeout" and toxic.attr("timeout") > 0:
                    action, ms = self.close, toxic.attr("timeout")
                else:
                    continue
                timer = threading.Timer(ms / 1000.0, action)
                timer.daemon = True
                self._timers[name] = timer
                timer.start()

    def reset(self) -> None:
        """Close both sides with an RST (SO_LINGER 0) instead of a FIN."""
        for sock in self.socks.values():
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.close(socket.SHUT_RD)  # SHUT_RD wakes the pumps without sending a FIN

    def close(self, how: int = socket.SHUT_RDWR) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
        for sock in self.socks.values():
            try:  # shutdown first: it wakes the pump blocked in recv and sends the FIN
                sock.shutdown(how)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        self.proxy.forget(self)

    def _pump(self, stream: str, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self.closed.is_set():
                data = src.recv(CHUNK)
                if not data:
                    break
                if not self._deliver(stream, data, dst):
                    break
        except OSError:
            pass
        self.close()

    def _deliver(self, stream: str, data: bytes, dst: socket.socket) -> bool:
        """Pass one chunk through the stream's toxics; False when the connection must end."""
        if any(t.type == "timeout" for t in self.toxics(stream)):
            while any(t.type == "timeout" for t in self.toxics(stream)):
                if self.closed.wait(POLL_S):
                    return False
            return True  # data that arrived while a timeout toxic was on is dropped
        pieces = [data]
        for toxic in self.toxics(stream):
            if toxic.type == "latency":
                jitter = toxic.attr("jitter")
                delay = toxic.attr("latency") + self.proxy.rng.uniform(-jitter, jitter)
                if delay > 0 and self.closed.wait(delay / 1000.0):
                    return False
            elif toxic.type == "slicer":
                pieces = [s for p in pieces for s in self._slices(p, toxic)]
            elif toxic.type == "limit_data":
                room = toxic.attr("bytes") - self._passed[stream]
                if room <= 0:
                    return False
                pieces = self._truncate(pieces, room)
        rate = next((t.attr("rate") for t in self.toxics(stream) if t.type == "bandwidth"), 0)
        slicer = next((t for t in self.toxics(stream) if t.type == "slicer"), None)
        for i, piece in enumerate(pieces):
            if (
                i
                and slicer
                and slicer.attr("delay")
                and self.closed.wait(slicer.attr("delay") / 1e6)
            ):
                return False
            if not self._send(dst, piece, rate):
                return False
            self._passed[stream] += len(piece)
        limit = next((t for t in self.toxics(stream) if t.type == "limit_data"), None)
        return not (limit and self._passed[stream] >= limit.attr("bytes"))

    def _slices(self, data: bytes, toxic: Toxic) -> list[bytes]:
        size, spread = max(1, toxic.attr("average_size")), toxic.attr("size_variation")
        out, at = [], 0
        while at < len(data):
            n = max(1, size + self.proxy.rng.randint(-spread, spread) if spread else size)
            out.append(data[at : at + n])
            at += n
        return out

    @staticmethod
    def _truncate(pieces: list[bytes], room: int) -> list[bytes]:
        out = []
        for piece in pieces:
            if room <= 0:
                break
            out.append(piece[:room])
            room -= len(out[-1])
        return out

    def _send(self, dst: socket.socket, data: bytes, rate_kbs: int) -> bool:
        if not rate_kbs:
            dst.sendall(data)
            return True
        step = max(1, rate_kbs * 1000 // 20)  # twenty sends a second at the allowed rate
        for at in range(0, len(data), step):
            piece = data[at : at + step]
            dst.sendall(piece)
            if self.closed.wait(len(piece) / (rate_kbs * 1000.0)):
                return False
        return True


class Proxy:
    """A named listener forwarding to an upstream, with toxics; not ``enabled`` is ``down``."""

    def __init__(self, name: str, listen: str, upstream: str, *, seed: int | None = None):
        self.name = name
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.enabled = False
        self._listen = listen
        self._toxics: dict[str, Toxic] = {}
        self._links: set[Link] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    @property
    def listen(self) -> str:
        return self._listen

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [t.as_dict() for t in self.toxics_list()],
        }

    def toxics_list(self) -> list[Toxic]:
        with self._lock:
            return list(self._toxics.values())

    def open_connections(self) -> int:
        with self._lock:
            return len(self._links)

    def set_enabled(self, enabled: bool) -> None:
        if enabled and not self.enabled:
            self._start()
        elif not enabled and self.enabled:
            self._stop()

    def add_toxic(self, toxic: Toxic) -> None:
        with self._lock:
            if toxic.name in self._toxics:
                raise KeyError(toxic.name)
            self._toxics[toxic.name] = toxic
        self._notify()

    def update_toxic(self, toxic: Toxic) -> None:
        with self._lock:
            self._toxics[toxic.name] = toxic
        self._notify()

    def remove_toxic(self, name: str) -> None:
        with self._lock:
            del self._toxics[name]
        self._notify()

    def clear_toxics(self) -> None:
        with self._lock:
            self._toxics.clear()
        self._notify()

    def forget(self, link: Link) -> None:
        with self._lock:
            self._links.discard(link)

    def _notify(self) -> None:
        with self._lock:
            links = list(self._links)
        for link in links:
            link.toxics_changed()

    def _start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(_hostport(self._listen))
        sock.listen(128)
        host, port = sock.getsockname()[:2]
        self._listen = f"{host}:{port}"  # a port 0 becomes the real one, kept across down/up
        self._listener = sock
        self.enabled = True
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _stop(self) -> None:
        self.enabled = False
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the proxy is down
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(_hostport(self.upstream), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        _nodelay(client)
        _nodelay(upstream)
        link = Link(self, client, upstream)
        with self._lock:
            if not self.enabled:
                link.socks["upstream"].close()
                client.close()
                return
            self._links.add(link)
        link.start()
