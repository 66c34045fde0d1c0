"""Helpers shared by the platform test suites (importable as ``support``: see pyproject)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chaos.errors import PlatformError
from chaos.platforms.base import Platform, SystemOptions


def require(name: str, reason: str | None, flag: str) -> None:
    """Skip, saying why, when a platform cannot run here; fail instead in CI with ``flag=1``."""
    if reason is None:
        return
    if os.environ.get("CI") and os.environ.get(flag) == "1":
        pytest.fail(f"CI with {flag}=1, but the {name} platform cannot run: {reason}")
    pytest.skip(f"{name} platform unavailable: {reason}")


def running(
    platform: Platform, workers: int = 1, options: SystemOptions | None = None
) -> Iterator[Platform]:
    """Start ``platform``, yield it, then collect its logs and remove everything it made."""
    try:
        platform.start(workers, options or SystemOptions())
        yield platform
    finally:
        try:
            platform.collect_logs(platform.run_dir / "logs")
        except PlatformError:
            pass  # nothing left to read (the engine or cluster went away, or never came up)
        platform.stop()
