"""Every SQL statement of the robust system, one function each, one round trip each.

Fencing: a claim increments ``attempts`` and records the worker as ``lease_owner``. Every later
write for that attempt (heartbeat, done, retry, fail, release) names the attempt and owner in
its WHERE clause, so a worker whose lease was taken over changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from system.constants import ACTIVE_STATES

# Each transition writes its audit event in the same statement (a data-modifying CTE).
_EVENT = (
    "ev AS (INSERT INTO job_events (job_id, kind, attempt, worker, detail) "
    "SELECT id, %(kind)s, attempts, %(worker)s, %(detail)s FROM j)"
)


@dataclass(frozen=True)
class Claim:
    job_id: int
    attempt: int
    image_url: str


def submit(cur, image_url: str, key: str | None) -> tuple[int, bool, str]:
    """Insert a PENDING job; with a known key, return the existing one. -> (id, created, url)."""
    cur.execute(
        "INSERT INTO jobs (image_url, idempotency_key) VALUES (%s, %s) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        (image_url, key),
    )
    row = cur.fetchone()
    if row is not None:
        return row[0], True, image_url
    cur.execute("SELECT id, image_url FROM jobs WHERE idempotency_key = %s", (key,))
    existing = cur.fetchone()
    return existing[0], False, existing[1]


def claim(cur, job_id: int, worker: str, lease_seconds: float, take_expired: bool = True):
    """Take the job's lease if it is waiting, or if its previous lease expired."""
    expired = "OR (status = 'PROCESSING' AND lease_expires_at < now())" if take_expired else ""
    cur.execute(
        "WITH j AS (UPDATE jobs SET status = 'PROCESSING', attempts = attempts + 1, "
        "lease_owner = %(worker)s, lease_expires_at = now() + make_interval(secs => %(lease)s), "
        "started_at = now(), updated_at = now() "
        "WHERE id = %(id)s AND ((status IN ('PENDING', 'RETRY') "
        f"AND (retry_at IS NULL OR retry_at <= now())) {expired}) "
        "RETURNING id, attempts, image_url), "
        f"{_EVENT} SELECT id, attempts, image_url FROM j",
        {"id": job_id, "worker": worker, "lease": lease_seconds, "kind": "claimed", "detail": None},
    )
    row = cur.fetchone()
    return Claim(*row) if row else None


def status_of(cur, job_id: int) -> tuple[str, bool] | None:
    """(status, lease still live) of a job, or None if there is no such job."""
    cur.execute("SELECT status, lease_expires_at > now() FROM jobs WHERE id = %s", (job_id,))
    row = cur.fetchone()
    return (row[0], bool(row[1])) if row else None


def heartbeat(cur, leases: list[tuple[int, int]], worker: str, lease_seconds: float) -> set[int]:
    """Extend the leases this worker still holds; return the job ids it still holds."""
    if not leases:
        return set()
    cur.execute(
        "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => %s) "
        "FROM unnest(%s::bigint[], %s::int[]) AS l(id, attempt) "
        "WHERE jobs.id = l.id AND jobs.attempts = l.attempt AND jobs.lease_owner = %s "
        "AND jobs.status = 'PROCESSING' RETURNING jobs.id",
        (lease_seconds, [j for j, _ in leases], [a for _, a in leases], worker),
    )
    return {row[0] for row in cur.fetchall()}


def complete(cur, claim_: Claim, worker: str, data: bytes, sha256: str, fenced: bool = True):
    """Store the result and mark DONE, only if this attempt still holds the lease."""
    fence = (
        "AND status = 'PROCESSING' AND attempts = %(attempt)s AND lease_owner = %(worker)s"
        if fenced
        else ""
    )
    cur.execute(
        "WITH j AS (UPDATE jobs SET status = 'DONE', completions = completions + 1, "
        "result_size = %(size)s, result_sha256 = %(sha)s, finished_at = now(), "
        "updated_at = now(), lease_owner = NULL, lease_expires_at = NULL, last_error = NULL "
        f"WHERE id = %(id)s {fence} RETURNING id, attempts), "
        "r AS (INSERT INTO job_results (job_id, attempt, data) SELECT id, attempts, %(data)s "
        "FROM j ON CONFLICT (job_id) DO UPDATE SET attempt = EXCLUDED.attempt, "
        "data = EXCLUDED.data, created_at = clock_timestamp()), "
        f"{_EVENT} SELECT count(*) FROM j",
        {
            "id": claim_.job_id,
            "attempt": claim_.attempt,
            "worker": worker,
            "size": len(data),
            "sha": sha256,
            "data": data,
            "kind": "done",
            "detail": None,
        },
    )
    return cur.fetchone()[0] == 1


def retry_later(cur, claim_: Claim, worker: str, error: str, delay: float) -> bool:
    """Put the job in RETRY until ``delay`` seconds from now (fenced)."""
    return _finish(
        cur,
        claim_,
        worker,
        "RETRY",
        "retry",
        error,
        "retry_at = now() + make_interval(secs => %(delay)s)",
        delay,
    )


def fail(cur, claim_: Claim, worker: str, error: str) -> bool:
    """Dead-letter the job: FAILED with its last error (fenced)."""
    return _finish(cur, claim_, worker, "FAILED", "failed", error, "finished_at = now()")


def release(cur, claim_: Claim, worker: str) -> bool:
    """Give the job back (graceful shutdown): PENDING again, attempt not counted (fenced)."""
    return _finish(
        cur,
        claim_,
        worker,
        "PENDING",
        "released",
        "worker shutting down",
        "attempts = attempts - 1, enqueued_at = NULL",
    )


def _finish(
    cur,
    claim_: Claim,
    worker: str,
    status: str,
    kind: str,
    error: str,
    extra: str,
    delay: float = 0.0,
) -> bool:
    cur.execute(
        f"WITH j AS (UPDATE jobs SET status = '{status}', last_error = %(error)s, {extra}, "
        "lease_owner = NULL, lease_expires_at = NULL, updated_at = now() "
        "WHERE id = %(id)s AND status = 'PROCESSING' AND attempts = %(attempt)s "
        "AND lease_owner = %(worker)s RETURNING id, attempts), "
        f"{_EVENT} SELECT count(*) FROM j",
        {
            "id": claim_.job_id,
            "attempt": claim_.attempt,
            "worker": worker,
            "error": error[:2000],
            "delay": delay,
            "kind": kind,
            "detail": error[:500],
        },
    )
    return cur.fetchone()[0] == 1


# --- the reconciler's statements -------------------------------------------------------------


def waiting_unqueued_candidates(cur, grace: float, limit: int) -> list[int]:
    """PENDING (or due RETRY) jobs not handed to the queue within ``grace`` seconds."""
    cur.execute(
        "SELECT id FROM jobs WHERE status IN ('PENDING', 'RETRY') "
        "AND (retry_at IS NULL OR retry_at <= now()) "
        "AND (COALESCE(enqueued_at, created_at) < now() - make_interval(secs => %s) "
        "     OR (status = 'RETRY' AND (enqueued_at IS NULL OR enqueued_at < retry_at))) "
        "ORDER BY id LIMIT %s",
        (grace, limit),
    )
    return [row[0] for row in cur.fetchall()]


def expired_lease_candidates(cur, grace: float, limit: int) -> list[int]:
    """PROCESSING jobs whose lease expired more than ``grace`` seconds ago."""
    cur.execute(
        "SELECT id FROM jobs WHERE status = 'PROCESSING' "
        "AND lease_expires_at < now() - make_interval(secs => %s) "
        "AND (enqueued_at IS NULL OR enqueued_at < now() - make_interval(secs => %s)) "
        "ORDER BY id LIMIT %s",
        (grace, grace, limit),
    )
    return [row[0] for row in cur.fetchall()]


def mark_requeued(cur, job_ids: list[int], worker: str) -> list[int]:
    """Stamp the jobs as enqueued now, if they still need it; return those that do."""
    cur.execute(
        "WITH j AS (UPDATE jobs SET enqueued_at = now() WHERE id = ANY(%(ids)s) "
        "AND (status IN ('PENDING', 'RETRY') "
        "     OR (status = 'PROCESSING' AND lease_expires_at < now())) RETURNING id, attempts), "
        f"{_EVENT} SELECT id FROM j ORDER BY id",
        {"ids": job_ids, "worker": worker, "kind": "requeued", "detail": "reconciler"},
    )
    return [row[0] for row in cur.fetchall()]


# --- reads for the API -----------------------------------------------------------------------

JOB_COLUMNS = (
    "id",
    "status",
    "image_url",
    "idempotency_key",
    "attempts",
    "lease_owner",
    "lease_expires_at",
    "retry_at",
    "last_error",
    "completions",
    "result_size",
    "result_sha256",
    "created_at",
    "enqueued_at",
    "started_at",
    "finished_at",
    "updated_at",
)


def get(cur, job_id: int) -> dict[str, Any] | None:
    cur.execute(f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs WHERE id = %s", (job_id,))
    row = cur.fetchone()
    return dict(zip(JOB_COLUMNS, row)) if row else None


def listing(cur, status: str | None, limit: int) -> list[dict[str, Any]]:
    where = "WHERE status = %s" if status else ""
    params = (status, limit) if status else (limit,)
    cur.execute(
        f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs {where} ORDER BY id DESC LIMIT %s", params
    )
    return [dict(zip(JOB_COLUMNS, row)) for row in cur.fetchall()]


def counts(cur) -> dict[str, int]:
    cur.execute("SELECT status, count(*) FROM jobs GROUP BY status")
    found = dict(cur.fetchall())
    return {
        state: int(found.get(state, 0)) for state in (*ACTIVE_STATES, "DONE", "FAILED", "CANCELLED")
    }
