"""The few Kubernetes calls the kind platform makes, behind one narrow class.

``KubeApi`` wraps the official ``kubernetes`` client for one namespace and hands back plain
``Pod`` and ``Rollout`` records, so the platform's logic can be tested against the in-memory
``FakeKube`` in ``tests/k8s/fake_kube.py``, which has the same methods.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from chaos.errors import PlatformError

FIELD_MANAGER = "image-jobs-chaos"


@dataclass(frozen=True)
class Pod:
    name: str
    uid: str
    labels: dict[str, str] = field(default_factory=dict)
    ready: bool = False
    terminating: bool = False  # deletion requested; the pod is draining or about to vanish
    restarts: int = 0
    waiting: str = ""  # why a container is not running yet, e.g. ErrImageNeverPull

    @property
    def app(self) -> str:
        return self.labels.get("app", "")


@dataclass(frozen=True)
class Rollout:
    """What a Deployment or StatefulSet reports about reaching its desired state."""

    desired: int
    ready: int = 0
    updated: int = 0
    total: int = 0  # pods the controller counts, old ones included
    generation: int = 0
    observed_generation: int = 0

    @property
    def done(self) -> bool:
        return (
            self.observed_generation >= self.generation
            and self.updated == self.desired
            and self.ready == self.desired
            and self.total == self.desired
        )


def kubeconfig_contexts() -> list[str]:
    """Context names in the kubeconfig (``KUBECONFIG`` or ~/.kube/config); PlatformError if none."""
    config = import_client()[1]
    try:
        contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig_path())
    except (config.ConfigException, OSError) as exc:
        raise PlatformError(f"no usable kubeconfig (KUBECONFIG or ~/.kube/config): {exc}") from None
    return [context["name"] for context in contexts or []]


def kubeconfig_path() -> str:
    """KUBECONFIG as it is now (the client reads it once, at import), else ~/.kube/config."""
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


class KubeApi:
    """One namespace of one cluster, reached through the kubeconfig context ``context``."""

    def __init__(self, namespace: str, context: str | None = None) -> None:
        client, config = import_client()
        try:  # a client of its own: the process-wide default configuration stays untouched
            self._client = config.new_client_from_config(kubeconfig_path(), context=context)
        except (config.ConfigException, OSError) as exc:
            raise PlatformError(f"cannot load kubeconfig context {context!r}: {exc}") from None
        self.namespace = namespace
        self._core = client.CoreV1Api(self._client)
        self._apps = client.AppsV1Api(self._client)

    def pods(self, app: str | None = None) -> list[Pod]:
        """Pods of the namespace (with label ``app=<app>`` if given), sorted by name."""
        selector = f"app={app}" if app else None
        items = self._call(self._core.list_namespaced_pod, self.namespace, label_selector=selector)
        return sorted((_pod(item) for item in items.items), key=lambda pod: pod.name)

    def delete_pod(self, name: str, grace_seconds: int | None = None) -> None:
        """Delete a pod; ``grace_seconds=0`` removes it at once (SIGKILL). A missing pod is fine."""
        self._call(
            self._core.delete_namespaced_pod,
            name,
            self.namespace,
            grace_period_seconds=grace_seconds,
            missing_ok=True,
        )

    def pod_log(self, name: str, previous: bool = False) -> str:
        return self._call(
            self._core.read_namespaced_pod_log, name, self.namespace, previous=previous
        )

    def scale(self, deployment: str, replicas: int) -> None:
        # A JSON patch (a list): every client version sends a list as application/json-patch+json.
        body = [{"op": "replace", "path": "/spec/replicas", "value": replicas}]
        self._call(self._apps.patch_namespaced_deployment_scale, deployment, self.namespace, body)

    def rollout(self, kind: str, name: str) -> Rollout:
        read = {
            "Deployment": self._apps.read_namespaced_deployment,
            "StatefulSet": self._apps.read_namespaced_stateful_set,
        }[kind]
        obj = self._call(read, name, self.namespace)
        status = obj.status
        return Rollout(
            desired=obj.spec.replicas or 0,
            ready=status.ready_replicas or 0,
            updated=status.updated_replicas or 0,
            total=status.replicas or 0,
            generation=obj.metadata.generation or 0,
            observed_generation=status.observed_generation or 0,
        )

    def apply(self, docs: list[dict[str, Any]]) -> None:
        """Server-side apply every object, in order (the namespace first)."""
        from kubernetes.dynamic import DynamicClient

        dynamic = self._call(DynamicClient, self._client)  # reads the API's discovery documents
        for doc in docs:
            resource = dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            namespace = doc["metadata"].get("namespace") if resource.namespaced else None
            try:
                dynamic.server_side_apply(
                    resource,
                    body=doc,
                    namespace=namespace,
                    field_manager=FIELD_MANAGER,
                    force_conflicts=True,
                )
            except Exception as exc:  # ApiException and the dynamic client's own errors
                name = f"{doc['kind']}/{doc['metadata']['name']}"
                raise PlatformError(f"applying {name} failed: {_reason(exc)}") from None

    def namespace_exists(self) -> bool:
        return self._call(self._core.read_namespace, self.namespace, missing_ok=True) is not None

    def delete_namespace(self) -> None:
        self._call(self._core.delete_namespace, self.namespace, missing_ok=True)

    def _call(self, method: Any, *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            if missing_ok and exc.status == 404:
                return None
            raise PlatformError(f"Kubernetes {method.__name__}{args}: {_reason(exc)}") from None
        except (HTTPError, OSError) as exc:  # the API server is unreachable
            raise PlatformError(f"Kubernetes API unreachable ({method.__name__}): {exc}") from None


def _pod(item: Any) -> Pod:
    status = item.status
    conditions = (status.conditions if status else None) or []
    statuses = (status.container_statuses if status else None) or []
    return Pod(
        name=item.metadata.name,
        uid=item.metadata.uid,
        labels=dict(item.metadata.labels or {}),
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        terminating=item.metadata.deletion_timestamp is not None,
        restarts=sum(s.restart_count or 0 for s in statuses),
        waiting=next(
            (s.state.waiting.reason or "" for s in statuses if s.state and s.state.waiting), ""
        ),
    )


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or str(exc)
    body = getattr(exc, "body", None)
    detail = f" {str(body)[:300]}" if body else ""
    return f"{status} {reason}{detail}" if status else f"{reason}{detail}"


def import_client() -> tuple[Any, Any]:
    try:
        from kubernetes import client, config
    except ImportError:
        raise PlatformError(
            "the kubernetes Python package is missing: pip install 'image-jobs-chaos[chaos]'"
        ) from None
    return client, config
