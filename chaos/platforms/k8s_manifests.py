"""What the kind platform applies: the rendered ``k8s/`` overlay, fitted to one run.

Names here must match the files in ``k8s/``; ``tests/k8s`` checks that they do.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from chaos.errors import PlatformError
from chaos.platforms import images
from chaos.platforms.base import SystemOptions
from chaos.platforms.kustomize import containers, pod_spec, render, split_image
from system.settings import ENV_VARS

REPO_ROOT = Path(__file__).resolve().parents[2]
KIND_OVERLAY = REPO_ROOT / "k8s" / "overlays" / "kind"
KIND_CONFIG = REPO_ROOT / "kind-config.yaml"

NAMESPACE = "image-jobs"
CONFIG_MAP = "image-jobs-config"
SECRET = "image-jobs-secrets"
WORKER_DEPLOYMENT = "image-worker"
# The throwaway password of k8s/base/config.yaml; the harness reads Postgres with it.
POSTGRES_PASSWORD = "image-jobs-dev"
POSTGRES_DB = "job_db"

# Harness service name -> the pods' `app` label (the runbook's labels).
APP_LABELS = {
    "redis": "redis-cache",
    "postgres": "postgres-db",
    "api": "image-api",
    "fixtures": "image-fixtures",
}
WORKER_APP = "image-worker"
# Harness service name -> NodePort (k8s/overlays/kind/nodeports.yaml, kind-config.yaml).
NODE_PORTS = {"api": 30080, "postgres": 30432, "redis": 30379, "fixtures": 30081}
LOCUST_WEB_NODE_PORT = 30089
FIXTURES_URL_INTERNAL = f"http://{APP_LABELS['fixtures']}:{images.FIXTURES_PORT}"

# Worker pods get this many seconds beyond DRAIN_SECONDS before SIGKILL.
GRACE_MARGIN_SECONDS = 5
CONFIG_HASH_ANNOTATION = "image-jobs/config-hash"
PROJECT_IMAGES = (images.SYSTEM_IMAGE, images.FIXTURES_IMAGE)


def manifests(
    overlay: Path,
    workers: int,
    options: SystemOptions,
    registry: str | None = None,
) -> list[dict[str, Any]]:
    """The overlay's objects with this run's settings, worker count and image registry."""
    docs = render(overlay)
    configure(docs, options.environment())
    find(docs, "Deployment", WORKER_DEPLOYMENT)["spec"]["replicas"] = workers
    if registry:
        use_registry(docs, registry)
    return docs


def configure(docs: list[dict[str, Any]], env: dict[str, str]) -> None:
    """Put ``env`` into the system's ConfigMap and roll the pods when the settings change."""
    unknown = sorted(set(env) - set(ENV_VARS.values()))
    if unknown:
        raise PlatformError(
            f"system setting {unknown[0]!r} is not an environment variable of system.settings"
        )
    config_map = find(docs, "ConfigMap", CONFIG_MAP)
    data = {**config_map.get("data", {}), **{key: str(value) for key, value in env.items()}}
    config_map["data"] = data
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    for doc in system_workloads(docs):
        template = doc["spec"]["template"]
        template.setdefault("metadata", {}).setdefault("annotations", {})[
            CONFIG_HASH_ANNOTATION
        ] = digest
    worker = pod_spec(find(docs, "Deployment", WORKER_DEPLOYMENT))
    if "DRAIN_SECONDS" in data and worker is not None:
        needed = math.ceil(float(data["DRAIN_SECONDS"])) + GRACE_MARGIN_SECONDS
        grace = worker.get("terminationGracePeriodSeconds", 30)
        worker["terminationGracePeriodSeconds"] = max(grace, needed)


def use_registry(docs: list[dict[str, Any]], registry: str) -> None:
    """Pull the project's images from ``registry`` (an existing cluster cannot `kind load`)."""
    for container in containers(docs):
        if split_image(container["image"])[0] in PROJECT_IMAGES:
            container["image"] = f"{registry.rstrip('/')}/{container['image']}"
            container["imagePullPolicy"] = "Always"


def system_workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Workloads whose containers run the system image (the API and the workers)."""
    return [
        doc
        for doc in docs
        if any(
            split_image(c.get("image", ""))[0].endswith(images.SYSTEM_IMAGE)
            for c in containers([doc])
        )
    ]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise PlatformError(f"the manifests have no {kind} named {name!r}")


def workloads(docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of every Deployment and StatefulSet, to wait for their rollouts."""
    return [
        (doc["kind"], doc["metadata"]["name"])
        for doc in docs
        if doc["kind"] in ("Deployment", "StatefulSet")
    ]


def kind_kubernetes_version(config: Path = KIND_CONFIG) -> str:
    """The Kubernetes version of the node image kind-config.yaml pins, e.g. '1.31.12'."""
    nodes = yaml.safe_load(config.read_text())["nodes"]
    found = {re.search(r":v(\d+\.\d+\.\d+)", node.get("image", "")) for node in nodes}
    versions = sorted({match.group(1) for match in found if match})
    if len(versions) != 1 or None in found:
        raise PlatformError(f"{config}: every node must pin one kindest/node version: {versions}")
    return versions[0]
