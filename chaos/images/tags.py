"""Base image names. The system and fixture images are named in ``chaos.platforms.images``."""

from chaos.platforms.images import POSTGRES_IMAGE, REDIS_IMAGE

# The official base of docker/system.Dockerfile and docker/fixtures.Dockerfile (ARG BASE_IMAGE).
OFFICIAL_PYTHON_IMAGE = "python:3.11-slim"
OFFICIAL_IMAGES = (OFFICIAL_PYTHON_IMAGE, REDIS_IMAGE, POSTGRES_IMAGE)

# Offline stand-ins, built from Debian packages when no registry is reachable (docker/base/).
DEBIAN_IMAGE = "image-jobs/debian:bookworm"  # debootstrap --variant=minbase, docker import
LOCAL_PYTHON_IMAGE = "image-jobs/base-python:bookworm"
LOCAL_REDIS_IMAGE = "image-jobs/redis:bookworm"
LOCAL_POSTGRES_IMAGE = "image-jobs/postgres:bookworm"

# Local base image -> its Dockerfile in docker/base/.
LOCAL_BASES = {
    LOCAL_PYTHON_IMAGE: "python.Dockerfile",
    LOCAL_REDIS_IMAGE: "redis.Dockerfile",
    LOCAL_POSTGRES_IMAGE: "postgres.Dockerfile",
}

DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
