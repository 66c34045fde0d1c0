"""Recovery times for the benchmark: each fault repeated on one local stack under a trickle of
jobs, measured from the moment the fault healed (or the work was orphaned) to the moment the
system did the work again, using the database's own timestamps."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg2
import requests

from chaos.platforms.base import SystemOptions
from chaos.platforms.local import LocalPlatform
from chaos.probe import Probe


class Trickle:
    """Submits a job every ``interval`` seconds on a background thread."""

    def __init__(self, api_url: str, image_url: str, interval: float = 0.05) -> None:
        self.api_url, self.image_url, self.interval = api_url, image_url, interval
        self.stop_event = threading.Event()
        self.count = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Trickle:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop_event.set()
        self.thread.join(10)

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop_event.wait(self.interval):
            self.count += 1
            try:
                session.post(
                    f"{self.api_url}/submit",
                    timeout=2,
                    json={"image_url": f"{self.image_url}?sub=t{time.time()}"},
                )
            except requests.RequestException:
                pass


def _first_done_after(probe: Probe, moment: float, timeout: float = 30.0) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = probe.query(
            "SELECT extract(epoch FROM min(finished_at)) FROM jobs "
            "WHERE status = 'DONE' AND finished_at > to_timestamp(%s)",
            (moment,),
        )
        if rows and rows[0][0] is not None:
            return float(rows[0][0]) - moment
        time.sleep(0.02)
    return float("inf")


def _submit(api_url: str, url: str) -> int:
    response = requests.post(f"{api_url}/submit", json={"image_url": url}, timeout=10)
    response.raise_for_status()
    return response.json()["job_id"]


def _wait_status(probe: Probe, job_id: int, status: str, timeout: float = 30.0) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = probe.query(
            "SELECT status, extract(epoch FROM finished_at) FROM jobs WHERE id = %s", (job_id,)
        )
        if rows and rows[0][0] == status:
            return float(rows[0][1]) if rows[0][1] is not None else time.time()
        time.sleep(0.02)
    raise TimeoutError(f"job {job_id} not {status} within {timeout} s")


def measure_recoveries(run_dir: Path, repeat: int) -> dict[str, list[float]]:
    platform = LocalPlatform(run_dir)
    found: dict[str, list[float]] = {
        "Redis restart -> jobs flowing": [],
        "orphaned PENDING job -> requeued": [],
        "worker SIGKILLed mid-job -> its job DONE elsewhere": [],
        "Postgres restart -> jobs flowing": [],
    }
    try:
        end = platform.start(2, SystemOptions())
        probe = Probe(end.database_url, end.redis_url)
        image = f"{end.fixtures_url_internal}/images/small.jpg"
        for _ in range(repeat):
            with Trickle(end.api_url, image):
                time.sleep(1)
                platform.restart("redis")
                found["Redis restart -> jobs flowing"].append(_first_done_after(probe, time.time()))
                time.sleep(1)
                platform.restart("postgres")
                found["Postgres restart -> jobs flowing"].append(
                    _first_done_after(probe, time.time())
                )
            found["orphaned PENDING job -> requeued"].append(_orphan(probe))
            found["worker SIGKILLed mid-job -> its job DONE elsewhere"].append(
                _worker_kill(
                    platform, probe, end.api_url, f"{end.fixtures_url_internal}/slow/0.5/small.jpg"
                )
            )
    finally:
        platform.stop()
    return found


def _orphan(probe: Probe) -> float:
    """A committed PENDING job with no queue entry (as if Redis lost it): time to requeue."""
    conn = psycopg2.connect(probe.database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO jobs (image_url) VALUES ('http://127.0.0.1:1/orphan') "
            "RETURNING id, extract(epoch FROM created_at)"
        )
        job_id, created = cur.fetchone()
    conn.close()
    deadline = time.time() + 30
    while time.time() < deadline:
        rows = probe.query(
            "SELECT extract(epoch FROM min(at)) FROM job_events "
            "WHERE job_id = %s AND kind = 'requeued'",
            (job_id,),
        )
        if rows and rows[0][0] is not None:
            return float(rows[0][0]) - float(created)
        time.sleep(0.02)
    return float("inf")


def _worker_kill(platform: LocalPlatform, probe: Probe, api_url: str, url: str) -> float:
    job_id = _submit(api_url, url)
    _wait_status(probe, job_id, "PROCESSING")
    holder = next(iter(probe.busy_workers()), None) or platform.workers()[0]
    killed = time.time()
    platform.kill(holder)
    done = _wait_status(probe, job_id, "DONE")
    platform.start_service(holder)
    return done - killed
