"""Which images the docker platform runs, and how long `docker stop` waits.

Redis and Postgres are the official images (``chaos.platforms.images``) when they are present
locally, else the offline stand-ins ``python -m chaos.images.build`` makes from Debian packages.
Each can be forced with an environment variable (any image with the same interface).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from chaos.images.tags import LOCAL_POSTGRES_IMAGE, LOCAL_REDIS_IMAGE
from chaos.platforms.docker_cli import ContainerSpec, DockerCLI
from chaos.platforms.images import POSTGRES_IMAGE, REDIS_IMAGE, fixtures_image, system_image
from system.settings import ENV_VARS, Settings

# Field of DockerImages -> (environment variable that forces it, official image, offline image).
IMAGE_CHOICES = {
    "system": ("CHAOS_SYSTEM_IMAGE", system_image(), None),
    "fixtures": ("CHAOS_FIXTURES_IMAGE", fixtures_image(), None),
    "redis": ("CHAOS_REDIS_IMAGE", REDIS_IMAGE, LOCAL_REDIS_IMAGE),
    "postgres": ("CHAOS_POSTGRES_IMAGE", POSTGRES_IMAGE, LOCAL_POSTGRES_IMAGE),
}
DEFAULT_STOP_SECONDS = 10  # Docker's own default, for everything but workers
STOP_MARGIN_SECONDS = 10  # a worker's drain, plus this, before `docker stop` sends SIGKILL


@dataclass(frozen=True)
class DockerImages:
    system: str
    fixtures: str
    redis: str
    postgres: str

    @classmethod
    def resolve(cls, cli: DockerCLI, environ: Mapping[str, str] | None = None) -> DockerImages:
        env = os.environ if environ is None else environ
        chosen = {}
        for field, (variable, official, offline) in IMAGE_CHOICES.items():
            if env.get(variable):
                chosen[field] = env[variable]
            elif offline and not cli.image_exists(official) and cli.image_exists(offline):
                chosen[field] = offline
            else:
                chosen[field] = official
        return cls(**chosen)

    def all(self) -> tuple[str, ...]:
        return (self.system, self.fixtures, self.redis, self.postgres)


def stop_timeout(spec: ContainerSpec) -> int:
    """Seconds `docker stop` waits: a worker gets its whole drain (DRAIN_SECONDS) plus a margin."""
    if spec.stop_timeout is not None:
        return spec.stop_timeout
    if ENV_VARS["worker_id"] not in spec.env:
        return DEFAULT_STOP_SECONDS
    drain = float(spec.env.get(ENV_VARS["drain_seconds"], Settings.drain_seconds))
    return math.ceil(drain) + STOP_MARGIN_SECONDS
