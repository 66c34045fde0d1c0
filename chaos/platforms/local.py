"""The local platform: every service is a child process on 127.0.0.1, data under the run folder.

Redis keeps nothing across a restart (no persistence, like a pod without a volume); Postgres
keeps its data directory (like a pod with a persistent volume).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import requests

from chaos.errors import PlatformError
from chaos.platforms.base import Endpoints, SystemOptions, is_worker, restart_verified, worker_name
from chaos.platforms.processes import Process, free_port, port_open, wait_until
from chaos.platforms.servers import PostgresServer, RedisServer


class LocalPlatform:
    name = "local"

    def __init__(self, run_dir: Path, worker_env: dict[str, str] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.logs = self.run_dir / "logs"
        self.redis = RedisServer(self.run_dir / "redis")
        self.postgres = PostgresServer(self.run_dir / "postgres")
        self.api_port = free_port()
        self.fixtures_port = free_port()
        self.options = SystemOptions()
        self.extra_worker_env = worker_env or {}
        self.procs: dict[str, Process] = {}
        self.next_worker = 0
        self.started = False

    def __repr__(self) -> str:
        return f"<LocalPlatform {self.run_dir} services={self.services()}>"

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, workers: int, options: SystemOptions) -> Endpoints:
        if self.started:
            return self.endpoints()
        self.options = options
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis.start()
        self.postgres.start()
        self.procs["redis"] = self.redis.process
        self.procs["postgres"] = self.postgres.process
        self.procs["fixtures"] = self._python(
            "fixtures", ["-m", "chaos.fixtures.server", "--port", str(self.fixtures_port)]
        )
        self.procs["api"] = self._python(
            "api", ["-m", "system", "api", "--port", str(self.api_port)]
        )
        for name in ("fixtures", "api"):
            self.procs[name].start()
        self._wait_http(f"{self.endpoints().fixtures_url}/healthz", "fixtures")
        self._wait_http(f"{self.endpoints().api_url}/readyz", "api")
        self.started = True
        self.scale_workers(workers)
        return self.endpoints()

    def stop(self) -> None:
        for name in sorted(self.procs, key=lambda n: (not is_worker(n), n)):
            process = self.procs[name]
            if process.alive():
                if process.paused:
                    process.resume()
                process.kill()
        self.started = False

    def discard_data(self) -> None:
        """Postgres's data folder is 40-110 MB per run, Redis's a few: gone once a run passed."""
        for folder in (self.postgres.data, self.redis.root):
            shutil.rmtree(folder, ignore_errors=True)

    def endpoints(self) -> Endpoints:
        fixtures = f"http://127.0.0.1:{self.fixtures_port}"
        return Endpoints(
            api_url=f"http://127.0.0.1:{self.api_port}",
            database_url=self.postgres.url,
            redis_url=self.redis.url,
            fixtures_url=fixtures,
            fixtures_url_internal=fixtures,
        )

    def services(self) -> list[str]:
        return sorted(self.procs)

    def identity(self, service: str) -> str | None:
        process = self._get(service)
        return str(process.pid) if process.alive() else None

    def is_up(self, service: str) -> bool:
        process = self._get(service)
        if not process.alive() or process.paused:
            return False
        port = self._port(service)
        return port_open(port) if port else True

    # --- faults --------------------------------------------------------------------------

    def kill(self, service: str) -> None:
        self._get(service).kill()

    def terminate(self, service: str) -> None:
        self._get(service).terminate(timeout=60)

    def start_service(self, service: str) -> None:
        process = self._get(service)
        if process.alive():
            raise PlatformError(f"{service} is already running (pid {process.pid})")
        if service == "redis":
            self.redis.start()
        elif service == "postgres":
            self.postgres.start()
        else:
            process.start()
            if service == "api":
                self._wait_http(f"{self.endpoints().api_url}/healthz", "api")
            elif service == "fixtures":
                self._wait_http(f"{self.endpoints().fixtures_url}/healthz", "fixtures")

    def restart(self, service: str) -> None:
        restart_verified(self, service)

    def pause(self, service: str) -> None:
        self._get(service).pause()

    def resume(self, service: str) -> None:
        self._get(service).resume()

    def scale_workers(self, count: int) -> None:
        if count < 0:
            raise PlatformError(f"cannot scale to {count} workers")
        current = sorted(
            (n for n in self.procs if is_worker(n) and self.procs[n].alive()),
            key=lambda n: int(n.split("-")[1]),
        )
        for _ in range(count - len(current)):
            name = worker_name(self.next_worker)
            self.next_worker += 1
            self.procs[name] = self._python(name, ["-m", "system", "worker"], worker=name)
            self.procs[name].start()
        for name in current[count:][::-1]:
            self.procs[name].terminate(timeout=60)
            del self.procs[name]

    def workers(self) -> list[str]:
        return sorted((n for n in self.procs if is_worker(n)), key=lambda n: int(n.split("-")[1]))

    def collect_logs(self, dest: Path) -> list[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for process in self.procs.values():
            if process.log_path.exists():
                target = dest / process.log_path.name
                if process.log_path.resolve() != target.resolve():
                    shutil.copyfile(process.log_path, target)
                written.append(target)
        return written

    # --- helpers -------------------------------------------------------------------------

    def _get(self, service: str) -> Process:
        try:
            return self.procs[service]
        except KeyError:
            raise PlatformError(
                f"no service {service!r} on the local platform; have {self.services()}"
            ) from None

    def _port(self, service: str) -> int | None:
        return {
            "redis": self.redis.port,
            "postgres": self.postgres.port,
            "api": self.api_port,
            "fixtures": self.fixtures_port,
        }.get(service)

    def _python(self, name: str, args: list[str], worker: str | None = None) -> Process:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.postgres.url,
                "REDIS_URL": self.redis.url,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.options.environment())
        if worker:
            env["WORKER_ID"] = worker
            env.update(self.extra_worker_env)
        return Process(name, [sys.executable, *args], self.logs / f"{name}.log", env=env)

    def _wait_http(self, url: str, service: str, timeout: float = 30.0) -> None:
        process = self._get(service)

        def answers() -> bool:
            if not process.alive():
                raise PlatformError(f"{service} exited at start-up; see {process.log_path}")
            try:
                return requests.get(url, timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answers, timeout, f"{service} at {url}")
