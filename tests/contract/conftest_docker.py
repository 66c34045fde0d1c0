"""The docker platform for the platform contract (test_platform_contract.py).

Not a conftest pytest loads by itself: the contract's ``platform`` fixture imports it:

    from conftest_docker import docker_platform

    @pytest.fixture(scope="module", params=["local", "docker", ...])
    def platform(request, tmp_path_factory):
        if request.param == "docker":
            yield from docker_platform(tmp_path_factory.mktemp("docker-run"))
        ...

Without an engine or the images it skips, saying why; with CI set and REQUIRE_DOCKER=1 it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.errors import PlatformError
from chaos.platforms.base import SystemOptions
from chaos.platforms.docker import DockerPlatform, unavailable_reason


def require_docker() -> None:
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") and os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"CI with REQUIRE_DOCKER=1, but the docker platform cannot run: {reason}")
    pytest.skip(f"docker platform unavailable: {reason}")


def docker_platform(
    run_dir: Path, workers: int = 1, options: SystemOptions | None = None
) -> Iterator[DockerPlatform]:
    """Start the stack in containers, yield the platform, then collect logs and remove it all."""
    require_docker()
    platform = DockerPlatform(run_dir)
    try:
        platform.start(workers, options or SystemOptions())
        yield platform
    finally:
        try:
            platform.collect_logs(platform.run_dir / "logs")
        except PlatformError:
            pass  # the engine went away: nothing left to read
        platform.stop()
