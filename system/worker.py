"""The robust worker: claim a message, lease the job, process it, commit fenced, acknowledge.

One worker process runs ``worker_concurrency`` job threads (downloads wait on the network while
another thread uses the CPU), a heartbeat thread that extends the leases it holds, and a
reconciler thread that does its passes only while it holds the leader lock.

SIGTERM: stop taking messages, let running jobs finish for up to ``drain_seconds``, give back
(release) the jobs that did not, and exit 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from system import jobs, schema
from system.constants import CANCELLED, DONE, FAILED
from system.db import Database
from system.errors import JobError, PermanentJobError, TransientJobError
from system.fetch import download
from system.imaging import make_thumbnail
from system.queue import REDIS_ERRORS, Message, StreamQueue, connect
from system.reconciler import Reconciler
from system.retry import Backoff, backoff_delay
from system.settings import Settings

log = logging.getLogger("system.worker")

NOOP_RESULT = b"noop"
STATUS_EVERY = 10.0  # seconds between one-line status logs (only when something changed)


class RedisLink:
    """Runs Redis calls for many threads; logs an outage once and paces the reconnects."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.backoff = Backoff()
        self.lock = threading.Lock()
        self.down = False

    def call(self, fn, *args):
        """``fn(*args)``, or None after waiting out one backoff step if Redis is unreachable."""
        try:
            result = fn(*args)
        except REDIS_ERRORS as exc:
            with self.lock:
                if not self.down:
                    log.warning("Redis connection lost: %s", exc)
                    self.down = True
                delay = self.backoff.next_delay()
            log.info("Reconnecting to Redis in %.1f seconds...", delay)
            self.stop.wait(delay)
            return None
        if self.down:
            with self.lock:
                if self.down:
                    log.info("Reconnected to Redis!")
                    self.down = False
                    self.backoff.reset()
        return result


@dataclass
class Tally:
    done: int = 0
    retried: int = 0
    failed: int = 0
    redelivered: int = 0
    lease_lost: int = 0
    released: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def line(self) -> str:
        return (
            f"done={self.done} retried={self.retried} failed={self.failed} "
            f"redelivered={self.redelivered} lease_lost={self.lease_lost} "
            f"released={self.released}"
        )


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.worker_id or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.stopping = threading.Event()  # no new messages
        self.halted = threading.Event()  # the process is exiting: give up waits
        self.db = Database(
            settings.database_url,
            size=settings.worker_concurrency + 2,
            connect_timeout=settings.connect_timeout_seconds,
        )
        self.queue = StreamQueue(connect(settings.redis_url))
        self.redis = RedisLink(self.halted)
        self.tally = Tally()
        self.inflight: dict[int, tuple[jobs.Claim, float]] = {}
        self.inflight_lock = threading.Lock()
        self.last_autoclaim = 0.0
        self.autoclaim_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Worker {self.name} {self.tally.line()}>"

    # --- lifecycle -----------------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_sigterm)
        signal.signal(signal.SIGINT, self._on_sigterm)
        schema.prepare(self.db, stop=self.halted)
        self.redis.call(self.queue.ensure_group)
        log.info(
            "Worker %s started (concurrency=%d, mode=%s, mutations=%s)",
            self.name,
            self.settings.worker_concurrency,
            self.settings.mode,
            ",".join(self.settings.mutations) or "none",
        )
        threads = [
            self._thread(self._job_loop, f"job-{i}")
            for i in range(self.settings.worker_concurrency)
        ]
        self._thread(self._heartbeat_loop, "heartbeat")
        if not self.settings.mutated("no-reconciler"):
            reconciler = Reconciler(self.settings, self.db, self.queue, self.name)
            self._thread(lambda: reconciler.run(self.halted), "reconciler")
        last_line = ""
        while not self.stopping.wait(STATUS_EVERY):
            line = self.tally.line()
            if line != last_line:
                log.info("Worker %s: %s in_flight=%d", self.name, line, len(self.inflight))
                last_line = line
        self._drain(threads)
        log.info("Worker %s stopped: %s", self.name, self.tally.line())
        return 0

    def _thread(self, target, name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _on_sigterm(self, signum, _frame) -> None:
        log.info(
            "Worker %s got signal %d: finishing current jobs, taking no new ones", self.name, signum
        )
        self.stopping.set()

    def _drain(self, threads: list[threading.Thread]) -> None:
        deadline = time.monotonic() + self.settings.drain_seconds
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.halted.set()
        with self.inflight_lock:
            leftovers = [claim for claim, _ in self.inflight.values()]
        for claim in leftovers:
            try:
                if self.db.execute(lambda cur, c=claim: jobs.release(cur, c, self.name)):
                    self.tally.add("released")
                    log.info(
                        "Released job %d (attempt %d) on shutdown", claim.job_id, claim.attempt
                    )
            except Exception as exc:  # noqa: BLE001 - the lease will expire instead
                log.warning("Could not release job %d: %s", claim.job_id, exc)

    # --- the job loop --------------------------------------------------------------------

    def _job_loop(self) -> None:
        while not self.stopping.is_set():
            messages = self._next_messages()
            for message in messages or []:
                try:
                    self._handle(message)
                except Exception:  # noqa: BLE001 - one bad message must not kill the thread
                    log.exception("Unexpected error on job %d", message.job_id)

    def _next_messages(self) -> list[Message] | None:
        stale = self._maybe_autoclaim()
        if stale:
            return stale
        return self.redis.call(self.queue.fetch, self.name, 1, 1000)

    def _maybe_autoclaim(self) -> list[Message] | None:
        """At most once a second per process: take over messages idle longer than a lease."""
        with self.autoclaim_lock:
            now = time.monotonic()
            if now - self.last_autoclaim < 1.0:
                return None
            self.last_autoclaim = now
        idle_ms = int(self.settings.lease_seconds * 1000)
        return self.redis.call(self.queue.claim_stale, self.name, idle_ms, 4)

    def _handle(self, message: Message) -> None:
        take_expired = not self.settings.mutated("no-lease-expiry")
        claim = self.db.retrying(
            lambda cur: jobs.claim(
                cur, message.job_id, self.name, self.settings.lease_seconds, take_expired
            ),
            stop=self.halted,
            what=f"claim job {message.job_id}",
        )
        if claim is None:
            self._not_claimed(message)
            return
        if claim.attempt > 1:
            self.tally.add("redelivered")
            log.info("Job %d redelivered: attempt %d", claim.job_id, claim.attempt)
        if claim.attempt > self.settings.max_attempts:
            self._record(
                claim,
                PermanentJobError(
                    f"gave up after {claim.attempt - 1} attempts that never finished"
                ),
            )
            self._ack(message)
            return
        if self.settings.mutated("early-ack"):
            self._ack(message)
        with self.inflight_lock:
            self.inflight[claim.job_id] = (claim, time.monotonic())
        try:
            outcome = self._work(claim)
            self._record(claim, outcome)
        finally:
            with self.inflight_lock:
                self.inflight.pop(claim.job_id, None)
        self._ack(message)

    def _not_claimed(self, message: Message) -> None:
        """Someone else holds the job, or it needs no work: acknowledge unless a lease is live."""
        state = self.db.retrying(
            lambda cur: jobs.status_of(cur, message.job_id), stop=self.halted, what="job status"
        )
        if state is not None and state[0] == "PROCESSING":
            return  # its owner acknowledges it; if the owner dies, XAUTOCLAIM brings it back
        if state is None or state[0] in (DONE, FAILED, CANCELLED, "RETRY", "PENDING"):
            self._ack(message)

    def _work(self, claim: jobs.Claim):
        """The job itself: a thumbnail, or the error that stopped it."""
        if self.settings.noop:
            return None
        try:
            data = download(claim.image_url, self.settings)
            return make_thumbnail(data, self.settings.max_pixels, self.settings.max_decoded_bytes)
        except JobError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - an unexpected error is worth a retry
            log.exception("Job %d hit an unexpected error", claim.job_id)
            return TransientJobError(f"unexpected error: {exc!r}")

    def _record(self, claim: jobs.Claim, outcome) -> None:
        """Commit the outcome of one attempt, fenced by its lease."""
        if isinstance(outcome, JobError):
            committed = self._commit_failure(claim, outcome)
        else:
            data = NOOP_RESULT if outcome is None else outcome.data
            sha = "" if outcome is None else outcome.sha256
            fenced = not self.settings.mutated("no-fencing")
            committed = self.db.retrying(
                lambda cur: jobs.complete(cur, claim, self.name, data, sha, fenced),
                stop=None,
                what=f"complete job {claim.job_id}",
            )
            if committed:
                self.tally.add("done")
        if not committed:
            self.tally.add("lease_lost")
            log.warning(
                "Lease lost for job %d attempt %d: result discarded", claim.job_id, claim.attempt
            )

    def _commit_failure(self, claim: jobs.Claim, error: JobError) -> bool:
        message = str(error)
        if error.permanent or claim.attempt >= self.settings.max_attempts:
            log.warning(
                "Job %d failed for good (attempt %d): %s", claim.job_id, claim.attempt, message
            )
            ok = self.db.retrying(
                lambda cur: jobs.fail(cur, claim, self.name, message),
                stop=None,
                what=f"fail job {claim.job_id}",
            )
            if ok:
                self.tally.add("failed")
            return ok
        delay = backoff_delay(
            claim.attempt, self.settings.backoff_base_seconds, self.settings.backoff_cap_seconds
        )
        log.info(
            "Job %d will retry in %.2f s (attempt %d): %s",
            claim.job_id,
            delay,
            claim.attempt,
            message,
        )
        ok = self.db.retrying(
            lambda cur: jobs.retry_later(cur, claim, self.name, message, delay),
            stop=None,
            what=f"retry job {claim.job_id}",
        )
        if ok:
            self.tally.add("retried")
        return ok

    def _ack(self, message: Message) -> None:
        while self.redis.call(self.queue.ack, [message]) is None and not self.halted.is_set():
            pass  # RedisLink has waited one backoff step; a restarted Redis forgets the message

    # --- leases --------------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        interval = self.settings.lease_seconds / 3
        while not self.halted.wait(interval):
            now = time.monotonic()
            with self.inflight_lock:
                leases = [
                    (c.job_id, c.attempt)
                    for c, started in self.inflight.values()
                    if now - started < self.settings.job_timeout_seconds
                ]
            if not leases:
                continue
            try:
                held = self.db.execute(
                    lambda cur, held=leases: jobs.heartbeat(
                        cur, held, self.name, self.settings.lease_seconds
                    )
                )
            except Exception as exc:  # noqa: BLE001 - next beat tries again
                log.warning("Heartbeat failed: %s", str(exc).strip()[:200])
                continue
            for job_id, attempt in leases:
                if job_id not in held:
                    log.warning(
                        "Job %d attempt %d: lease taken over by another worker", job_id, attempt
                    )


def main(settings: Settings) -> int:
    if settings.mode == "naive":
        from system import naive

        return naive.run_worker(settings)
    return Worker(settings).run()
