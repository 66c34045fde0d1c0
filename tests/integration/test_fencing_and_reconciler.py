"""Fencing and the reconciler at the SQL level, against real Postgres and Redis."""

from __future__ import annotations

import threading
import time

import pytest

from system import jobs
from system.queue import StreamQueue
from system.reconciler import Reconciler

pytestmark = pytest.mark.integration


def new_job(db, url="http://127.0.0.1:1/images/small.jpg", key=None) -> int:
    return db.execute(lambda cur: jobs.submit(cur, url, key))[0]


def row(db, job_id: int) -> dict:
    return db.execute(lambda cur: jobs.get(cur, job_id))


def test_a_stale_worker_whose_lease_was_taken_over_cannot_commit(db):
    job_id = new_job(db)
    stale = db.execute(lambda cur: jobs.claim(cur, job_id, "worker-a", lease_seconds=0.1))
    time.sleep(0.2)  # worker-a stalls past its lease
    fresh = db.execute(lambda cur: jobs.claim(cur, job_id, "worker-b", lease_seconds=30))
    assert (stale.attempt, fresh.attempt) == (1, 2)
    assert db.execute(lambda cur: jobs.complete(cur, stale, "worker-a", b"late", "x")) is False
    assert db.execute(lambda cur: jobs.retry_later(cur, stale, "worker-a", "late", 1)) is False
    assert db.execute(lambda cur: jobs.fail(cur, stale, "worker-a", "late")) is False
    assert db.execute(lambda cur: jobs.complete(cur, fresh, "worker-b", b"ok", "y")) is True
    job = row(db, job_id)
    assert job["status"] == "DONE" and job["completions"] == 1
    assert job["result_sha256"] == "y"


def test_without_fencing_the_stale_worker_commits_twice(db):
    """What the no-fencing mutation removes, shown directly."""
    job_id = new_job(db)
    stale = db.execute(lambda cur: jobs.claim(cur, job_id, "worker-a", lease_seconds=0.1))
    time.sleep(0.2)
    fresh = db.execute(lambda cur: jobs.claim(cur, job_id, "worker-b", lease_seconds=30))
    db.execute(lambda cur: jobs.complete(cur, fresh, "worker-b", b"ok", "y"))
    assert db.execute(lambda cur: jobs.complete(cur, stale, "worker-a", b"x", "x", fenced=False))
    assert row(db, job_id)["completions"] == 2


def test_a_live_lease_cannot_be_claimed_and_heartbeats_keep_it(db):
    job_id = new_job(db)
    claim = db.execute(lambda cur: jobs.claim(cur, job_id, "worker-a", lease_seconds=0.5))
    for _ in range(3):
        time.sleep(0.3)
        held = db.execute(
            lambda cur: jobs.heartbeat(cur, [(job_id, claim.attempt)], "worker-a", 0.5)
        )
        assert held == {job_id}
        assert db.execute(lambda cur: jobs.claim(cur, job_id, "worker-b", 0.5)) is None


def test_two_reconcilers_at_once_one_works_and_no_job_is_enqueued_twice(db, redis_client, settings):
    ids = [new_job(db, key=f"orphan-{i}") for i in range(50)]
    db.execute(lambda cur: cur.execute("UPDATE jobs SET created_at = now() - interval '1 minute'"))
    queue = StreamQueue(redis_client)
    queue.ensure_group()

    class SlowQueue(StreamQueue):
        """Holds the leader's pass open long enough for the other reconciler to collide."""

        def queued_job_ids(self):
            time.sleep(0.5)
            return super().queued_job_ids()

    results: list[int | None] = []
    barrier = threading.Barrier(2)

    def reconcile(name: str) -> None:
        reconciler = Reconciler(settings, db, SlowQueue(redis_client), name)
        barrier.wait()
        results.append(reconciler.run_once())

    threads = [threading.Thread(target=reconcile, args=(f"r{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results, key=str) == [50, None]
    assert sorted(queue.queued_job_ids()) == sorted(ids)
    assert queue.depth() == 50
    # A second pass finds nothing left to do: the jobs are in the stream now.
    assert Reconciler(settings, db, queue, "r3").run_once() == 0
    assert queue.depth() == 50


def test_expired_leases_whose_message_is_gone_are_requeued_once(db, redis_client, settings):
    queue = StreamQueue(redis_client)
    queue.ensure_group()
    job_id = new_job(db)
    db.execute(lambda cur: jobs.claim(cur, job_id, "dead-worker", lease_seconds=0.01))
    time.sleep(settings.orphan_grace_seconds + 0.2)
    reconciler = Reconciler(settings, db, queue, "r1")
    assert reconciler.run_once() == 1
    assert reconciler.run_once() == 0
    assert queue.queued_job_ids() == {job_id}


def test_a_due_retry_is_released_to_the_queue(db, redis_client, settings):
    queue = StreamQueue(redis_client)
    queue.ensure_group()
    job_id = new_job(db)
    claim = db.execute(lambda cur: jobs.claim(cur, job_id, "w", lease_seconds=5))
    db.execute(lambda cur: jobs.retry_later(cur, claim, "w", "HTTP 503", delay=0.3))
    reconciler = Reconciler(settings, db, queue, "r1")
    assert reconciler.run_once() == 0  # not due yet
    time.sleep(0.4)
    assert reconciler.run_once() == 1
    assert db.execute(lambda cur: jobs.claim(cur, job_id, "w2", 5)).attempt == 2
