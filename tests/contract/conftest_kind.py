"""The kind platform for the platform contract (test_platform_contract.py imports it).

Needs the images built first (`nox -s images`); creates the cluster from kind-config.yaml if it
does not exist, and deletes only what it created. Skips, saying why, without kind and Docker;
with CI set and REQUIRE_KIND=1 a missing kind or Docker engine fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.errors import PlatformError
from chaos.platforms.base import SystemOptions
from chaos.platforms.kind import KindPlatform, missing_tools


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
