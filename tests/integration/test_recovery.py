"""The system's guarantees under real faults: nothing lost, nothing done twice."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration


def test_redis_restarted_empty_with_jobs_queued_loses_nothing(stack, redis_server):
    stack.start_api()
    ids = [stack.submit(key=f"r{i}").json()["job_id"] for i in range(20)]
    redis_server.process.kill()
    redis_server.start()  # no persistence: the queue is gone
    stack.start_worker("worker-0")
    stack.start_worker("worker-1")
    jobs = stack.wait_for(ids)
    assert {j["status"] for j in jobs} == {"DONE"}
    assert all(j["completions"] == 1 for j in jobs)
    logs = stack.logs()
    assert "orphaned PENDING jobs, requeuing..." in logs
    assert "Requeued job ID" in logs


def test_postgres_killed_while_workers_run_loses_nothing(stack, postgres_server):
    stack.start_api()
    stack.start_worker("worker-0")
    stack.start_worker("worker-1")
    ids = [stack.submit("slow/0.2/small.jpg", key=f"p{i}").json()["job_id"] for i in range(20)]
    postgres_server.process.kill()
    time.sleep(1.0)
    postgres_server.start()
    jobs = stack.wait_for(ids, timeout=60)
    assert {j["status"] for j in jobs} == {"DONE"}
    assert all(j["completions"] == 1 for j in jobs)
    assert "DB connection lost, reconnecting..." in stack.logs()


def test_a_worker_killed_mid_job_has_its_job_redone_exactly_once(stack):
    stack.start_api()
    victim = stack.start_worker("worker-0")
    job_id = stack.submit("slow/2/photo.jpg").json()["job_id"]
    stack.wait_for([job_id], states=("PROCESSING",))
    victim.kill()
    stack.start_worker("worker-1")
    (job,) = stack.wait_for([job_id], timeout=30)
    assert job["status"] == "DONE"
    assert job["attempts"] == 2 and job["completions"] == 1
    assert job["lease_owner"] is None


def test_workers_survive_a_redis_outage_in_place(stack, redis_server):
    stack.start_api()
    worker = stack.start_worker()
    redis_server.process.kill()
    time.sleep(1.0)
    redis_server.start()
    job_id = stack.submit(key="after-outage").json()["job_id"]
    (job,) = stack.wait_for([job_id], timeout=30)
    assert job["status"] == "DONE" and worker.alive()
    log = worker.log_path.read_text()
    assert "Redis connection lost" in log and "Reconnected to Redis!" in log
