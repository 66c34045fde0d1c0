"""Fixtures for the docker tests: a started DockerPlatform on a real engine, shared per module.

Without an engine (or without the images: `python -m chaos.images.build`) these tests skip and
say why; in CI with REQUIRE_DOCKER=1 they fail instead, so a broken runner cannot pass silently.
"""

from __future__ import annotations

import os

import pytest

from chaos.errors import PlatformError
from chaos.platforms.base import SystemOptions
from chaos.platforms.docker import DockerPlatform, unavailable_reason

# Fast drains keep scale-down and terminate tests short.
FAST = SystemOptions(env={"DRAIN_SECONDS": "2", "LEASE_SECONDS": "3"})


def require_docker() -> None:
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") and os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"CI with REQUIRE_DOCKER=1, but the docker platform cannot run: {reason}")
    pytest.skip(f"docker platform unavailable: {reason}")


@pytest.fixture(scope="module")
def docker_platform(tmp_path_factory):
    require_docker()
    platform = DockerPlatform(tmp_path_factory.mktemp("docker-run"))
    try:
        platform.start(1, FAST)
        yield platform
    finally:
        try:
            platform.collect_logs(platform.run_dir / "logs")
        except PlatformError:
            pass
        platform.stop()


@pytest.fixture
def make_docker_platform(tmp_path):
    """A factory of unstarted DockerPlatforms; every one made is stopped after the test."""
    require_docker()
    made: list[DockerPlatform] = []

    def make(**options) -> DockerPlatform:
        platform = DockerPlatform(tmp_path / f"run-{len(made)}", **options)
        made.append(platform)
        return platform

    yield make
    for platform in made:
        platform.stop()
