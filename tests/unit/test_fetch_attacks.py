"""Attacks on the downloader, against real servers on loopback only (127.0.0.1, 127.0.0.2).

127.0.0.2 plays the internal service: any hit there is an SSRF that got through.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from system.errors import PermanentJobError, TransientJobError
from system.fetch import check_url, download
from system.settings import Settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


class Server:
    """A raw TCP server on one loopback address answering every connection with ``reply``."""

    def __init__(self, host: str, reply, port: int = 0) -> None:
        self.hits = 0
        self._reply = reply
        self._sock = socket.create_server((host, port))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.hits += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self._reply(conn, self._stop)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


def answer(status: str, body: bytes = b"", headers: str = ""):
    def reply(conn, _stop):
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}Connection: close\r\n"
        conn.sendall(head.encode() + b"\r\n" + body)

    return reply


def drip(prefix: bytes):
    """Send ``prefix`` then one byte every 0.3 s until the client goes away."""

    def reply(conn, stop):
        conn.sendall(prefix)
        while not stop.is_set():
            conn.sendall(b"x")
            time.sleep(0.3)

    return reply


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(host: str, reply, port: int = 0) -> Server:
        server = Server(host, reply, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def pair(servers, good_reply, secret_reply=answer("200 OK", b"internal secret")):
    """A public-looking server on 127.0.0.1 and an internal one on 127.0.0.2, same port."""
    for _ in range(20):
        good = servers("127.0.0.1", good_reply)
        try:
            return good, servers("127.0.0.2", secret_reply, good.port)
        except OSError:
            good.close()
    pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")


def settings(**changes) -> Settings:
    values = {"allowed_hosts": ("127.0.0.1/32",), "read_timeout_seconds": 5.0}
    values.update(changes)
    return Settings.from_env({}, **values)


def run_bounded(fn, seconds: float = 60.0):
    """Run ``fn`` on a thread; the test fails (instead of hanging) if it never returns."""
    outcome: list = []

    def target():
        try:
            outcome.append(("ok", fn()))
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome.append(("error", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"download still running after {seconds} s"
    return outcome[0]


def test_an_allowed_loopback_server_is_downloaded(servers):
    good = servers("127.0.0.1", answer("200 OK", PNG))
    assert download(f"http://127.0.0.1:{good.port}/a.png", settings()) == PNG


def test_a_backslash_authority_never_reaches_the_host_before_it(servers):
    _, secret = pair(servers, answer("200 OK", PNG))
    url = f"http://127.0.0.2:{secret.port}\\@allowed.example/x"
    with pytest.raises(PermanentJobError, match="refused URL"):
        download(url, settings(allowed_hosts=("allowed.example",)))
    assert secret.hits == 0


def test_userinfo_in_the_authority_is_refused(servers):
    with pytest.raises(PermanentJobError, match="userinfo"):
        check_url("http://user@127.0.0.1:9/x", ("127.0.0.1/32",))


def test_dns_rebinding_cannot_swap_the_checked_address(servers, monkeypatch):
    good, secret = pair(servers, answer("200 OK", PNG))
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)

    def rebinding(host, *args, **kwargs):
        if host == "rebind.test":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, good.port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert download(f"http://rebind.test:{good.port}/a.png", settings()) == PNG
    assert (good.hits, secret.hits) == (1, 0)


def test_every_redirect_is_checked_again(servers):
    internal = "http://127.0.0.2:{port}/secret"
    good, secret = pair(servers, lambda c, s: None)
    good._reply = answer("302 Found", headers=f"Location: {internal.format(port=good.port)}\r\n")
    with pytest.raises(PermanentJobError, match="refused URL"):
        download(f"http://127.0.0.1:{good.port}/a.png", settings())
    assert (good.hits, secret.hits) == (1, 0)


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[2002:7f00:1::]",
    ],
)
def test_numeric_and_mapped_spellings_are_refused_even_when_loopback_is_allowed(host):
    with pytest.raises(PermanentJobError, match="refused URL"):
        check_url(f"http://{host}/x", ("127.0.0.0/8",))


@pytest.mark.parametrize(
    "url",
    [
        "http://0.0.0.0/x",
        "http://[::]/x",
        "http://100.64.0.1/x",
        "http://198.18.0.1/x",
        "http://[fd00:ec2::254]/x",
        "http://[fe80::1%25eth0]/x",
    ],
)
def test_unspecified_shared_and_non_global_addresses_are_refused(url):
    with pytest.raises(PermanentJobError, match="refused URL"):
        check_url(url, ())


def test_the_metadata_address_is_refused_even_inside_an_allowed_network():
    with pytest.raises(PermanentJobError, match="metadata"):
        check_url("http://169.254.169.254/latest/meta-data/", ("169.254.0.0/16",))


@pytest.mark.parametrize(
    "prefix",
    [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"],
    ids=["headers", "body"],
)
def test_a_slow_drip_server_is_cut_off_at_the_download_deadline(servers, prefix):
    server = servers("127.0.0.1", drip(prefix))
    url = f"http://127.0.0.1:{server.port}/a.png"
    started = time.monotonic()
    kind, outcome = run_bounded(lambda: download(url, settings(download_deadline_seconds=2.0)))
    assert kind == "error" and isinstance(outcome, TransientJobError), outcome
    assert "deadline" in str(outcome)
    # Each byte arrives well within the 5 s read timeout: only the deadline can stop it.
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "location",
    ["http://127.0.0.1:99999/a.png", "http://[::1/a.png", "http://127.0.0.1\\@x.example/a.png"],
)
def test_a_malformed_redirect_is_a_permanent_error_with_one_line(servers, location):
    server = servers("127.0.0.1", answer("302 Found", headers=f"Location: {location}\r\n"))
    with pytest.raises(PermanentJobError, match="refused URL") as caught:
        download(f"http://127.0.0.1:{server.port}/a.png", settings())
    assert "\n" not in str(caught.value) and " at 0x" not in str(caught.value)


def test_more_than_a_hundred_headers_is_a_permanent_error(servers):
    many = "".join(f"X-{i}: y\r\n" for i in range(150))
    server = servers("127.0.0.1", answer("200 OK", PNG, headers=many))
    with pytest.raises(PermanentJobError, match="bad HTTP answer"):
        download(f"http://127.0.0.1:{server.port}/a.png", settings())


def test_https_connects_to_the_pinned_address_and_verifies_the_original_name(
    servers, monkeypatch, tmp_path
):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=pinned.test", "-addext", "subjectAltName=DNS:pinned.test"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    seen_names: list[str] = []
    context.sni_callback = lambda sock, name, ctx: seen_names.append(name)

    def tls_answer(conn, stop):
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(PNG)}\r\n\r\n".encode() + PNG)

    server = Server("127.0.0.1", tls_answer)
    server._answer = lambda conn: server._reply(conn, server._stop)  # TLS reads the request
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "pinned.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        body = download(f"https://pinned.test:{server.port}/a.png", settings())
    finally:
        server.close()
    assert body == PNG and seen_names == ["pinned.test"]
