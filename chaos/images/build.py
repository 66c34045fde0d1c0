"""Build every image the docker platform runs, with one command:

    python -m chaos.images.build [--base auto|official|local] [--rebuild-bases]

1. Check that a Docker engine answers.
2. Choose the bases. ``official``: python:3.11-slim, redis:7-alpine, postgres:16-alpine, pulled
   when missing. ``local``: no registry needed; debootstrap a minimal Debian bookworm from this
   machine's apt mirror, import it, and build image-jobs/base-python, image-jobs/redis and
   image-jobs/postgres from Debian packages (docker/base/). Local bases that exist are kept.
   ``auto`` (default) uses the official images when they are present or can be pulled.
3. Build the wheelhouse on the host (docker/wheelhouse/), so no build step reaches PyPI.
4. Build image-jobs/system:dev and image-jobs/fixtures:dev from docker/*.Dockerfile.
5. Print what was built, how long it took and how big it is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from chaos.errors import ChaosError, PlatformError
from chaos.images.debian import build_debian_image
from chaos.images.tags import (
    DEBIAN_IMAGE,
    LOCAL_BASES,
    LOCAL_PYTHON_IMAGE,
    OFFICIAL_IMAGES,
    OFFICIAL_PYTHON_IMAGE,
)
from chaos.images.wheelhouse import MARKER_ENV_SCRIPT, build_wheelhouse
from chaos.platforms.docker_cli import DockerCLI
from chaos.platforms.images import fixtures_image, system_image

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1800.0
PULL_TIMEOUT = 300.0
PROBE_PULL_TIMEOUT = 30.0  # `auto`: how long a pull may take to show a registry is reachable


@dataclass
class Step:
    image: str
    seconds: float
    note: str  # "built", "cached", "pulled", "present"


class ImageBuilder:
    def __init__(self, cli: DockerCLI, root: Path = ROOT) -> None:
        self.cli = cli
        self.root = root
        self.docker_dir = root / "docker"
        self.steps: list[Step] = []

    # -- bases ------------------------------------------------------------------------------

    def choose_base(self, base: str) -> str:
        if base != "auto":
            return base
        if all(self.cli.image_exists(image) for image in OFFICIAL_IMAGES):
            return "official"
        probe = self.cli.run(
            ["pull", OFFICIAL_PYTHON_IMAGE], timeout=PROBE_PULL_TIMEOUT, check=False
        )
        if probe.returncode == 0:
            return "official"
        reason = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        print(f"official images cannot be pulled ({reason}); building local bases offline")
        return "local"

    def official_bases(self) -> str:
        for image in OFFICIAL_IMAGES:
            started = time.monotonic()
            if self.cli.image_exists(image):
                self.steps.append(Step(image, 0.0, "present"))
                continue
            print(f"pulling {image}", flush=True)
            self.cli("pull", image, timeout=PULL_TIMEOUT)
            self.steps.append(Step(image, time.monotonic() - started, "pulled"))
        return OFFICIAL_PYTHON_IMAGE

    def local_bases(self, rebuild: bool) -> str:
        self._timed(DEBIAN_IMAGE, rebuild, lambda: build_debian_image(self.cli, DEBIAN_IMAGE))
        for image, dockerfile in LOCAL_BASES.items():
            self._timed(
                image,
                rebuild,
                lambda image=image, dockerfile=dockerfile: self._build(
                    image,
                    self.docker_dir / "base" / dockerfile,
                    self.docker_dir / "base",
                    {"DEBIAN_IMAGE": DEBIAN_IMAGE},
                ),
            )
        return LOCAL_PYTHON_IMAGE

    def _timed(self, image: str, rebuild: bool, build) -> None:
        if not rebuild and self.cli.image_exists(image):
            self.steps.append(Step(image, 0.0, "cached"))
            return
        print(f"building {image}", flush=True)
        started = time.monotonic()
        build()
        self.steps.append(Step(image, time.monotonic() - started, "built"))

    # -- the project's images -----------------------------------------------------------------

    def wheelhouse(self, target: dict[str, str]) -> None:
        print("building the wheelhouse (docker/wheelhouse/)", flush=True)
        started = time.monotonic()
        count, changed = build_wheelhouse(self.root, self.docker_dir / "wheelhouse", target)
        note = f"{count} wheels, {changed} changed" if changed else f"{count} wheels, unchanged"
        self.steps.append(Step("wheelhouse", time.monotonic() - started, note))

    def target_python(self, base_image: str) -> dict[str, str]:
        """The base image's interpreter (its PEP 508 marker environment and glibc version)."""
        run = ("run", "--rm", "--entrypoint", "python", base_image)
        return json.loads(self.cli(*run, "-c", MARKER_ENV_SCRIPT))

    def project_images(self, base_image: str) -> None:
        for image, dockerfile in (
            (system_image(), "system.Dockerfile"),
            (fixtures_image(), "fixtures.Dockerfile"),
        ):
            print(f"building {image} on {base_image}", flush=True)
            started = time.monotonic()
            self._build(
                image, self.docker_dir / dockerfile, self.docker_dir, {"BASE_IMAGE": base_image}
            )
            self.steps.append(Step(image, time.monotonic() - started, "built"))

    def _build(self, tag: str, dockerfile: Path, context: Path, build_args: dict[str, str]) -> None:
        args = ["build", "--force-rm", "--tag", tag, "--file", str(dockerfile)]
        for key, value in build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        result = self.cli.run([*args, str(context)], timeout=BUILD_TIMEOUT, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
            raise PlatformError(f"docker build of {tag} failed:\n{tail}")

    # -- summary ------------------------------------------------------------------------------

    def summary(self, total: float) -> str:
        lines = [f"{'image':<36} {'size':>9} {'time':>8}  note"]
        for step in self.steps:
            size = "" if step.image == "wheelhouse" else _megabytes(self.cli.image_size(step.image))
            lines.append(f"{step.image:<36} {size:>9} {step.seconds:>7.1f}s  {step.note}")
        lines.append(f"{'total':<36} {'':>9} {total:>7.1f}s")
        return "\n".join(lines)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"


def build_images(
    base: str = "auto", rebuild_bases: bool = False, cli: DockerCLI | None = None
) -> str:
    """Build every image; return the summary table."""
    cli = cli or DockerCLI()
    started = time.monotonic()
    print(f"Docker engine {cli.server_version()}", flush=True)
    builder = ImageBuilder(cli)
    chosen = builder.choose_base(base)
    base_image = (
        builder.official_bases() if chosen == "official" else builder.local_bases(rebuild_bases)
    )
    builder.wheelhouse(builder.target_python(base_image))
    builder.project_images(base_image)
    return builder.summary(time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.images.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--base",
        choices=("auto", "official", "local"),
        default="auto",
        help="official registry images, local Debian-built ones, or auto (official when pullable)",
    )
    parser.add_argument(
        "--rebuild-bases", action="store_true", help="rebuild local bases that exist"
    )
    args = parser.parse_args(argv)
    try:
        print(build_images(args.base, args.rebuild_bases))
    except ChaosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
