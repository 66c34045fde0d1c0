"""The naive baseline: the seed design of the runbook, kept faithfully for comparison.

API: insert the row, then LPUSH the id to the ``image_queue`` list. Worker: BRPOP, mark
PROCESSING, process, mark DONE with a plain UPDATE: no lease, no fencing, no retries, no
timeouts. Redis errors: wait a fixed 5 seconds and reconnect. Every worker runs its own orphan
sweep every 30 seconds that requeues every PENDING job, without any lock.

Known weaknesses (what the harness must catch): a worker that dies after BRPOP loses its job
(it stays PROCESSING forever); a sweep re-pushes jobs that are still queued, so two workers can
process and complete the same job.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading

import redis
import requests

from system import schema
from system.constants import NAIVE_QUEUE_KEY
from system.db import Database
from system.imaging import make_thumbnail
from system.queue import REDIS_ERRORS, connect
from system.settings import Settings

log = logging.getLogger("system.naive")


def insert_job(cur, image_url: str) -> int:
    cur.execute("INSERT INTO jobs (image_url) VALUES (%s) RETURNING id", (image_url,))
    return cur.fetchone()[0]


def push(client: redis.Redis, job_id: int) -> None:
    client.lpush(NAIVE_QUEUE_KEY, job_id)


def _event(cur, job_id: int, kind: str, worker: str, detail: str | None = None) -> None:
    # Audit trail for the harness's evidence; the seed design had none, and it changes nothing.
    cur.execute(
        "INSERT INTO job_events (job_id, kind, worker, detail) VALUES (%s, %s, %s, %s)",
        (job_id, kind, worker, detail),
    )


class NaiveWorker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.db = Database(settings.database_url, size=2)
        self.client = connect(settings.redis_url, socket_timeout=10.0)
        self.stop = threading.Event()
        self.done = 0

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        schema.prepare(self.db, stop=self.stop)
        threading.Thread(target=self._sweep_loop, name="sweep", daemon=True).start()
        log.info("Naive worker %s started", self.name)
        while not self.stop.is_set():
            try:
                popped = self.client.brpop([NAIVE_QUEUE_KEY], timeout=1)
            except REDIS_ERRORS as exc:
                self._wait_for_redis(exc)
                continue
            if popped:
                self._process(int(popped[1]))
        log.info("Naive worker %s stopped: done=%d", self.name, self.done)
        return 0

    def _wait_for_redis(self, exc: Exception) -> None:
        log.warning("Redis connection lost: %s", exc)
        delay = self.settings.naive_reconnect_seconds
        log.info("Reconnecting to Redis in %g seconds...", delay)
        self.stop.wait(delay)
        try:
            self.client.ping()
            log.info("Reconnected to Redis!")
        except REDIS_ERRORS:
            pass

    def _process(self, job_id: int) -> None:
        def start(cur):
            cur.execute(
                "UPDATE jobs SET status = 'PROCESSING', attempts = attempts + 1, "
                "started_at = now(), updated_at = now() WHERE id = %s "
                "RETURNING image_url",
                (job_id,),
            )
            row = cur.fetchone()
            if row:
                _event(cur, job_id, "claimed", self.name)
            return row[0] if row else None

        url = self.db.retrying(start, stop=self.stop, atomic=True)
        if url is None:
            return
        try:
            if self.settings.noop:
                data, sha = b"noop", ""
            else:
                thumb = make_thumbnail(requests.get(url).content, self.settings.max_pixels)
                data, sha = thumb.data, thumb.sha256
        except Exception as exc:  # noqa: BLE001 - the seed design failed the job on any error
            error = str(exc)
            log.warning("Job %d failed: %s", job_id, error)
            self.db.retrying(
                lambda cur: self._fail(cur, job_id, error), stop=self.stop, atomic=True
            )
            return
        self.db.retrying(
            lambda cur: self._finish(cur, job_id, data, sha), stop=self.stop, atomic=True
        )
        self.done += 1

    def _finish(self, cur, job_id: int, data: bytes, sha: str) -> None:
        cur.execute(
            "UPDATE jobs SET status = 'DONE', completions = completions + 1, "
            "result_size = %s, result_sha256 = %s, finished_at = now(), "
            "updated_at = now() WHERE id = %s",
            (len(data), sha, job_id),
        )
        cur.execute(
            "INSERT INTO job_results (job_id, attempt, data) VALUES (%s, 0, %s) "
            "ON CONFLICT (job_id) DO UPDATE SET data = EXCLUDED.data",
            (job_id, data),
        )
        _event(cur, job_id, "done", self.name)

    def _fail(self, cur, job_id: int, error: str) -> None:
        cur.execute(
            "UPDATE jobs SET status = 'FAILED', last_error = %s, finished_at = now(), "
            "updated_at = now() WHERE id = %s",
            (error[:2000], job_id),
        )
        _event(cur, job_id, "failed", self.name, error[:500])

    def _sweep_loop(self) -> None:
        while not self.stop.wait(self.settings.naive_sweep_seconds):
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again
                log.warning("Sweep failed: %s", exc)

    def sweep(self) -> int:
        """Requeue every PENDING job, as the seed design did (no lock, no check)."""
        pending = self.db.execute(lambda cur: _pending_ids(cur))
        if pending:
            log.warning("Found %d orphaned PENDING jobs, requeuing...", len(pending))
            for job_id in pending:
                self.client.lpush(NAIVE_QUEUE_KEY, job_id)
                log.info("Requeued job ID %d", job_id)
        return len(pending)


def _pending_ids(cur) -> list[int]:
    cur.execute("SELECT id FROM jobs WHERE status = 'PENDING' ORDER BY id")
    return [row[0] for row in cur.fetchall()]


def run_worker(settings: Settings) -> int:
    return NaiveWorker(settings).run()
