"""Platforms the harness can run the system on; ``make_platform`` picks one by name."""

from __future__ import annotations

import os
from pathlib import Path

from chaos.errors import PlatformError
from chaos.platforms.base import Endpoints, Platform, SystemOptions

PLATFORMS = ("local", "docker", "kind")

__all__ = ["PLATFORMS", "Endpoints", "Platform", "SystemOptions", "make_platform"]


def make_platform(name: str, run_dir: Path) -> Platform:
    if name == "local":
        from chaos.platforms.local import LocalPlatform

        return LocalPlatform(run_dir)
    if name == "docker":
        from chaos.platforms.docker import DockerPlatform

        return DockerPlatform(run_dir)
    if name == "kind":
        from chaos.platforms.kind import KindPlatform

        env = os.environ
        return KindPlatform(
            run_dir,
            reuse=env.get("CHAOS_KIND_REUSE", "") in ("1", "true", "yes"),
            teardown=env.get("CHAOS_KIND_KEEP", "") not in ("1", "true", "yes"),
            context=env.get("CHAOS_KIND_CONTEXT") or None,
            registry=env.get("CHAOS_KIND_REGISTRY") or None,
            host=env.get("CHAOS_KIND_HOST", "127.0.0.1"),
        )
    raise PlatformError(f"unknown platform {name!r}; choose one of {', '.join(PLATFORMS)}")


def preflight(name: str, run_dir: Path) -> None:
    """Fail fast, before any scenario starts, when the platform's tools are missing."""
    platform = make_platform(name, run_dir)
    check = getattr(platform, "preflight", None)
    if check is not None:
        check()
