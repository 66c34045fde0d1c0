"""cleanup_leftovers() on a real engine. It removes every run of this harness on the engine, so
this module runs before test_docker_platform.py (alphabetical order) and never beside a real run.
"""

from __future__ import annotations

import pytest

from chaos.platforms.base import SystemOptions
from chaos.platforms.docker import DockerPlatform
from chaos.platforms.docker_cli import DockerCLI

pytestmark = pytest.mark.docker


def test_cleanup_leftovers_removes_runs_nobody_stopped(make_docker_platform):
    platform = make_docker_platform()
    platform.start(0, SystemOptions())
    removed = DockerPlatform.cleanup_leftovers()
    assert removed["containers"] >= 4 and removed["networks"] >= 1 and removed["volumes"] >= 1
    assert DockerCLI()("ps", "--all", "--quiet", "--filter", platform.names.run_filter()) == ""
