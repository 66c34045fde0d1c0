"""Prometheus text exposition, read from the source of truth (Postgres) and the queue (Redis).

Job counters come from Postgres and the audit trail, so every API replica reports the same
numbers and nothing is lost when a process restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from system import jobs
from system.constants import NAIVE_QUEUE_KEY, QUEUE_KEY
from system.db import CONNECTION_ERRORS, Database
from system.queue import REDIS_ERRORS
from system.settings import Settings

# Upper bounds (seconds) of the processing-time histogram buckets.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Counters:
    """What this API process counted itself."""

    submitted: int = 0
    repeated: int = 0


def render(db: Database, client: redis.Redis, settings: Settings, counters: Counters) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    metric(
        "image_jobs_api_submitted_total",
        "counter",
        "Jobs accepted by this API process.",
        [("", counters.submitted)],
    )
    metric(
        "image_jobs_api_repeated_total",
        "counter",
        "Submissions answered with an existing job (same Idempotency-Key).",
        [("", counters.repeated)],
    )
    try:
        state = db.execute(_database_figures)
    except CONNECTION_ERRORS:
        state = None
    metric(
        "image_jobs_database_up",
        "gauge",
        "1 when Postgres answered this scrape.",
        [("", 1 if state else 0)],
    )
    if state:
        by_status, events, histogram, total, count = state
        metric(
            "image_jobs_jobs",
            "gauge",
            "Jobs by state.",
            [(f'{{status="{s}"}}', n) for s, n in by_status.items()],
        )
        metric(
            "image_jobs_submitted_total",
            "counter",
            "Jobs ever accepted.",
            [("", sum(by_status.values()))],
        )
        metric(
            "image_jobs_completed_total", "counter", "Jobs DONE.", [("", by_status.get("DONE", 0))]
        )
        metric(
            "image_jobs_failed_total",
            "counter",
            "Jobs dead-lettered (FAILED).",
            [("", by_status.get("FAILED", 0))],
        )
        metric(
            "image_jobs_retried_total",
            "counter",
            "Attempts that ended in a retry.",
            [("", events.get("retry", 0))],
        )
        metric(
            "image_jobs_requeued_total",
            "counter",
            "Jobs requeued by the reconciler.",
            [("", events.get("requeued", 0))],
        )
        samples = [(f'_bucket{{le="{b}"}}', n) for b, n in zip(BUCKETS, histogram)]
        samples += [('_bucket{le="+Inf"}', count), ("_sum", total), ("_count", count)]
        lines.append("# HELP image_jobs_processing_seconds Claim-to-DONE time of finished jobs.")
        lines.append("# TYPE image_jobs_processing_seconds histogram")
        lines.extend(f"image_jobs_processing_seconds{s} {v:g}" for s, v in samples)
    try:
        key = NAIVE_QUEUE_KEY if settings.mode == "naive" else QUEUE_KEY
        depth = client.llen(key) if settings.mode == "naive" else client.xlen(key)
        metric("image_jobs_queue_depth", "gauge", "Messages in the Redis queue.", [("", depth)])
    except REDIS_ERRORS:
        metric("image_jobs_queue_up", "gauge", "1 when Redis answered this scrape.", [("", 0)])
    return "\n".join(lines) + "\n"


def _database_figures(cur):
    by_status = jobs.counts(cur)
    cur.execute("SELECT kind, count(*) FROM job_events GROUP BY kind")
    events = dict(cur.fetchall())
    buckets = ", ".join(f"count(*) FILTER (WHERE d <= {b})" for b in BUCKETS)
    cur.execute(
        f"SELECT {buckets}, COALESCE(sum(d), 0), count(*) FROM ("
        "SELECT EXTRACT(EPOCH FROM finished_at - started_at) AS d FROM jobs "
        "WHERE status = 'DONE' AND started_at IS NOT NULL) t"
    )
    row = cur.fetchone()
    return by_status, events, row[: len(BUCKETS)], float(row[-2]), row[-1]
