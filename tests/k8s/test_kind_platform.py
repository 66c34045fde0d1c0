"""KindPlatform's logic against an in-memory Kubernetes API, and its preflight on this machine."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from chaos.errors import PlatformError
from chaos.platforms.base import Platform, SystemOptions
from chaos.platforms.k8s_manifests import (
    CONFIG_HASH_ANNOTATION,
    CONFIG_MAP,
    KIND_OVERLAY,
    WORKER_DEPLOYMENT,
    find,
    manifests,
)
from chaos.platforms.kind import KindPlatform
from chaos.platforms.kustomize import containers, pod_spec


def executable(folder: Path, name: str, script: str = "exit 0") -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def running(fake, workers=2):
    return fake.run(
        **{
            "redis-cache": 1,
            "postgres-db": 1,
            "image-api": 1,
            "image-fixtures": 1,
            "image-worker": workers,
        }
    )


# -- preflight -------------------------------------------------------------------------------


def test_preflight_names_kind_when_it_is_not_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PlatformError, match=r"kind is not on PATH: install kind v0\.30\.0"):
        KindPlatform(tmp_path / "run").preflight()


def test_start_runs_preflight_first_and_touches_nothing_without_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    platform = KindPlatform(tmp_path / "run")
    with pytest.raises(PlatformError, match="kind is not on PATH"):
        platform.start(2, SystemOptions())
    assert not (tmp_path / "run").exists()
    platform.stop()  # safe after a failed start


def test_preflight_names_docker_when_kind_is_there_but_docker_is_not(tmp_path, monkeypatch):
    executable(tmp_path, "kind")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PlatformError, match="docker is not on PATH"):
        KindPlatform(tmp_path / "run").preflight()


def test_preflight_says_when_no_docker_engine_answers(tmp_path, monkeypatch):
    executable(tmp_path, "kind")
    executable(tmp_path, "docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PlatformError, match="no Docker engine answers.*Cannot connect"):
        KindPlatform(tmp_path / "run").preflight()


def test_preflight_lists_the_kubeconfig_contexts_when_the_one_asked_for_is_missing(
    tmp_path, monkeypatch
):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "staging", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "staging",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with pytest.raises(PlatformError, match=r"no context 'prod' \(it has: staging\)"):
        KindPlatform(tmp_path / "run", context="prod").preflight()


def test_preflight_says_when_there_is_no_kubeconfig(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(PlatformError, match="kubeconfig"):
        KindPlatform(tmp_path / "run", context="prod").preflight()


# -- services and faults ---------------------------------------------------------------------


def test_the_platform_satisfies_the_protocol(make_platform):
    assert isinstance(make_platform(), Platform)


def test_services_map_to_pods_by_the_runbook_labels(make_platform, fake):
    running(fake, workers=3)
    platform = make_platform()
    assert platform.services() == [
        "redis", "postgres", "api", "fixtures", "worker-0", "worker-1", "worker-2",
    ]  # fmt: skip
    workers = fake.pods("image-worker")
    assert [platform.identity(f"worker-{i}") for i in range(3)] == [p.uid for p in workers]
    assert platform.identity("postgres") == fake.pods("postgres-db")[0].uid
    assert platform.identity("worker-3") is None
    assert platform.is_up("redis")


@pytest.mark.parametrize("service", ["mysql", "worker-x"])
def test_an_unknown_service_is_refused_by_name(make_platform, fake, service):
    running(fake)
    with pytest.raises(PlatformError, match=f"unknown service '{service}'"):
        make_platform().identity(service)


def test_kill_deletes_the_pod_at_once_and_returns_with_the_service_down(make_platform, fake):
    running(fake)
    platform = make_platform()
    before = fake.pods("redis-cache")[0]
    platform.kill("redis")
    assert fake.deleted == [(before.name, 0)]
    assert before.uid not in {pod.uid for pod in fake.pods()}
    assert not platform.is_up("redis")  # the replacement is still starting


def test_start_service_waits_for_the_replacement_kubernetes_makes(make_platform, fake):
    running(fake)
    platform = make_platform()
    before = platform.identity("redis")
    platform.kill("redis")
    platform.start_service("redis")
    assert platform.is_up("redis")
    assert platform.identity("redis") not in (None, before)


def test_restarting_postgres_brings_back_a_pod_of_the_same_name_with_a_new_uid(make_platform, fake):
    running(fake)
    platform = make_platform()
    before = fake.pods("postgres-db")[0]
    platform.restart("postgres")
    after = fake.pods("postgres-db")[0]
    assert (after.name, after.uid != before.uid, after.ready) == (before.name, True, True)


def test_a_replacement_worker_takes_over_the_number_of_the_killed_one(make_platform, fake):
    running(fake, workers=3)
    platform = make_platform()
    first, second, third = (platform.identity(f"worker-{i}") for i in range(3))
    platform.kill("worker-0")
    assert not platform.is_up("worker-0")
    assert (platform.identity("worker-1"), platform.identity("worker-2")) == (second, third)
    platform.start_service("worker-0")
    assert platform.identity("worker-0") not in (None, first)
    assert platform.services()[-3:] == ["worker-0", "worker-1", "worker-2"]


def test_the_last_worker_killed_comes_back_under_its_number(make_platform, fake):
    running(fake, workers=2)
    platform = make_platform()
    platform.restart("worker-1")
    assert platform.is_up("worker-1") and platform.is_up("worker-0")


def test_worker_id_is_the_pod_name_the_worker_reports(make_platform, fake):
    running(fake, workers=1)
    assert make_platform().worker_id("worker-0") == fake.pods("image-worker")[0].name


def test_terminate_lets_the_pod_drain_and_returns_once_it_is_gone(make_platform, fake):
    running(fake, workers=2)
    platform = make_platform()
    doomed = fake.pods("image-worker")[0]
    platform.terminate("worker-0")
    assert fake.deleted == [(doomed.name, None)]
    assert doomed.uid not in {pod.uid for pod in fake.pods()}


def test_start_service_fails_with_the_pods_state_when_nothing_comes_back(make_platform, fake):
    running(fake)
    fake.replacements_ready = False
    platform = make_platform()
    platform.kill("api")
    with pytest.raises(PlatformError, match=r"timed out .* api to be up again.*not ready"):
        platform.start_service("api")


def test_kill_refuses_a_service_with_no_pod(make_platform, fake):
    running(fake, workers=1)
    with pytest.raises(PlatformError, match="worker-4 has no pod"):
        make_platform().kill("worker-4")


@pytest.mark.parametrize("verb", ["pause", "resume"])
def test_pause_and_resume_are_not_supported_on_kubernetes(make_platform, fake, verb):
    running(fake)
    assert make_platform().supports_pause is False  # scenarios with pause are refused up front
    with pytest.raises(PlatformError, match="not supported on Kubernetes"):
        getattr(make_platform(), verb)("redis")


def test_scale_workers_returns_when_exactly_that_many_are_ready(make_platform, fake):
    running(fake, workers=2)
    platform = make_platform()
    platform.scale_workers(5)
    assert [s for s in platform.services() if s.startswith("worker-")] == [
        f"worker-{i}" for i in range(5)
    ]
    platform.scale_workers(1)
    assert len(fake.pods("image-worker")) == 1  # the drained ones are gone, not terminating


def test_collect_logs_writes_one_file_per_pod_and_the_previous_log_after_a_restart(
    make_platform, fake, tmp_path
):
    running(fake, workers=1)
    api_pod = fake.pods("image-api")[0]
    fake.by_uid[api_pod.uid] = type(api_pod)(**{**api_pod.__dict__, "restarts": 1})
    written = make_platform().collect_logs(tmp_path / "logs")
    names = sorted(path.name for path in written)
    assert len(names) == 6
    assert f"{api_pod.name}.previous.log" in names
    assert (tmp_path / "logs" / f"{api_pod.name}.log").read_text() == f"log of {api_pod.name}\n"


def test_endpoints_are_the_node_ports_on_the_host(make_platform):
    endpoints = make_platform().endpoints()
    assert endpoints.api_url == "http://127.0.0.1:30080"
    assert endpoints.database_url == "postgresql://postgres:image-jobs-dev@127.0.0.1:30432/job_db"
    assert endpoints.redis_url == "redis://127.0.0.1:30379/0"
    assert endpoints.fixtures_url == "http://127.0.0.1:30081"
    assert endpoints.fixtures_url_internal == "http://image-fixtures:8080"
    assert make_platform(host="10.0.0.7").endpoints().api_url == "http://10.0.0.7:30080"


# -- start and stop --------------------------------------------------------------------------


def test_start_applies_the_run_settings_waits_for_rollouts_and_stop_removes_them(
    make_platform, fake, monkeypatch
):
    platform = make_platform(registry="registry.example:5000/team")
    monkeypatch.setattr(platform, "_api_ready", lambda: True)
    options = SystemOptions(mode="robust", mutations=("no-fencing",), env={"LEASE_SECONDS": "2"})
    endpoints = platform.start(3, options)
    assert endpoints == platform.endpoints()
    assert fake.applied[0]["kind"] == "Namespace"
    config = find(fake.applied, "ConfigMap", CONFIG_MAP)["data"]
    assert config["MUTATIONS"] == "no-fencing" and config["ENABLE_TEST_MUTATIONS"] == "1"
    assert config["LEASE_SECONDS"] == "2"
    assert len(fake.pods("image-worker")) == 3
    assert (platform.run_dir / "k8s-applied.yaml").is_file()
    images = {c["image"] for c in containers(fake.applied)}
    assert "registry.example:5000/team/image-jobs/system:dev" in images
    platform.stop()
    platform.stop()
    assert not fake.namespace_exists()


def test_start_fails_clearly_when_the_api_never_gets_ready(make_platform, fake, monkeypatch):
    platform = make_platform()
    monkeypatch.setattr(platform, "_api_ready", lambda: False)
    with pytest.raises(PlatformError, match="readyz to answer 200"):
        platform.start(1, SystemOptions())


# -- fitting the manifests to a run ----------------------------------------------------------


def test_unknown_settings_are_refused_before_anything_is_applied():
    options = SystemOptions(env={"LEASE_SECS": "2"})
    with pytest.raises(PlatformError, match="'LEASE_SECS' is not an environment variable"):
        manifests(KIND_OVERLAY, 2, options)


def test_a_longer_drain_gets_a_longer_termination_grace():
    docs = manifests(KIND_OVERLAY, 2, SystemOptions(env={"DRAIN_SECONDS": "40"}))
    worker = pod_spec(find(docs, "Deployment", WORKER_DEPLOYMENT))
    assert worker["terminationGracePeriodSeconds"] == 45


def test_changed_settings_roll_the_system_pods():
    def stamp(options):
        docs = manifests(KIND_OVERLAY, 2, options)
        template = find(docs, "Deployment", "image-api")["spec"]["template"]
        return template["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]

    assert stamp(SystemOptions()) == stamp(SystemOptions())
    assert stamp(SystemOptions()) != stamp(SystemOptions(mode="naive"))


def test_a_registry_makes_the_cluster_pull_only_the_project_images():
    docs = manifests(KIND_OVERLAY, 2, SystemOptions(), registry="ghcr.io/me/")
    pulled = {c["image"]: c.get("imagePullPolicy") for c in containers(docs)}
    assert pulled == {
        "ghcr.io/me/image-jobs/system:dev": "Always",
        "ghcr.io/me/image-jobs/fixtures:dev": "Always",
        "redis:7-alpine": None,
        "postgres:16-alpine": None,
    }


def test_worker_count_sets_the_deployment_replicas():
    docs = manifests(KIND_OVERLAY, 7, SystemOptions())
    assert find(docs, "Deployment", WORKER_DEPLOYMENT)["spec"]["replicas"] == 7
