"""A small kustomize: render ``k8s/`` without the kustomize or kubectl binaries.

It supports exactly what the project's kustomization files use, and refuses anything else by
name rather than render it wrongly:

- ``resources``: YAML files and directories holding a kustomization;
- ``namespace``: set on every namespaced object;
- ``patches``: strategic-merge patches, from ``path`` or inline ``patch``, aimed by the patch's own
  kind and name or by a ``target`` with ``kind`` and ``name``;
- ``images``: ``name`` with ``newName``, ``newTag`` or ``digest``.

The output is in kustomize's default ("legacy") order, so applying it top to bottom creates the
namespace, then the configuration, then the services and the workloads.
``tests/k8s`` compares it with ``kubectl kustomize`` where kubectl is installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from chaos.errors import PlatformError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "patches", "images"}

# kustomize's legacy output order; kinds not listed come after these, before the webhooks.
ORDER_FIRST = (
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
    "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
    "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
)  # fmt: skip
ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
CLUSTER_SCOPED = {
    "Namespace", "StorageClass", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
    "PersistentVolume", "PriorityClass", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
}  # fmt: skip

# Strategic-merge keys of the lists our patches touch (Kubernetes' patchMergeKey); any other
# list in a patch replaces the list it patches, as in Kubernetes.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}


def render(directory: Path | str) -> list[dict[str, Any]]:
    """Render the kustomization in ``directory`` into a list of Kubernetes objects."""
    directory = Path(directory)
    kustomization = _load_kustomization(directory)
    docs: list[dict[str, Any]] = []
    for entry in kustomization.get("resources") or []:
        path = directory / entry
        if path.is_dir():
            docs.extend(render(path))
        elif path.is_file():
            docs.extend(load_documents(path))
        else:
            raise PlatformError(f"{directory}: resource {entry!r} does not exist")
    for patch in kustomization.get("patches") or []:
        _apply_patch_entry(docs, patch, directory)
    for image in kustomization.get("images") or []:
        set_image(docs, image)
    if kustomization.get("namespace"):
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return sorted(docs, key=_order)


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The non-empty YAML documents of one file, each checked to be a Kubernetes object."""
    try:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    except yaml.YAMLError as exc:
        raise PlatformError(f"{path}: not valid YAML: {exc}") from None
    for doc in docs:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= doc.keys():
            raise PlatformError(f"{path}: {str(doc)[:80]!r} is not a Kubernetes object")
    return docs


def strategic_merge(base: dict[str, Any], patch: dict[str, Any]) -> None:
    """Merge ``patch`` into ``base`` in place, as a strategic-merge patch would."""
    for key, value in patch.items():
        if key.startswith("$"):
            raise PlatformError(f"patch directive {key!r} is not supported by chaos' kustomize")
        current = base.get(key)
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(current, dict):
            strategic_merge(current, value)
        elif isinstance(value, list) and isinstance(current, list) and _merge_key(key, value):
            _merge_list(current, value, _merge_key(key, value))
        else:
            base[key] = copy.deepcopy(value)


def set_image(docs: list[dict[str, Any]], rule: dict[str, str]) -> None:
    """Apply one kustomize ``images`` rule to every container of ``docs``."""
    for container in containers(docs):
        name, tag, digest = split_image(container.get("image", ""))
        if name != rule["name"]:
            continue
        name = rule.get("newName", name)
        if "digest" in rule:
            container["image"] = f"{name}@{rule['digest']}"
        else:
            tag = rule.get("newTag", tag)
            suffix = f"@{digest}" if digest and "newTag" not in rule else ""
            container["image"] = f"{name}:{tag}{suffix}" if tag else f"{name}{suffix}"


def split_image(image: str) -> tuple[str, str, str]:
    """``registry:5000/a/b:tag@sha256:...`` -> (name, tag, digest); missing parts are ''."""
    image, _, digest = image.partition("@")
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :], digest
    return image, "", digest


def containers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every container and init container of the pod templates in ``docs``."""
    found = []
    for doc in docs:
        spec = pod_spec(doc)
        if spec:
            found += spec.get("initContainers", []) + spec.get("containers", [])
    return found


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec inside a workload (Deployment, StatefulSet, Job, ...), or None."""
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        return spec
    if doc.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec")


def _load_kustomization(directory: Path) -> dict[str, Any]:
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            unsupported = sorted(set(data) - SUPPORTED_KEYS)
            if unsupported:
                raise PlatformError(
                    f"{path}: {unsupported[0]!r} is not supported by chaos' kustomize "
                    f"(supported: {', '.join(sorted(SUPPORTED_KEYS))}); use kubectl kustomize"
                )
            return data
    raise PlatformError(f"{directory}: no kustomization.yaml")


def _apply_patch_entry(docs: list[dict[str, Any]], entry: dict[str, Any], directory: Path) -> None:
    if "path" in entry:
        patches = load_documents(directory / entry["path"])
    elif "patch" in entry:
        patches = [doc for doc in yaml.safe_load_all(entry["patch"]) if doc]
    else:
        raise PlatformError(f"{directory}: patch {entry!r} has neither 'path' nor 'patch'")
    target = entry.get("target") or {}
    if set(target) - {"kind", "name"}:
        raise PlatformError(f"{directory}: patch target {target!r}: only kind and name supported")
    for patch in patches:
        if not isinstance(patch, dict) or "kind" not in patch:
            raise PlatformError(f"{directory}: only strategic-merge patches are supported")
        kind = target.get("kind", patch["kind"])
        name = target.get("name", patch.get("metadata", {}).get("name"))
        matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
        if not matches:
            raise PlatformError(f"{directory}: patch target {kind}/{name} not found")
        for doc in matches:
            body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "metadata")}
            meta = patch.get("metadata", {})
            meta = {k: meta[k] for k in ("labels", "annotations") if k in meta}
            if meta:
                body["metadata"] = meta
            strategic_merge(doc, body)


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports" and items and isinstance(items[0], dict):
        # Container ports merge on containerPort, service ports on port.
        return "containerPort" if "containerPort" in items[0] else "port"
    return MERGE_KEYS.get(field)


def _merge_list(current: list[Any], patch: list[Any], key: str) -> None:
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PlatformError(f"patch list item {item!r} lacks its merge key {key!r}")
        existing = next((c for c in current if c.get(key) == item[key]), None)
        if existing is None:
            current.append(copy.deepcopy(item))
        else:
            strategic_merge(existing, item)


def _order(doc: dict[str, Any]) -> tuple[int, str, str]:
    kind = doc["kind"]
    if kind in ORDER_FIRST:
        rank = ORDER_FIRST.index(kind)
    elif kind in ORDER_LAST:
        rank = len(ORDER_FIRST) + 1 + ORDER_LAST.index(kind)
    else:
        rank = len(ORDER_FIRST)
    return rank, kind, doc["metadata"].get("name", "")
