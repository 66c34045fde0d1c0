"""Pure logic of the docker platform: names, labels, docker command lines, state parsing."""

from __future__ import annotations

import pytest

from chaos.errors import PlatformError
from chaos.platforms.docker import sort_services
from chaos.platforms.docker_cli import (
    LABEL,
    RUN_LABEL,
    SERVICE_LABEL,
    ContainerSpec,
    ContainerState,
    DockerCLI,
    RunNames,
    connect_args,
    disconnect_args,
    network_create_args,
    new_run_id,
    run_args,
    volume_create_args,
)
from chaos.platforms.docker_config import DockerImages, stop_timeout

NAMES = RunNames("ab12cd34")


def pairs(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_every_object_of_a_run_is_named_after_the_run_id():
    assert NAMES.network == "chaos-ab12cd34"
    assert NAMES.pg_volume == "chaos-ab12cd34-pgdata"
    assert NAMES.container("worker-3") == "chaos-ab12cd34-worker-3"
    assert NAMES.run_filter() == f"label={RUN_LABEL}=ab12cd34"


def test_run_ids_are_short_and_differ():
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 8 for i in ids)


def test_a_container_is_labelled_named_and_aliased_after_its_service():
    args = run_args(NAMES, ContainerSpec("redis", "redis:7-alpine", ("redis-server", "--save", "")))
    assert args[:2] == ["run", "--detach"]
    assert pairs(args, "--name") == ["chaos-ab12cd34-redis"]
    assert pairs(args, "--network") == ["chaos-ab12cd34"]
    assert pairs(args, "--network-alias") == ["redis"]
    assert pairs(args, "--hostname") == ["redis"]
    assert set(pairs(args, "--label")) == {
        f"{LABEL}=1",
        f"{RUN_LABEL}=ab12cd34",
        f"{SERVICE_LABEL}=redis",
    }
    assert args[-4:] == ["redis:7-alpine", "redis-server", "--save", ""]


def test_ports_are_published_on_loopback_only_and_volumes_are_mounted():
    spec = ContainerSpec(
        "postgres",
        "postgres:16-alpine",
        env={"POSTGRES_DB": "job_db", "A": "1"},
        ports=((54321, 5432),),
        volumes=((NAMES.pg_volume, "/var/lib/postgresql/data"),),
    )
    args = run_args(NAMES, spec)
    assert pairs(args, "--publish") == ["127.0.0.1:54321:5432"]
    assert pairs(args, "--volume") == ["chaos-ab12cd34-pgdata:/var/lib/postgresql/data"]
    assert pairs(args, "--env") == ["A=1", "POSTGRES_DB=job_db"]
    assert "--no-healthcheck" not in args


def test_a_worker_runs_without_the_api_healthcheck_and_with_its_drain_as_stop_timeout():
    spec = ContainerSpec(
        "worker-0",
        "image-jobs/system:dev",
        ("python", "-m", "system", "worker"),
        env={"WORKER_ID": "worker-0", "DRAIN_SECONDS": "2.5"},
        healthcheck=False,
    )
    assert stop_timeout(spec) == 13
    args = run_args(NAMES, spec)
    assert "--no-healthcheck" in args
    assert args[-4:] == ["python", "-m", "system", "worker"]


def test_stop_timeouts_default_to_dockers_own_and_a_workers_default_drain():
    assert stop_timeout(ContainerSpec("api", "x")) == 10
    assert stop_timeout(ContainerSpec("worker-1", "x", env={"WORKER_ID": "worker-1"})) == 30
    assert stop_timeout(ContainerSpec("api", "x", stop_timeout=3)) == 3


def test_network_volume_and_partition_commands_carry_the_run():
    assert network_create_args(NAMES)[-1] == "chaos-ab12cd34"
    assert f"{RUN_LABEL}=ab12cd34" in network_create_args(NAMES)
    assert volume_create_args(NAMES)[-1] == "chaos-ab12cd34-pgdata"
    assert disconnect_args(NAMES, "redis") == [
        "network",
        "disconnect",
        "--force",
        "chaos-ab12cd34",
        "chaos-ab12cd34-redis",
    ]
    # Reconnecting restores the alias other services resolve.
    assert connect_args(NAMES, "redis") == [
        "network",
        "connect",
        "--alias",
        "redis",
        "chaos-ab12cd34",
        "chaos-ab12cd34-redis",
    ]


def test_container_state_is_read_from_docker_inspect():
    state = ContainerState.from_inspect(
        {
            "Id": "0123456789abcdef" * 4,
            "State": {"Running": True, "Paused": False, "StartedAt": "2026-01-01T00:00:00.1Z"},
            "Config": {"Labels": {SERVICE_LABEL: "api"}},
        }
    )
    assert state.running and not state.paused and state.service == "api"
    assert state.identity == "0123456789ab@2026-01-01T00:00:00.1Z"


def test_services_are_listed_in_protocol_order_then_workers_by_number():
    names = ["worker-10", "fixtures", "worker-2", "redis", "api", "postgres"]
    assert sort_services(names) == [
        "redis",
        "postgres",
        "api",
        "fixtures",
        "worker-2",
        "worker-10",
    ]


class FakeCLI:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def image_exists(self, image: str) -> bool:
        return image in self.present


def test_official_images_are_preferred_and_offline_ones_used_when_only_they_exist():
    official = DockerImages.resolve(FakeCLI({"redis:7-alpine", "image-jobs/redis:bookworm"}), {})
    assert official.redis == "redis:7-alpine"
    offline = DockerImages.resolve(FakeCLI({"image-jobs/postgres:bookworm"}), {})
    assert offline.postgres == "image-jobs/postgres:bookworm"
    assert offline.redis == "redis:7-alpine"  # neither exists: preflight names the official one
    assert offline.system == "image-jobs/system:dev"


def test_an_environment_variable_forces_an_image():
    images = DockerImages.resolve(FakeCLI(set()), {"CHAOS_REDIS_IMAGE": "valkey/valkey:8"})
    assert images.redis == "valkey/valkey:8"


def test_a_missing_docker_cli_is_a_platform_error_that_says_what_to_install():
    with pytest.raises(PlatformError, match="docker CLI was not found"):
        DockerCLI("/nonexistent/docker")("version")


def test_no_engine_is_a_platform_error_that_says_how_to_start_one(monkeypatch, tmp_path):
    cli = DockerCLI()
    if cli.binary == "docker":
        pytest.skip("no docker CLI on PATH")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(PlatformError, match="no Docker engine reachable.*start dockerd"):
        cli.server_version(timeout=10)


def test_stopping_a_platform_that_never_started_asks_nothing_of_the_engine(tmp_path):
    from chaos.platforms.docker import DockerPlatform

    platform = DockerPlatform(tmp_path, cli=DockerCLI("/nonexistent/docker"))
    platform.stop()  # any call to this CLI raises PlatformError: none may happen
    platform.stop()
