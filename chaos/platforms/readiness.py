"""Does a service answer? Protocol-level checks with short timeouts, never raising.

A TCP connect is not enough behind Docker's port publishing (the proxy accepts while the server
is down), so each check speaks the service's protocol.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import psycopg2

TIMEOUT = 1.0  # seconds per check


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
            sock.settimeout(TIMEOUT)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def postgres_ready(url: str) -> bool:
    """A real query: the server accepts connections before it has finished recovering."""
    try:
        conn = psycopg2.connect(url, connect_timeout=max(1, round(TIMEOUT)))
    except psycopg2.Error:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)
    except psycopg2.Error:
        return False
    finally:
        conn.close()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
