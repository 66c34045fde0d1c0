"""The docker CLI for the docker platform and the image build: names, labels, commands, one runner.

Everything here but ``DockerCLI`` is pure (it builds argument lists), so it is unit-tested without
an engine. Every object the harness creates carries ``LABEL`` and its run's ``RUN_LABEL``, so a
crashed or interrupted run can always be found and removed (``remove_labelled``).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos.errors import PlatformError

LABEL = "io.image-jobs.chaos"  # on every container, network and volume the harness creates
RUN_LABEL = "io.image-jobs.chaos.run"  # the run id
SERVICE_LABEL = "io.image-jobs.chaos.service"  # "redis", "worker-3", ...
PREFIX = "chaos"  # names: chaos-<run id>, chaos-<run id>-<service>, chaos-<run id>-pgdata

COMMAND_TIMEOUT = 120.0  # seconds for one docker command (builds pass their own)


def new_run_id() -> str:
    """A short random id: unique enough for concurrent runs on one engine, short in `docker ps`."""
    return secrets.token_hex(4)


@dataclass(frozen=True)
class RunNames:
    """The names and labels of one run's objects."""

    run_id: str

    @property
    def network(self) -> str:
        return f"{PREFIX}-{self.run_id}"

    @property
    def pg_volume(self) -> str:
        return f"{PREFIX}-{self.run_id}-pgdata"

    def container(self, service: str) -> str:
        return f"{PREFIX}-{self.run_id}-{service}"

    def labels(self, service: str | None = None) -> dict[str, str]:
        labels = {LABEL: "1", RUN_LABEL: self.run_id}
        if service is not None:
            labels[SERVICE_LABEL] = service
        return labels

    def run_filter(self) -> str:
        return f"label={RUN_LABEL}={self.run_id}"


@dataclass(frozen=True)
class ContainerSpec:
    """One service's container: what `docker run` gets."""

    service: str
    image: str
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[tuple[int, int], ...] = ()  # (host port on 127.0.0.1, container port)
    volumes: tuple[tuple[str, str], ...] = ()  # (named volume, mount point)
    healthcheck: bool = True  # False: --no-healthcheck (workers share the API's image)
    stop_timeout: int | None = None  # seconds `docker stop` waits before SIGKILL


def label_args(labels: Mapping[str, str]) -> list[str]:
    return [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]


def run_args(names: RunNames, spec: ContainerSpec) -> list[str]:
    """`docker run` arguments (without the leading "docker") that start ``spec`` detached."""
    args = [
        "run",
        "--detach",
        "--name",
        names.container(spec.service),
        "--hostname",
        spec.service,
        "--network",
        names.network,
        "--network-alias",
        spec.service,
        *label_args(names.labels(spec.service)),
    ]
    for key, value in sorted(spec.env.items()):
        args += ["--env", f"{key}={value}"]
    for host_port, container_port in spec.ports:
        args += ["--publish", f"127.0.0.1:{host_port}:{container_port}"]
    for volume, target in spec.volumes:
        args += ["--volume", f"{volume}:{target}"]
    if not spec.healthcheck:
        args.append("--no-healthcheck")
    if spec.stop_timeout is not None:
        args += ["--stop-timeout", str(spec.stop_timeout)]
    return [*args, spec.image, *spec.command]


def network_create_args(names: RunNames) -> list[str]:
    return ["network", "create", *label_args(names.labels()), names.network]


def volume_create_args(names: RunNames) -> list[str]:
    return ["volume", "create", *label_args(names.labels()), names.pg_volume]


def connect_args(names: RunNames, service: str) -> list[str]:
    """Reattach a partitioned container under its service name (the alias others resolve)."""
    return ["network", "connect", "--alias", service, names.network, names.container(service)]


def disconnect_args(names: RunNames, service: str) -> list[str]:
    return ["network", "disconnect", "--force", names.network, names.container(service)]


@dataclass(frozen=True)
class ContainerState:
    """The part of `docker inspect` the platform needs."""

    id: str
    started_at: str
    running: bool
    paused: bool
    service: str

    @property
    def identity(self) -> str:
        return f"{self.id[:12]}@{self.started_at}"

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> ContainerState:
        state = data.get("State", {})
        labels = (data.get("Config") or {}).get("Labels") or {}
        return cls(
            id=data["Id"],
            started_at=state.get("StartedAt", ""),
            running=bool(state.get("Running")),
            paused=bool(state.get("Paused")),
            service=labels.get(SERVICE_LABEL, ""),
        )


class DockerCLI:
    """Runs docker commands; raises ``PlatformError`` with docker's own message on failure."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("docker") or "docker"

    def __call__(self, *args: str, timeout: float = COMMAND_TIMEOUT, check: bool = True) -> str:
        return self.run(list(args), timeout=timeout, check=check).stdout

    def run(
        self, args: Sequence[str], *, timeout: float = COMMAND_TIMEOUT, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [self.binary, *args]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except FileNotFoundError:
            raise PlatformError(
                f"the docker CLI was not found ({self.binary!r}); install docker.io"
            ) from None
        except subprocess.TimeoutExpired:
            raise PlatformError(
                f"`docker {' '.join(args)}` did not finish in {timeout:.0f} s"
            ) from None
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip()
            raise PlatformError(f"`docker {' '.join(args[:3])} ...` failed: {message}")
        return result

    def server_version(self, timeout: float = 10.0) -> str:
        """The engine's version; ``PlatformError`` when no engine answers."""
        try:
            result = self.run(
                ["version", "--format", "{{.Server.Version}}"], timeout=timeout, check=False
            )
        except PlatformError as exc:
            raise PlatformError(f"no Docker engine reachable: {exc}") from None
        if result.returncode != 0 or not result.stdout.strip():
            detail = result.stderr.strip().splitlines()[-1:] or ["no answer"]
            raise PlatformError(
                f"no Docker engine reachable ({detail[0]}); start dockerd (or Docker Desktop) "
                "or point DOCKER_HOST at one"
            )
        return result.stdout.strip()

    def image_exists(self, image: str) -> bool:
        return self.run(["image", "inspect", image], check=False).returncode == 0

    def image_size(self, image: str) -> int:
        return int(self("image", "inspect", "--format", "{{.Size}}", image).strip())

    def inspect(self, container: str) -> ContainerState | None:
        result = self.run(["container", "inspect", container], check=False)
        if result.returncode != 0:
            return None
        return ContainerState.from_inspect(json.loads(result.stdout)[0])

    def labelled_containers(self, label_filter: str) -> list[ContainerState]:
        ids = self("ps", "--all", "--quiet", "--no-trunc", "--filter", label_filter).split()
        if not ids:
            return []
        result = self.run(["container", "inspect", *ids], check=False)
        data = json.loads(result.stdout or "[]")  # a container removed meanwhile is left out
        return [ContainerState.from_inspect(item) for item in data]


def remove_labelled(cli: DockerCLI, label_filter: str) -> dict[str, int]:
    """Remove every container, network and volume matching ``label_filter``; return counts."""
    removed = {"containers": 0, "networks": 0, "volumes": 0}
    ids = cli("ps", "--all", "--quiet", "--filter", label_filter).split()
    if ids:
        cli("rm", "--force", "--volumes", *ids)
        removed["containers"] = len(ids)
    networks = cli("network", "ls", "--quiet", "--filter", label_filter).split()
    if networks:
        cli("network", "rm", *networks)
        removed["networks"] = len(networks)
    volumes = cli("volume", "ls", "--quiet", "--filter", label_filter).split()
    if volumes:
        cli("volume", "rm", "--force", *volumes)
        removed["volumes"] = len(volumes)
    return removed
