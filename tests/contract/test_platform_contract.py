"""The platform contract: what every platform must do, run against each one available.

``local`` always runs; ``docker`` and ``kind`` skip with a message where their tools are
missing (and fail in CI when REQUIRE_DOCKER=1 / REQUIRE_KIND=1). Tests run in order on one
stack per platform; the last one stops it and checks that nothing is left running.
"""

from __future__ import annotations

import uuid

import psycopg2
import pytest
import redis
import requests
from support import require, running

from chaos.platforms.base import SystemOptions
from chaos.platforms.local import LocalPlatform

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["local", "docker", "kind"])
def platform(request, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp(f"{request.param}-contract")
    if request.param == "docker":
        from chaos.platforms.docker import DockerPlatform, unavailable_reason

        require("docker", unavailable_reason(), "REQUIRE_DOCKER")
        yield from running(DockerPlatform(run_dir))
    elif request.param == "kind":
        # Needs the images (`nox -s images`); creates the cluster from kind-config.yaml unless
        # one exists, and deletes only what it created.
        from chaos.platforms.kind import KindPlatform, missing_tools

        require("kind", missing_tools(), "REQUIRE_KIND")
        yield from running(KindPlatform(run_dir, timeout=900))
    else:
        local = LocalPlatform(run_dir)
        local.start(1, SystemOptions())
        yield local
        local.stop()


def test_every_service_is_up_after_start(platform):
    services = platform.services()
    assert {"redis", "postgres", "api", "fixtures", "worker-0"} <= set(services)
    assert all(platform.is_up(s) for s in ("redis", "postgres", "api", "fixtures"))
    endpoints = platform.endpoints()
    assert requests.get(f"{endpoints.api_url}/readyz", timeout=5).status_code == 200


def test_a_killed_redis_goes_down_and_comes_back_empty(platform):
    client = redis.Redis.from_url(platform.endpoints().redis_url, socket_timeout=2)
    client.set("contract-marker", "1")
    before = platform.identity("redis")
    platform.kill("redis")
    assert not platform.is_up("redis")
    platform.start_service("redis")
    assert platform.is_up("redis")
    assert platform.identity("redis") != before
    client = redis.Redis.from_url(platform.endpoints().redis_url, socket_timeout=2)
    assert client.get("contract-marker") is None


def test_a_killed_postgres_comes_back_with_its_data(platform):
    url = platform.endpoints().database_url
    marker = uuid.uuid4().hex
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS contract (marker text)")
        cur.execute("INSERT INTO contract VALUES (%s)", (marker,))
    conn.close()
    before = platform.identity("postgres")
    platform.kill("postgres")
    assert not platform.is_up("postgres")
    platform.start_service("postgres")
    assert platform.identity("postgres") != before
    with psycopg2.connect(platform.endpoints().database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM contract WHERE marker = %s", (marker,))
        assert cur.fetchone()[0] == 1
    conn.close()


def test_a_restarted_api_answers_with_a_new_identity(platform):
    before = platform.identity("api")
    platform.restart("api")
    assert platform.identity("api") != before
    assert requests.get(f"{platform.endpoints().api_url}/healthz", timeout=5).ok


def test_workers_scale_up_and_down(platform):
    def workers():
        return [s for s in platform.services() if s.startswith("worker-")]

    platform.scale_workers(3)
    assert len(workers()) == 3 and all(platform.is_up(w) for w in workers())
    platform.scale_workers(1)
    assert len(workers()) == 1


def test_a_paused_service_stops_answering_until_resumed(platform):
    if getattr(platform, "supports_pause", True) is False:
        pytest.skip(f"{platform.name} cannot pause a service")
    platform.pause("redis")
    try:
        client = redis.Redis.from_url(platform.endpoints().redis_url, socket_timeout=0.5)
        with pytest.raises(redis.RedisError):
            client.ping()
    finally:
        platform.resume("redis")
    client = redis.Redis.from_url(platform.endpoints().redis_url, socket_timeout=2)
    assert client.ping()


def test_logs_of_every_service_are_collected(platform, tmp_path):
    written = platform.collect_logs(tmp_path)
    assert written and all(path.exists() for path in written)


def test_stop_leaves_nothing_running(platform):
    services = platform.services()
    platform.stop()
    assert not any(platform.is_up(s) for s in services if s in ("redis", "postgres", "api"))
