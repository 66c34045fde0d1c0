"""Read-only looks at the system's state, from Postgres (truth) and Redis (the queue).

Used by the timeline sampler, the drain, fault targeting and the ``status`` command. Every call
opens a short-lived connection with a short timeout and returns None when the store is down.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg2
import redis

from system.constants import ACTIVE_STATES, QUEUE_KEY, STATES


class Probe:
    def __init__(self, database_url: str, redis_url: str, mode: str = "robust") -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.mode = mode

    def query(self, sql: str, params: tuple = ()) -> list[tuple] | None:
        try:
            conn = psycopg2.connect(
                self.database_url, connect_timeout=2, options="-c statement_timeout=5000"
            )
        except psycopg2.Error:
            return None
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        except psycopg2.Error:
            return None
        finally:
            conn.close()

    def counts(self) -> dict[str, int] | None:
        rows = self.query("SELECT status, count(*) FROM jobs GROUP BY status")
        if rows is None:
            return None
        found = dict(rows)
        return {state: int(found.get(state, 0)) for state in STATES}

    def active(self) -> int | None:
        counts = self.counts()
        return None if counts is None else sum(counts[s] for s in ACTIVE_STATES)

    def queue_depth(self) -> int | None:
        try:
            client = redis.Redis.from_url(
                self.redis_url, socket_timeout=1, socket_connect_timeout=1
            )
            kind = client.type(QUEUE_KEY)
            if kind in (b"list", "list"):
                return int(client.llen(QUEUE_KEY))
            if kind in (b"stream", "stream"):
                return int(client.xlen(QUEUE_KEY))
            return 0
        except (redis.RedisError, OSError):
            return None

    def sample(self) -> dict[str, Any]:
        return {"t": time.time(), "counts": self.counts(), "queue": self.queue_depth()}

    def jobs_held_by(self, worker: str) -> list[int]:
        """Jobs in PROCESSING whose latest claim was made by ``worker``."""
        rows = self.query(
            "SELECT e.job_id FROM (SELECT DISTINCT ON (job_id) job_id, kind, worker "
            "FROM job_events WHERE job_id IN (SELECT id FROM jobs WHERE status = 'PROCESSING') "
            "ORDER BY job_id, id DESC) e WHERE e.kind = 'claimed' AND e.worker = %s",
            (worker,),
        )
        return sorted(r[0] for r in rows or [])

    def busy_workers(self) -> dict[str, int]:
        """Worker name -> number of jobs it is processing now."""
        rows = self.query(
            "SELECT worker, count(*) FROM (SELECT DISTINCT ON (job_id) job_id, kind, worker "
            "FROM job_events WHERE job_id IN (SELECT id FROM jobs WHERE status = 'PROCESSING') "
            "ORDER BY job_id, id DESC) e WHERE e.kind = 'claimed' GROUP BY worker"
        )
        return {r[0]: int(r[1]) for r in rows or [] if r[0]}

    def wait_drained(self, timeout: float, interval: float = 0.25) -> float | None:
        """Wait until no job is PENDING, PROCESSING or RETRY; seconds taken, or None."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.active() == 0:
                return time.monotonic() - started
            time.sleep(interval)
        return None


JOB_FIELDS = (
    "id",
    "status",
    "image_url",
    "attempts",
    "completions",
    "result_sha256",
    "result_size",
    "last_error",
    "created_at",
    "started_at",
    "finished_at",
)


def read_final_state(database_url: str, noop: bool = False):
    """Every job and its audit trail, for the checker. Raises CheckError if unreadable."""
    from chaos.checker import FinalState
    from chaos.errors import CheckError

    try:
        conn = psycopg2.connect(database_url, connect_timeout=5)
    except psycopg2.Error as exc:
        raise CheckError(f"cannot read the final state from Postgres: {exc}") from None
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT {', '.join(JOB_FIELDS)} FROM jobs ORDER BY id")
            jobs = [dict(zip(JOB_FIELDS, row)) for row in cur.fetchall()]
            cur.execute(
                "SELECT job_id, extract(epoch FROM at), kind, attempt, worker, detail "
                "FROM job_events ORDER BY id"
            )
            events: dict[int, list[dict[str, Any]]] = {}
            for job_id, at, kind, attempt, worker, detail in cur.fetchall():
                events.setdefault(job_id, []).append(
                    {
                        "at": float(at),
                        "kind": kind,
                        "attempt": attempt,
                        "worker": worker,
                        "detail": detail,
                    }
                )
    except psycopg2.Error as exc:
        raise CheckError(f"cannot read the final state from Postgres: {exc}") from None
    finally:
        conn.close()
    return FinalState(jobs, events, noop)
