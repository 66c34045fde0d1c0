"""Chaos runs use PostgreSQL's durable defaults: a kill mid-commit must be the real event."""

from __future__ import annotations

import psycopg2
import pytest

from chaos.platforms.local import LocalPlatform

pytestmark = pytest.mark.integration


def settings(url: str, names: tuple[str, ...]) -> dict[str, str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        found = {}
        for name in names:
            cur.execute(f"SHOW {name}")
            found[name] = cur.fetchone()[0]
    conn.close()
    return found


def test_the_local_platforms_postgres_keeps_the_durable_defaults(tmp_path):
    platform = LocalPlatform(tmp_path)
    platform.postgres.start()
    try:
        names = ("fsync", "full_page_writes", "synchronous_commit")
        found = settings(platform.postgres.url, names)
    finally:
        platform.postgres.stop()
    assert found["fsync"] == "on"
    assert found["full_page_writes"] == "on"
    assert found["synchronous_commit"] == "on"


def test_the_test_fixture_database_is_the_only_fast_one(postgres_server):
    assert settings(postgres_server.url, ("fsync",))["fsync"] == "off"
