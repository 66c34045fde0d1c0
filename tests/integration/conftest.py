"""A factory for the system as real processes (API and workers) against the test servers."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import fields

import psycopg2
import psycopg2.extras
import pytest
import requests

from chaos.platforms.processes import Process, free_port, wait_until
from system.settings import ENV_VARS, Settings


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "1" if value else "0"
        env[ENV_VARS[f.name]] = str(value)
    env.update(extra)
    return env


class Stack:
    """The API and any number of workers as child processes; stopped by the fixture."""

    def __init__(self, settings: Settings, folder, fixtures_url: str) -> None:
        self.settings = settings
        self.folder = folder
        self.fixtures = fixtures_url
        self.processes: list[Process] = []
        self.api_url: str | None = None

    def start_api(self, **env: str) -> str:
        port = free_port()
        process = self._spawn("api", ["-m", "system", "api", "--port", str(port)], env)
        self.api_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return requests.get(f"{self.api_url}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                assert process.alive(), process.log_path.read_text()[-2000:]
                return False

        wait_until(ready, 30, "the API")
        return self.api_url

    def start_worker(self, name: str = "worker-0", **env: str) -> Process:
        process = self._spawn(name, ["-m", "system", "worker"], {"WORKER_ID": name, **env})
        wait_until(lambda: "started" in process.log_path.read_text(), 30, f"{name} to start")
        return process

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        process = Process(
            name,
            [sys.executable, *args],
            self.folder / f"{name}.log",
            env=settings_env(self.settings, **env),
        )
        process.start()
        self.processes.append(process)
        return process

    def submit(self, image: str = "images/small.jpg", key: str | None = None, **kwargs):
        headers = {"Idempotency-Key": key} if key else {}
        url = image if "://" in image else f"{self.fixtures}/{image}"
        return requests.post(
            f"{self.api_url}/submit", json={"image_url": url}, headers=headers, timeout=10, **kwargs
        )

    def job(self, job_id: int) -> dict:
        conn = psycopg2.connect(self.settings.database_url)
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute("SELECT * FROM jobs WHERE id = %s", (job_id,))
                return dict(cur.fetchone())
        finally:
            conn.close()

    def events(self, job_id: int) -> list[str]:
        conn = psycopg2.connect(self.settings.database_url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT kind FROM job_events WHERE job_id = %s ORDER BY id", (job_id,))
                return [row[0] for row in cur.fetchall()]
        finally:
            conn.close()

    def wait_for(self, job_ids, states=("DONE", "FAILED"), timeout: float = 30.0) -> list[dict]:
        job_ids = list(job_ids)
        deadline = time.monotonic() + timeout
        while True:
            jobs = [self.job(j) for j in job_ids]
            if all(j["status"] in states for j in jobs):
                return jobs
            if time.monotonic() > deadline:
                waiting = {j["id"]: j["status"] for j in jobs if j["status"] not in states}
                pytest.fail(f"jobs not in {states} after {timeout} s: {waiting}\n" + self.logs())
            time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.log_path.read_text()[-3000:]}"
            for p in self.processes
            if p.log_path.exists()
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.alive():
                process.kill()


@pytest.fixture
def stack(settings, tmp_path, fixture_server):
    system = Stack(settings, tmp_path, fixture_server)
    yield system
    system.stop()
