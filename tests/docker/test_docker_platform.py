"""The platform contract on a real Docker engine (see conftest.py for when these skip)."""

from __future__ import annotations

import time

import psycopg2
import pytest
import redis
import requests

from chaos.errors import PlatformError
from chaos.platforms.base import SystemOptions
from chaos.platforms.docker_cli import DockerCLI

pytestmark = pytest.mark.docker


def test_every_service_is_up_after_start(docker_platform):
    assert docker_platform.services() == ["redis", "postgres", "api", "fixtures", "worker-0"]
    assert all(docker_platform.is_up(s) for s in docker_platform.services())


def test_a_submitted_job_is_downloaded_from_the_fixture_container_and_done(docker_platform):
    ep = docker_platform.endpoints()
    url = f"{ep.fixtures_url_internal}/images/photo.jpg"
    answer = requests.post(f"{ep.api_url}/submit", json={"image_url": url}, timeout=10)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = requests.get(f"{ep.api_url}/jobs/{job_id}", timeout=5).json()["status"]
        if status in ("DONE", "FAILED"):
            break
        time.sleep(0.2)
    assert status == "DONE"


def test_killing_redis_takes_it_down_and_starting_it_brings_it_back_empty(docker_platform):
    client = redis.Redis.from_url(docker_platform.endpoints().redis_url, socket_timeout=2)
    client.set("chaos-test-key", "still here?")
    before = docker_platform.identity("redis")
    docker_platform.kill("redis")
    assert not docker_platform.is_up("redis")
    assert docker_platform.identity("redis") is None
    docker_platform.start_service("redis")
    assert docker_platform.is_up("redis")
    assert docker_platform.identity("redis") not in (None, before)
    assert client.get("chaos-test-key") is None


def test_restarting_postgres_changes_its_identity_and_keeps_its_data(docker_platform):
    url = docker_platform.endpoints().database_url
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS chaos_probe (v text)")
        cur.execute("INSERT INTO chaos_probe VALUES ('kept')")
    before = docker_platform.identity("postgres")
    docker_platform.restart("postgres")
    assert docker_platform.identity("postgres") not in (None, before)
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT v FROM chaos_probe")
            assert cur.fetchall() == [("kept",)]
    finally:
        conn.close()


def test_restarting_redis_with_restart_changes_its_identity(docker_platform):
    before = docker_platform.identity("redis")
    docker_platform.restart("redis")
    assert docker_platform.is_up("redis")
    assert docker_platform.identity("redis") != before


def test_the_api_is_ready_again_after_postgres_and_redis_restarts(docker_platform):
    ready = f"{docker_platform.endpoints().api_url}/readyz"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and requests.get(ready, timeout=5).status_code != 200:
        time.sleep(0.2)
    assert requests.get(ready, timeout=5).status_code == 200


def test_a_paused_service_does_not_answer_until_resumed(docker_platform):
    docker_platform.pause("redis")
    try:
        assert not docker_platform.is_up("redis")
        assert docker_platform.identity("redis") is not None  # frozen, not gone
    finally:
        docker_platform.resume("redis")
    assert docker_platform.is_up("redis")


def test_a_paused_worker_is_not_up_until_resumed(docker_platform):
    docker_platform.pause("worker-0")
    try:
        assert not docker_platform.is_up("worker-0")
    finally:
        docker_platform.resume("worker-0")
    assert docker_platform.is_up("worker-0")


def test_a_partitioned_service_is_unreachable_until_reconnected(docker_platform):
    docker_platform.disconnect("redis")
    try:
        assert not docker_platform.is_up("redis")
    finally:
        docker_platform.reconnect("redis")
    assert docker_platform.is_up("redis")


def test_workers_scale_up_and_down_gracefully_without_waiting_for_a_timeout(docker_platform):
    docker_platform.scale_workers(3)
    running = [w for w in docker_platform.workers() if docker_platform.is_up(w)]
    assert len(running) == 3
    started = time.monotonic()
    docker_platform.scale_workers(1)
    took = time.monotonic() - started
    assert [w for w in docker_platform.workers() if docker_platform.is_up(w)] == ["worker-0"]
    assert took < 8, f"scale-down took {took:.1f} s: SIGTERM does not reach the workers"


def test_a_killed_worker_starts_again_with_a_new_identity(docker_platform):
    before = docker_platform.identity("worker-0")
    docker_platform.kill("worker-0")
    assert not docker_platform.is_up("worker-0")
    docker_platform.start_service("worker-0")
    assert docker_platform.is_up("worker-0")
    assert docker_platform.identity("worker-0") not in (None, before)


def test_a_terminated_worker_exits_on_sigterm_within_its_drain(docker_platform):
    started = time.monotonic()
    docker_platform.terminate("worker-0")
    assert not docker_platform.is_up("worker-0")
    assert time.monotonic() - started < 8
    docker_platform.start_service("worker-0")


def test_logs_of_every_container_are_collected_including_replaced_ones(docker_platform, tmp_path):
    files = {path.name for path in docker_platform.collect_logs(tmp_path)}
    assert {"redis.log", "postgres.log", "api.log", "fixtures.log", "worker-0.log"} <= files
    assert "worker-2.log" in files  # removed at scale-down, its log kept
    redis_log = (tmp_path / "redis.log").read_text()
    assert redis_log.count("Ready to accept connections") >= 2  # every Redis container's log
    docker_platform.collect_logs(tmp_path)
    assert (tmp_path / "redis.log").read_text() == redis_log  # collecting again adds nothing


def test_stop_leaves_no_container_network_or_volume_and_may_be_called_twice(
    make_docker_platform,
):
    platform = make_docker_platform()
    platform.start(1, SystemOptions())
    platform.stop()
    platform.stop()
    cli = DockerCLI()
    run_filter = platform.names.run_filter()
    assert cli("ps", "--all", "--quiet", "--filter", run_filter).split() == []
    assert cli("network", "ls", "--quiet", "--filter", run_filter).split() == []
    assert cli("volume", "ls", "--quiet", "--filter", run_filter).split() == []


def test_stop_after_a_failed_start_removes_what_was_created(make_docker_platform):
    platform = make_docker_platform(start_timeout=0.0)  # nothing answers in no time
    with pytest.raises(PlatformError, match="timed out"):
        platform.start(1, SystemOptions())
    platform.stop()
    assert DockerCLI()("ps", "--all", "--quiet", "--filter", platform.names.run_filter()) == ""
