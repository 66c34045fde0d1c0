"""The reconciler: puts orphaned jobs back to work, one leader at a time.

Each pass runs in one Postgres transaction that first takes a transaction-level advisory lock
(``pg_try_advisory_xact_lock``): if another process holds it, this pass does nothing. A pass
finds jobs that should be in the queue but are not (the stream is the truth about what is
queued: Redis restarted empty, the API could not reach Redis, a retry became due, a lease
expired and its message is gone) and enqueues each of them once.
"""

from __future__ import annotations

import logging
import threading

from system import jobs
from system.constants import RECONCILER_LOCK_ID
from system.db import CONNECTION_ERRORS, Database
from system.queue import REDIS_ERRORS, JobQueue
from system.settings import Settings

log = logging.getLogger("system.reconciler")

BATCH = 1000


class Reconciler:
    def __init__(self, settings: Settings, db: Database, queue: JobQueue, name: str) -> None:
        self.settings = settings
        self.db = db
        self.queue = queue
        self.name = name
        self.passes = 0
        self.requeued = 0

    def __repr__(self) -> str:
        return f"<Reconciler {self.name} passes={self.passes} requeued={self.requeued}>"

    def run_once(self) -> int | None:
        """One pass: the number of jobs requeued, or None if another process is the leader."""
        with self.db.transaction() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (RECONCILER_LOCK_ID,))
            if not cur.fetchone()[0]:
                return None
            self.passes += 1
            waiting = jobs.waiting_unqueued_candidates(
                cur, self.settings.pending_grace_seconds, BATCH
            )
            expired = jobs.expired_lease_candidates(cur, self.settings.orphan_grace_seconds, BATCH)
            if not waiting and not expired:
                return 0
            queued = self.queue.queued_job_ids()
            missing = sorted({j for j in (*waiting, *expired) if j not in queued})
            if not missing:
                return 0
            requeue = jobs.mark_requeued(cur, missing, self.name)
            if not requeue:
                return 0
            log.warning("Found %d orphaned PENDING jobs, requeuing...", len(requeue))
            # Enqueue inside the transaction: if Redis fails, the stamps roll back too.
            self.queue.enqueue(requeue)
            for job_id in requeue:
                log.info("Requeued job ID %d", job_id)
        self.requeued += len(requeue)
        return len(requeue)

    def run(self, stop: threading.Event) -> None:
        """Pass after pass until ``stop`` is set; outages are logged and waited out."""
        while not stop.wait(self.settings.reconcile_interval_seconds):
            try:
                self.run_once()
            except CONNECTION_ERRORS as exc:
                log.warning(
                    "DB connection lost, reconnecting... (reconciler: %s)", str(exc).strip()[:200]
                )
            except REDIS_ERRORS as exc:
                log.warning("Redis connection lost: %s (reconciler will retry)", exc)
            except Exception:  # noqa: BLE001 - keep reconciling whatever one pass hit
                log.exception("Reconciler pass failed")
