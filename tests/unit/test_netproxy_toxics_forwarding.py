"""The fault proxy on loopback: bytes pass unchanged, and each toxic does what its name says.

Only lower bounds on time are asserted (a loaded machine can only make things slower).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import pytest

from chaos.netproxy import ProxyServer, ToxiproxyClient, measure_connect, measure_round_trip


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxied(echo):
    """(client, proxy port) for a proxy named ``echo`` in front of the echo server."""
    with ProxyServer(seed=7) as server:
        client = ToxiproxyClient(server.url)
        created = client.create("echo", "127.0.0.1:0", f"127.0.0.1:{echo}")
        yield client, int(created["listen"].rpartition(":")[2])


def _exchange(port: int, payload: bytes, timeout: float = 20.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def test_bytes_pass_through_the_proxy_unchanged(proxied):
    _, port = proxied
    payload = bytes(range(256)) * 400
    assert _exchange(port, payload) == payload


def test_latency_adds_at_least_the_requested_delay_to_a_round_trip(proxied):
    client, port = proxied
    before = measure_round_trip("127.0.0.1", port, b"ping")
    client.add_toxic("echo", "latency", latency=300, jitter=0)
    slowed = measure_round_trip("127.0.0.1", port, b"ping")
    assert before["ok"] and slowed["ok"]
    assert slowed["seconds"] >= 0.3
    client.remove_toxic("echo", "latency")
    assert measure_round_trip("127.0.0.1", port, b"ping")["ok"]


def test_latency_on_both_streams_adds_twice(proxied):
    client, port = proxied
    assert client.add_toxic("echo", "latency", stream="both", latency=200) == [
        "latency_up",
        "latency_down",
    ]
    assert measure_round_trip("127.0.0.1", port, b"ping")["seconds"] >= 0.4


def test_bandwidth_limits_the_rate(proxied):
    client, port = proxied
    client.add_toxic("echo", "bandwidth", rate=20)  # 20 KB/s downstream
    started = time.monotonic()
    assert _exchange(port, b"x" * 40_000) == b"x" * 40_000
    assert time.monotonic() - started >= 1.5


def test_slicer_delivers_everything_in_delayed_pieces(proxied):
    client, port = proxied
    client.add_toxic("echo", "slicer", average_size=100, size_variation=50, delay=20_000)
    started = time.monotonic()
    payload = b"abcdefgh" * 250  # 2000 bytes: about 20 slices 20 ms apart
    assert _exchange(port, payload) == payload
    assert time.monotonic() - started >= 0.2


def test_timeout_stalls_data_on_an_open_connection_until_it_is_removed(proxied):
    client, port = proxied
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"one")
        assert sock.recv(10) == b"one"
        client.add_toxic("echo", "timeout", stream="upstream", timeout=0)
        sock.sendall(b"two")
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            sock.recv(10)  # no answer, and no reset either: the connection hangs
        client.remove_toxic("echo", "timeout")
        sock.settimeout(20)
        sock.sendall(b"three")
        assert sock.recv(10) == b"three"  # "two" was dropped while the toxic was on


def test_timeout_with_a_deadline_closes_the_connection(proxied):
    client, port = proxied
    client.add_toxic("echo", "timeout", timeout=300)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"hello")
        assert sock.recv(10) == b""  # closed, not answered


def test_reset_peer_resets_open_connections(proxied):
    client, port = proxied
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"a")
        assert sock.recv(10) == b"a"
        client.add_toxic("echo", "reset_peer", timeout=100)
        with pytest.raises(ConnectionResetError):
            for _ in range(200):
                sock.sendall(b"b")
                if not sock.recv(10):
                    break
                time.sleep(0.05)


def test_limit_data_closes_after_the_byte_budget(proxied):
    client, port = proxied
    client.add_toxic("echo", "limit_data", bytes=10)
    assert _exchange(port, b"0123456789abcdef") == b"0123456789"


def test_down_refuses_new_connections_cuts_open_ones_and_heals(proxied):
    client, port = proxied
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"a")
        assert sock.recv(10) == b"a"
        client.set_enabled("echo", False)
        try:
            assert sock.recv(10) == b""
        except ConnectionResetError:
            pass
    refused = measure_connect("127.0.0.1", port)
    assert not refused["ok"] and "Refused" in refused["error"]
    client.set_enabled("echo", True)
    assert measure_connect("127.0.0.1", port)["ok"]
    assert _exchange(port, b"back") == b"back"


def test_toxicity_zero_leaves_connections_alone(proxied):
    client, port = proxied
    client.add_toxic("echo", "timeout", toxicity=0.0, timeout=0)
    assert _exchange(port, b"untouched") == b"untouched"


def test_reset_removes_every_toxic_and_enables_every_proxy(proxied):
    client, port = proxied
    client.add_toxic("echo", "latency", latency=5000)
    client.set_enabled("echo", False)
    client.reset()
    state = client.proxy("echo")
    assert state["enabled"] and state["toxics"] == []
    assert _exchange(port, b"fresh") == b"fresh"
