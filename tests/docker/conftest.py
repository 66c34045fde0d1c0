"""Fixtures for the docker tests: a started DockerPlatform on a real engine, shared per module.

Without an engine (or without the images: `python -m chaos.images.build`) these tests skip and
say why; in CI with REQUIRE_DOCKER=1 they fail instead, so a broken runner cannot pass silently.
"""

from __future__ import annotations

import pytest
from support import require, running

from chaos.platforms.base import SystemOptions
from chaos.platforms.docker import DockerPlatform, unavailable_reason

# Fast drains keep scale-down and terminate tests short.
FAST = SystemOptions(env={"DRAIN_SECONDS": "2", "LEASE_SECONDS": "3"})


def require_docker() -> None:
    require("docker", unavailable_reason(), "REQUIRE_DOCKER")


@pytest.fixture(scope="module")
def docker_platform(tmp_path_factory):
    require_docker()
    yield from running(DockerPlatform(tmp_path_factory.mktemp("docker-run")), 1, FAST)


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
