"""Locust users that submit image jobs and record every operation in the run's history.

Runs inside Locust's own process (gevent); the harness never imports it. Configuration comes
from environment variables set by ``chaos.load.runner``:

    CHAOS_HISTORY   file to append JSON lines to          CHAOS_RUN_ID   prefix of every key
    CHAOS_FIXTURES  fixture server URL, as workers see it  CHAOS_IMAGES   comma-separated paths
    CHAOS_MAX_JOBS  submissions in all (0: no limit)       CHAOS_RATE     submissions/s, all users
    CHAOS_TIMEOUT   client timeout, seconds                CHAOS_RETRIES  retries of an unknown
    CHAOS_SEED      seed for the image choice

A submission is one idempotency key. An answer of 202 is ``ok``; 4xx is ``fail`` (the job was
refused, nothing to retry); a timeout, reset or 5xx is ``unknown``, retried with the same key.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import gevent
from gevent import GreenletExit
from locust import HttpUser, constant, constant_throughput, events, task
from locust.exception import StopUser

HISTORY = os.environ.get("CHAOS_HISTORY", "history.jsonl")
RUN_ID = os.environ.get("CHAOS_RUN_ID", "run")
FIXTURES = os.environ.get("CHAOS_FIXTURES", "http://127.0.0.1:8080").rstrip("/")
IMAGES = [i for i in os.environ.get("CHAOS_IMAGES", "images/photo.jpg").split(",") if i]
MAX_JOBS = int(os.environ.get("CHAOS_MAX_JOBS", "0"))
RATE = float(os.environ.get("CHAOS_RATE", "0"))
TIMEOUT = float(os.environ.get("CHAOS_TIMEOUT", "3"))
RETRIES = int(os.environ.get("CHAOS_RETRIES", "5"))
SEED = int(os.environ.get("CHAOS_SEED", "0"))

_history = open(HISTORY, "a", buffering=1)  # noqa: SIM115 - line-buffered for the whole run
_submissions = itertools.count()
_users = itertools.count()
_stopped = 0


def record(**fields) -> None:
    _history.write(json.dumps(fields) + "\n")


@events.quitting.add_listener
def _close_history(**_kwargs) -> None:
    _history.flush()


class Submitter(HttpUser):
    """Submits jobs; retries an unknown outcome with the same Idempotency-Key."""

    def wait_time(self):  # noqa: D102 - Locust's hook
        if RATE > 0:
            users = max(1, self.environment.runner.user_count)
            return constant_throughput(RATE / users)(self)
        return constant(0)(self)

    def on_start(self) -> None:
        self.index = next(_users)
        self.rng = random.Random(SEED * 1000 + self.index)

    @task
    def submit(self) -> None:
        n = next(_submissions)
        if MAX_JOBS and n >= MAX_JOBS:
            self._finish()
        key = f"{RUN_ID}-u{self.index}-{n}"
        image = self.rng.choice(IMAGES)
        url = f"{FIXTURES}/{image}?sub={key}"
        for attempt in range(1, RETRIES + 2):
            if self._attempt(key, image, url, attempt) != "unknown":
                return
            time.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))

    def _attempt(self, key: str, image: str, url: str, attempt: int) -> str:
        op = f"{key}#{attempt}"
        started = time.time()
        record(type="invoke", op=op, key=key, image=image, t=started)
        outcome, status, job_id, error = "unknown", None, None, None
        try:
            outcome, status, job_id, error = self._post(key, url)
        except GreenletExit:
            # The load stopped mid-request: the request may or may not have reached the API.
            record(
                type="complete",
                op=op,
                key=key,
                t=time.time(),
                outcome="unknown",
                status=None,
                job_id=None,
                error="interrupted: the load generator stopped",
                latency=time.time() - started,
            )
            raise
        record(
            type="complete",
            op=op,
            key=key,
            t=time.time(),
            outcome=outcome,
            status=status,
            job_id=job_id,
            error=error,
            latency=time.time() - started,
        )
        return outcome

    def _post(self, key: str, url: str) -> tuple[str, int | None, int | None, str | None]:
        """One POST /submit: (outcome, status, job id, error)."""
        outcome, status, job_id, error = "unknown", None, None, None
        with self.client.post(
            "/submit",
            json={"image_url": url},
            headers={"Idempotency-Key": key},
            timeout=TIMEOUT,
            catch_response=True,
            name="/submit",
        ) as response:
            status = response.status_code or None
            if status == 202:
                try:
                    job_id = int(response.json()["job_id"])
                    outcome = "ok"
                    response.success()
                except (ValueError, KeyError, TypeError):
                    error = f"202 without a job id: {response.text[:200]!r}"
                    response.failure(error)
            elif status and 400 <= status < 500:
                outcome, error = "fail", response.text[:200]
                response.failure(f"{status}: {error}")
            else:
                error = str(response.error or response.text[:200] or "no answer")[:300]
                response.failure(f"unknown outcome: {error}")
        return outcome, status, job_id, error

    def _finish(self) -> None:
        """Stop this user; the last one to stop ends the run (after its peers' requests)."""
        global _stopped
        _stopped += 1
        runner = self.environment.runner
        if runner is not None and _stopped >= runner.target_user_count:
            gevent.spawn_later(0.1, runner.quit)
        raise StopUser()
