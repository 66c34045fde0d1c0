"""An in-memory stand-in for ``chaos.platforms.kube.KubeApi``, with toy controllers.

Each controller keeps its desired number of live pods: a deleted pod is replaced by one with a
new UID on the next look, as a ReplicaSet or StatefulSet would, and the new pod gets ready
``START_SECONDS`` later (it has to start). Graceful deletion leaves the pod terminating for one
look before it vanishes, like a draining worker.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from typing import Any

from chaos.platforms.kube import Pod, Rollout

START_SECONDS = 0.05  # how long a new pod takes to get ready
CONTROLLERS = {  # workload name -> (kind, app label)
    "image-api": ("Deployment", "image-api"),
    "image-worker": ("Deployment", "image-worker"),
    "image-fixtures": ("Deployment", "image-fixtures"),
    "redis-cache": ("Deployment", "redis-cache"),
    "postgres-db": ("StatefulSet", "postgres-db"),
}


class FakeKube:
    def __init__(self, namespace: str = "image-jobs") -> None:
        self.namespace = namespace
        self.desired: dict[str, int] = {}  # app -> replicas
        self.by_uid: dict[str, Pod] = {}
        self.draining: set[str] = set()  # uids that vanish at the next look
        self.starting: dict[str, float] = {}  # uid -> when it gets ready
        self.deleted: list[tuple[str, int | None]] = []
        self.applied: list[dict[str, Any]] = []
        self.logs: dict[str, str] = {}
        self.present = False
        self.replacements_ready = True  # set False to model a pod that never comes back
        self._ids = itertools.count(1)

    def run(self, **replicas: int) -> FakeKube:
        """Start controllers, e.g. ``run(**{"image-worker": 3, "redis-cache": 1})``."""
        for workload, count in replicas.items():
            self.desired[CONTROLLERS[workload][1]] = count
        self.present = True
        self._reconcile()
        for uid in self.starting:  # the first pods are up already
            self.by_uid[uid] = replace(self.by_uid[uid], ready=True)
        self.starting.clear()
        return self

    # The KubeApi surface.

    def pods(self, app: str | None = None) -> list[Pod]:
        self._reconcile()
        pods = [pod for pod in self.by_uid.values() if app is None or pod.app == app]
        return sorted(pods, key=lambda pod: pod.name)

    def delete_pod(self, name: str, grace_seconds: int | None = None) -> None:
        self.deleted.append((name, grace_seconds))
        for uid, pod in list(self.by_uid.items()):
            if pod.name == name:
                if grace_seconds == 0:
                    del self.by_uid[uid]
                else:
                    self.by_uid[uid] = replace(pod, terminating=True, ready=False)

    def pod_log(self, name: str, previous: bool = False) -> str:
        return self.logs.get(f"{name}{'/previous' if previous else ''}", f"log of {name}\n")

    def scale(self, deployment: str, replicas: int) -> None:
        self.desired[CONTROLLERS[deployment][1]] = replicas

    def rollout(self, kind: str, name: str) -> Rollout:
        app = CONTROLLERS[name][1]
        pods = self.pods(app)
        ready = sum(pod.ready for pod in pods)
        return Rollout(
            desired=self.desired.get(app, 0), ready=ready, updated=ready, total=len(pods)
        )

    def apply(self, docs: list[dict[str, Any]]) -> None:
        self.applied = docs
        self.run(
            **{
                doc["metadata"]["name"]: doc["spec"].get("replicas", 1)
                for doc in docs
                if doc["kind"] in ("Deployment", "StatefulSet")
            }
        )

    def namespace_exists(self) -> bool:
        return self.present

    def delete_namespace(self) -> None:
        self.present = False
        self.desired.clear()
        self.by_uid.clear()

    # The toy controllers.

    def _reconcile(self) -> None:
        for uid in list(self.draining):
            self.by_uid.pop(uid, None)
        for uid, ready_at in list(self.starting.items()):
            if uid in self.by_uid and self.replacements_ready and time.monotonic() >= ready_at:
                self.by_uid[uid] = replace(self.by_uid[uid], ready=True)
                del self.starting[uid]
        self.draining = {uid for uid, pod in self.by_uid.items() if pod.terminating}
        for app, count in self.desired.items():
            live = [pod for pod in self.by_uid.values() if pod.app == app and not pod.terminating]
            for pod in sorted(live, key=lambda pod: pod.name)[count:]:
                self.by_uid[pod.uid] = replace(pod, terminating=True, ready=False)
                self.draining.add(pod.uid)
            for _ in range(count - len(live)):
                self._new_pod(app)

    def _new_pod(self, app: str) -> Pod:
        number = next(self._ids)
        statefulset = app == "postgres-db"
        name = f"{app}-0" if statefulset else f"{app}-{number:05d}"
        pod = Pod(name, f"uid-{number}", {"app": app}, ready=False)
        self.by_uid[pod.uid] = pod
        self.starting[pod.uid] = time.monotonic() + START_SECONDS
        return pod
