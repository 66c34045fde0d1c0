"""The platform contract on a real kind cluster. Skips, saying why, without kind and Docker.

Needs the images built first (`nox -s images`); creates the cluster from kind-config.yaml if it
does not exist, and deletes only what it created. With CI set and REQUIRE_KIND=1 a missing kind
or Docker engine fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.errors import PlatformError
from chaos.platforms.base import SystemOptions
from chaos.platforms.kind import KindPlatform, missing_tools

pytestmark = pytest.mark.kind


def require_kind() -> None:
    reason = missing_tools()
    if reason is None:
        return
    if os.environ.get("CI") and os.environ.get("REQUIRE_KIND") == "1":
        pytest.fail(f"CI with REQUIRE_KIND=1, but the kind platform cannot run: {reason}")
    pytest.skip(f"kind platform unavailable: {reason}")


def kind_platform(
    run_dir: Path, workers: int = 2, options: SystemOptions | None = None
) -> Iterator[KindPlatform]:
    """Start the system on kind, yield the platform, then collect logs and remove it all."""
    require_kind()
    platform = KindPlatform(run_dir, timeout=900)
    try:
        platform.start(workers, options or SystemOptions())
        yield platform
    finally:
        try:
            platform.collect_logs(platform.run_dir / "logs")
        except PlatformError:
            pass  # the cluster never came up: start() already said why
        platform.stop()


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    yield from kind_platform(tmp_path_factory.mktemp("kind-run"))


def test_every_service_is_up_after_start(platform):
    services = platform.services()
    assert services == ["redis", "postgres", "api", "fixtures", "worker-0", "worker-1"]
    assert all(platform.is_up(service) for service in services)


@pytest.mark.parametrize("service", ["redis", "postgres", "api", "worker-0"])
def test_kill_takes_the_service_down_and_kubernetes_brings_a_new_pod(platform, service):
    before = platform.identity(service)
    platform.kill(service)
    assert not platform.is_up(service)
    platform.start_service(service)
    assert platform.identity(service) not in (None, before)
    assert platform.is_up(service)


def test_terminate_drains_a_worker(platform):
    before = platform.identity("worker-1")
    platform.terminate("worker-1")
    platform.start_service("worker-1")
    assert platform.identity("worker-1") != before


def test_scale_workers_up_and_down(platform):
    platform.scale_workers(3)
    assert "worker-2" in platform.services()
    platform.scale_workers(2)
    assert "worker-2" not in platform.services()


def test_pause_is_refused(platform):
    with pytest.raises(PlatformError, match="not supported on Kubernetes"):
        platform.pause("redis")
