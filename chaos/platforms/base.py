"""The platform protocol: how the harness brings the system up and hurts it.

Scenarios never know which platform runs them. A platform knows its *services* by name:

    "redis", "postgres", "api", "fixtures", and one entry per worker: "worker-0", "worker-1", ...

and offers symmetric verbs on them. Every verb that changes a service returns only after the
change has taken effect (the process is gone, the port is dead, the container restarted), and
raises ``PlatformError`` when it could not make it happen. Faults (``chaos.faults``) call these
verbs and record timings; platforms do not record anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from chaos.errors import PlatformError

SERVICES = ("redis", "postgres", "api", "fixtures")
WORKER_PREFIX = "worker-"


@dataclass(frozen=True)
class Endpoints:
    """Where the harness reaches the system, and where the system reaches the image fixtures."""

    api_url: str  # e.g. http://127.0.0.1:8000
    database_url: str  # the harness reads the final state here (checker, status)
    redis_url: str  # queue depth for the timeline
    fixtures_url: str  # the fixture server, as the harness sees it
    fixtures_url_internal: str  # the fixture server, as workers see it (goes into submitted URLs)


@dataclass(frozen=True)
class SystemOptions:
    """How to configure the system under test: mode, mutations and extra settings."""

    mode: str = "robust"
    mutations: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # extra system settings, by env var name

    def environment(self) -> dict[str, str]:
        """Environment variables every system process gets (see system.settings)."""
        env = {"SYSTEM_MODE": self.mode, **self.env}
        if self.mutations:
            env["MUTATIONS"] = ",".join(self.mutations)
            env["ENABLE_TEST_MUTATIONS"] = "1"
        return env


@runtime_checkable
class Platform(Protocol):
    """A place the system runs: local processes, Docker containers, a Kubernetes cluster."""

    name: str

    def start(self, workers: int, options: SystemOptions) -> Endpoints:
        """Bring every service up and wait until the API is ready. Idempotent."""

    def stop(self) -> None:
        """Stop and remove everything started. Safe to call twice or after a failed start."""

    def discard_data(self) -> None:
        """After stop(): delete what the services stored that stop() keeps (local data folders).

        Called for passing runs only; the run folder keeps the final state (jobs.jsonl)."""

    def endpoints(self) -> Endpoints: ...

    def services(self) -> list[str]:
        """Names of the services that exist now, workers included."""

    def identity(self, service: str) -> str | None:
        """What changes when a service is replaced (pid, container id, pod UID); None if down."""

    def is_up(self, service: str) -> bool:
        """True when the service answers on its port (or, for workers, its process runs)."""

    def kill(self, service: str) -> None:
        """SIGKILL the service and leave it down."""

    def terminate(self, service: str) -> None:
        """SIGTERM the service, wait for it to exit, and leave it down."""

    def start_service(self, service: str) -> None:
        """Start a service that is down (fresh data for Redis, kept data for Postgres)."""

    def restart(self, service: str) -> None:
        """Kill the service and start it again; return once it answers."""

    def pause(self, service: str) -> None:
        """Freeze the service (SIGSTOP, docker pause)."""

    def resume(self, service: str) -> None:
        """Unfreeze a paused service."""

    def scale_workers(self, count: int) -> None:
        """Add or remove workers (removal is SIGTERM: a graceful scale-down)."""

    def collect_logs(self, dest: Path) -> list[Path]:
        """Copy every service's log into ``dest``; return the files written."""


def restart_verified(platform: Platform, service: str) -> None:
    """Kill ``service`` and start it again; PlatformError unless its identity changed."""
    before = platform.identity(service)
    platform.kill(service)
    platform.start_service(service)
    after = platform.identity(service)
    if after is None or after == before:
        raise PlatformError(f"{service} restart did not take effect (identity {after})")


def worker_name(index: int) -> str:
    return f"{WORKER_PREFIX}{index}"


def is_worker(service: str) -> bool:
    return service.startswith(WORKER_PREFIX)
