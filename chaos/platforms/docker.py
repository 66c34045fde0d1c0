"""The docker platform: every service is a container on a private network of its own run.

    network  chaos-<run>                 services reach each other by name (redis, postgres, ...)
    volume   chaos-<run>-pgdata          Postgres data: a kill or restart keeps it
    ports    127.0.0.1:<random>          the harness reaches api, postgres, redis and fixtures

Redis has no persistence and no volume: starting it again *recreates* its container, so it
always comes back empty (as a pod without a volume would). Other services start their stopped
container again. Everything is labelled with the run id; ``stop()`` removes the run's
containers, network and volume, and ``cleanup_leftovers()`` removes those of any earlier run.
Images come from ``python -m chaos.images.build``; nothing is pulled at run time.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from chaos.errors import PlatformError
from chaos.platforms import readiness
from chaos.platforms.base import (
    SERVICES,
    Endpoints,
    SystemOptions,
    is_worker,
    restart_verified,
    worker_name,
)
from chaos.platforms.docker_cli import (
    LABEL,
    ContainerSpec,
    ContainerState,
    DockerCLI,
    RunNames,
    connect_args,
    disconnect_args,
    network_create_args,
    new_run_id,
    remove_labelled,
    run_args,
    volume_create_args,
)
from chaos.platforms.docker_config import DockerImages, stop_timeout
from chaos.platforms.images import API_PORT, FIXTURES_PORT, POSTGRES_PORT, REDIS_PORT
from chaos.platforms.processes import free_port
from system.settings import ENV_VARS

PG_PASSWORD = "chaos"  # a throwaway cluster on 127.0.0.1 only
PG_DATA = "/var/lib/postgresql/data"
DATABASE = "job_db"
# No persistence at all: a new container is an empty Redis (the official image's /data is a volume).
REDIS_COMMAND = ("redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no")
PORTS = {"redis": REDIS_PORT, "postgres": POSTGRES_PORT, "api": API_PORT, "fixtures": FIXTURES_PORT}


class DockerPlatform:
    name = "docker"

    def __init__(
        self,
        run_dir: Path,
        images: DockerImages | None = None,
        worker_env: dict[str, str] | None = None,
        run_id: str | None = None,
        start_timeout: float = 120.0,
        cli: DockerCLI | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.cli = cli or DockerCLI()
        self._images = images  # resolved at preflight: official images if present, else offline
        self.names = RunNames(run_id or new_run_id())
        self.extra_worker_env = worker_env or {}
        self.start_timeout = start_timeout
        self.options = SystemOptions()
        self.host_ports: dict[str, int] = {}
        self.next_worker = 0
        self.started = False
        self._created = False  # something may exist on the engine: stop() must look
        self._specs: dict[str, ContainerSpec] = {}
        self._log_archive = self.run_dir / "docker-logs"  # logs of containers already removed

    def __repr__(self) -> str:
        return f"DockerPlatform(run={self.names.run_id}, started={self.started})"

    # --- lifecycle -----------------------------------------------------------------------

    def preflight(self) -> None:
        """Fail fast, with the fix in the message, when no engine answers or an image is missing."""
        preflight(self.cli, self.images)

    @property
    def images(self) -> DockerImages:
        if self._images is None:
            self._images = DockerImages.resolve(self.cli)
        return self._images

    def start(self, workers: int, options: SystemOptions) -> Endpoints:
        if self.started:
            return self.endpoints()
        self.preflight()
        self.options = options
        self.host_ports = {service: free_port() for service in PORTS}
        self._created = True
        self.cli(*network_create_args(self.names))
        self.cli(*volume_create_args(self.names))
        for service in ("redis", "postgres", "fixtures"):
            self._run(self._spec(service))
        self._wait_up("redis")
        self._wait_up("postgres")
        self._run(self._spec("api"))
        ready = f"{self.endpoints().api_url}/readyz"
        self._wait_for(lambda: readiness.http_ok(ready), "api /readyz")
        self._wait_up("fixtures")
        self.started = True
        self.scale_workers(workers)
        return self.endpoints()

    def stop(self) -> None:
        """Remove the run's containers, network and volume; safe to call at any time, twice."""
        self.started = False
        if self._created:  # never started (say, no engine): nothing to remove, nothing to ask
            remove_labelled(self.cli, self.names.run_filter())

    def discard_data(self) -> None:
        """Nothing to do: stop() removed the run's volume."""

    @classmethod
    def cleanup_leftovers(cls, cli: DockerCLI | None = None) -> dict[str, int]:
        """Remove everything any run of this harness left behind (crashed or interrupted runs)."""
        return remove_labelled(cli or DockerCLI(), f"label={LABEL}")

    def endpoints(self) -> Endpoints:
        if not self.host_ports:
            raise PlatformError("the docker platform is not started")
        port = self.host_ports
        return Endpoints(
            api_url=f"http://127.0.0.1:{port['api']}",
            database_url=self._database_url("127.0.0.1", port["postgres"]),
            redis_url=f"redis://127.0.0.1:{port['redis']}/0",
            fixtures_url=f"http://127.0.0.1:{port['fixtures']}",
            fixtures_url_internal=f"http://fixtures:{FIXTURES_PORT}",
        )

    def services(self) -> list[str]:
        """Services that have a container (running or not): SERVICES order, then workers."""
        return sort_services(state.service for state in self._containers())

    def workers(self) -> list[str]:
        return [s for s in self.services() if is_worker(s)]

    def identity(self, service: str) -> str | None:
        state = self._state(service)
        return state.identity if state and state.running else None

    def is_up(self, service: str) -> bool:
        state = self._state(service)
        if state is None or not state.running or state.paused:
            return False
        if is_worker(service):
            return True
        port = self.host_ports[service]
        if service == "redis":
            return readiness.redis_ping(port)
        if service == "postgres":
            return readiness.postgres_ready(self._database_url("127.0.0.1", port))
        return readiness.http_ok(f"http://127.0.0.1:{port}/healthz")

    # --- faults --------------------------------------------------------------------------

    def kill(self, service: str) -> None:
        self._require(service)
        self.cli("kill", self.names.container(service), check=False)  # already dead is fine
        self._wait_for(lambda: not self._running(service), f"{service} to die")

    def terminate(self, service: str) -> None:
        self._require(service)
        timeout = stop_timeout(self._spec_of(service))
        self.cli(
            "stop", "--time", str(timeout), self.names.container(service), timeout=timeout + 30
        )
        self._wait_for(lambda: not self._running(service), f"{service} to stop")

    def start_service(self, service: str) -> None:
        state = self._require(service)
        if state.running:
            raise PlatformError(f"{service} is already running ({state.identity})")
        if service == "redis":  # a new container: no data survives (no volume, no RDB file)
            self._remove(service)
            self._run(self._spec("redis"))
        else:
            self.cli("start", self.names.container(service))
        self._wait_up(service)

    def restart(self, service: str) -> None:
        restart_verified(self, service)

    def pause(self, service: str) -> None:
        self._require(service)
        self.cli("pause", self.names.container(service))

    def resume(self, service: str) -> None:
        self._require(service)
        self.cli("unpause", self.names.container(service))

    def disconnect(self, service: str) -> None:
        """Partition: cut the service off the run's network (and from the harness's port)."""
        self._require(service)
        self.cli(*disconnect_args(self.names, service))

    def reconnect(self, service: str) -> None:
        self._require(service)
        self.cli(*connect_args(self.names, service))
        if not is_worker(service):
            self._wait_up(service)

    def scale_workers(self, count: int) -> None:
        if count < 0:
            raise PlatformError(f"cannot scale to {count} workers")
        running = [w for w in self.workers() if self._running(w)]
        for _ in range(count - len(running)):
            name = worker_name(self.next_worker)
            self.next_worker += 1
            self._run(self._spec(name))
        removed = running[count:][::-1]
        if removed:  # SIGTERM all at once: each drains, none waits for another
            timeout = stop_timeout(self._spec_of(removed[0]))
            containers = [self.names.container(w) for w in removed]
            self.cli("stop", "--time", str(timeout), *containers, timeout=timeout + 30)
            for worker in removed:
                self._remove(worker)

    def collect_logs(self, dest: Path) -> list[Path]:
        """One file per service: the logs of its removed containers (Redis restarts, scaled-down
        workers), then `docker logs` of its current one. Rewritten on every call."""
        dest.mkdir(parents=True, exist_ok=True)
        archived = {p.stem: p for p in self._log_archive.glob("*.log")}
        current = [state.service for state in self._containers()]
        written = []
        for service in sort_services(set(archived) | set(current)):
            target = dest / f"{service}.log"
            target.write_bytes(archived[service].read_bytes() if service in archived else b"")
            if service in current:
                with target.open("ab") as out:
                    self._logs_into(service, out)
            written.append(target)
        return written

    # --- helpers -------------------------------------------------------------------------

    def _spec(self, service: str) -> ContainerSpec:
        internal_db = self._database_url("postgres", POSTGRES_PORT)
        system_env = {
            ENV_VARS["database_url"]: internal_db,
            ENV_VARS["redis_url"]: f"redis://redis:{REDIS_PORT}/0",
            ENV_VARS["allowed_hosts"]: "fixtures",
            **self.options.environment(),
        }
        ports = ((self.host_ports[service], PORTS[service]),) if service in PORTS else ()
        if service == "redis":
            spec = ContainerSpec(service, self.images.redis, REDIS_COMMAND, ports=ports)
        elif service == "postgres":
            env = {"POSTGRES_PASSWORD": PG_PASSWORD, "POSTGRES_DB": DATABASE}
            spec = ContainerSpec(
                service,
                self.images.postgres,
                env=env,
                ports=ports,
                volumes=((self.names.pg_volume, PG_DATA),),
            )
        elif service == "fixtures":
            spec = ContainerSpec(service, self.images.fixtures, ports=ports)
        elif service == "api":
            spec = ContainerSpec(service, self.images.system, env=system_env, ports=ports)
        elif is_worker(service):
            env = {**system_env, ENV_VARS["worker_id"]: service, **self.extra_worker_env}
            command = ("python", "-m", "system", "worker")
            spec = ContainerSpec(service, self.images.system, command, env=env, healthcheck=False)
            spec = replace(spec, stop_timeout=stop_timeout(spec))
        else:
            raise PlatformError(f"no service {service!r} on the docker platform")
        self._specs[service] = spec
        return spec

    def _spec_of(self, service: str) -> ContainerSpec:
        return self._specs.get(service) or self._spec(service)

    def _database_url(self, host: str, port: int) -> str:
        return f"postgresql://postgres:{PG_PASSWORD}@{host}:{port}/{DATABASE}"

    def _run(self, spec: ContainerSpec) -> None:
        self.cli(*run_args(self.names, spec))

    def _remove(self, service: str) -> None:
        """Remove a stopped service's container, keeping its log for ``collect_logs``."""
        self._log_archive.mkdir(parents=True, exist_ok=True)
        with (self._log_archive / f"{service}.log").open("ab") as out:
            self._logs_into(service, out)
        self.cli("rm", "--force", "--volumes", self.names.container(service))

    def _logs_into(self, service: str, out: BinaryIO) -> None:
        subprocess.run(
            [self.cli.binary, "logs", self.names.container(service)],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
        )

    def _containers(self) -> list[ContainerState]:
        return self.cli.labelled_containers(self.names.run_filter())

    def _state(self, service: str) -> ContainerState | None:
        return self.cli.inspect(self.names.container(service))

    def _require(self, service: str) -> ContainerState:
        state = self._state(service)
        if state is None:
            raise PlatformError(
                f"no service {service!r} in run {self.names.run_id}; have {self.services()}"
            )
        return state

    def _running(self, service: str) -> bool:
        state = self._state(service)
        return bool(state and state.running)

    def _wait_up(self, service: str) -> None:
        self._wait_for(lambda: self.is_up(service), f"{service} to answer")

    def _wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise PlatformError(
            f"timed out after {self.start_timeout:g} s waiting for {what} "
            f"(run {self.names.run_id}; see `docker logs`)"
        )


def preflight(cli: DockerCLI, images: DockerImages) -> None:
    cli.server_version()
    missing = [image for image in images.all() if not cli.image_exists(image)]
    if missing:
        raise PlatformError(
            f"docker images not found: {', '.join(missing)}; build them with "
            "`python -m chaos.images.build`"
        )


def unavailable_reason(cli: DockerCLI | None = None) -> str | None:
    """Why the docker platform cannot run here (no engine, images not built), or None."""
    cli = cli or DockerCLI()
    try:
        preflight(cli, DockerImages.resolve(cli))
    except PlatformError as exc:
        return str(exc)
    return None


def sort_services(services: Iterable[str]) -> list[str]:
    """redis, postgres, api, fixtures, then worker-0, worker-1, ... (by number, not text)."""

    def key(service: str) -> tuple[int, int, str]:
        if is_worker(service):
            suffix = service.rsplit("-", 1)[1]
            return (len(SERVICES), int(suffix) if suffix.isdigit() else 0, service)
        rank = SERVICES.index(service) if service in SERVICES else len(SERVICES)
        return (rank, 0, service)

    return sorted(services, key=key)
