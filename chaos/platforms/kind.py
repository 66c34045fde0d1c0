"""The ``kind`` platform: the system on Kubernetes, hurt through the Kubernetes API.

By default it runs on a local kind cluster made from ``kind-config.yaml`` (created when absent,
reused when there) and loads the project's images into it. With ``context=`` it uses any cluster
of the kubeconfig instead, and ``registry=`` says where that cluster pulls the images from.

Services are pods, found by the runbook's labels: "redis" is app=redis-cache, "postgres"
app=postgres-db, "api" app=image-api, "fixtures" app=image-fixtures. Workers are the pods of
app=image-worker, numbered by name when they start ("worker-0", "worker-1", ...); a pod that
replaces a killed worker takes over its number, and scaling renumbers them all. A worker's
WORKER_ID is its pod name (``worker_id()``).

Kubernetes differs from processes and containers in ways a scenario may notice:

- Every pod has a controller that replaces it, so a killed service comes back by itself.
  ``kill`` (delete with grace 0: SIGKILL) and ``terminate`` (delete with the default grace:
  SIGTERM, then the worker's drain) return once the old pod is gone and the service is down;
  its replacement is on its way already. ``start_service`` waits for that replacement (a new UID)
  to be ready, and ``restart`` is kill then start_service: on Kubernetes kill implies restart.
- Pods cannot be frozen: ``pause`` and ``resume`` raise PlatformError (``supports_pause``).
- A deleted pod's log goes with it: ``collect_logs`` saves the logs of the pods alive at the end
  (and of their previous containers), not those of pods killed along the way.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

from chaos.errors import PlatformError
from chaos.platforms import images
from chaos.platforms.base import (
    SERVICES,
    Endpoints,
    SystemOptions,
    is_worker,
    restart_verified,
    worker_name,
)
from chaos.platforms.k8s_manifests import (
    APP_LABELS,
    FIXTURES_URL_INTERNAL,
    KIND_CONFIG,
    KIND_OVERLAY,
    NAMESPACE,
    NODE_PORTS,
    POSTGRES_DB,
    POSTGRES_PASSWORD,
    WORKER_APP,
    WORKER_DEPLOYMENT,
    manifests,
    workloads,
)
from chaos.platforms.kube import KubeApi, Pod, import_client, kubeconfig_contexts

KIND_VERSION = "v0.30.0"  # the release whose node image kind-config.yaml pins
KIND_INSTALL = "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
NO_PAUSE = (
    "pause/resume is not supported on Kubernetes: the API cannot freeze a pod (no SIGSTOP); "
    "use kill or terminate, or run the scenario on the docker or local platform"
)


def missing_tools() -> str | None:
    """Why a local kind cluster cannot run here, or None when kind and a Docker engine can."""
    if shutil.which("kind") is None:
        return (
            f"kind is not on PATH: install kind {KIND_VERSION} ({KIND_INSTALL}), "
            "or use an existing cluster: CHAOS_KIND_CONTEXT=<kubeconfig context>"
        )
    if shutil.which("docker") is None:
        return "docker is not on PATH: kind runs its nodes as Docker containers"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no Docker engine answers (docker info: {exc})"
    if info.returncode != 0:
        return f"no Docker engine answers (docker info: {_tail(info.stderr)})"
    return None


class KindPlatform:
    """The system in namespace ``image-jobs`` of a kind cluster, or of any cluster by context."""

    name = "kind"
    supports_pause = False

    def __init__(
        self,
        run_dir: Path,
        cluster_name: str = "image-jobs",
        reuse: bool = False,
        teardown: bool = True,
        context: str | None = None,
        registry: str | None = None,
        host: str = "127.0.0.1",
        overlay: Path = KIND_OVERLAY,
        kind_config: Path = KIND_CONFIG,
        timeout: float = 600.0,
        poll_seconds: float = 1.0,
        api: KubeApi | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.cluster_name = cluster_name
        self.reuse = reuse  # require an existing kind cluster instead of creating one
        self.teardown = teardown  # delete the cluster at stop, if this platform created it
        self.context = context  # an existing cluster: no kind, no docker
        self.registry = registry  # where that cluster pulls image-jobs/* from
        self.host = host  # where the NodePorts answer, as the harness sees them
        self.overlay = Path(overlay)
        self.kind_config = Path(kind_config)
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self._api = api
        self._created = False  # this platform made the kind cluster
        self._applied = False  # the namespace holds what start() applied
        self._workers = 0
        self._slots: list[str | None] = []  # worker number -> pod name

    def __repr__(self) -> str:
        where = f"context={self.context!r}" if self.context else f"cluster={self.cluster_name!r}"
        return f"KindPlatform({where}, workers={self._workers}, applied={self._applied})"

    # -- lifecycle ---------------------------------------------------------------------------

    def preflight(self) -> None:
        """Fail fast, naming what is missing: kind, a Docker engine, a kubeconfig, the files."""
        if self.context is None:
            reason = missing_tools()
            if reason:
                raise PlatformError(reason)
            if not self.kind_config.is_file():
                raise PlatformError(f"kind config {self.kind_config} does not exist")
        if not (self.overlay / "kustomization.yaml").is_file():
            raise PlatformError(f"{self.overlay} holds no kustomization.yaml")
        if self._api is None:
            import_client()
            if self.context is not None and self.context not in (found := kubeconfig_contexts()):
                raise PlatformError(
                    f"kubeconfig has no context {self.context!r} (it has: {', '.join(found)})"
                )

    def start(self, workers: int, options: SystemOptions) -> Endpoints:
        if workers < 0:
            raise PlatformError(f"workers={workers!r}: must not be negative")
        self.preflight()
        if self.context is None:
            self._ensure_cluster()
            self._load_images()
        docs = manifests(self.overlay, workers, options, self.registry)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "k8s-applied.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        self._applied = True
        self.api.apply(docs)
        self._workers = workers
        for kind, name in workloads(docs):
            self._wait(lambda k=kind, n=name: self.api.rollout(k, n).done, f"{kind} {name}")
        self._wait(
            self._api_ready,
            f"{self.endpoints().api_url}/readyz to answer 200 (a NodePort: on kind it needs "
            "the extraPortMappings of kind-config.yaml; elsewhere pass host=NODE_ADDRESS)",
        )
        self._slots = [pod.name for pod in self._live(WORKER_APP)]
        return self.endpoints()

    def discard_data(self) -> None:
        """Nothing to do: Postgres's data lives in the cluster, which stop() deletes or empties."""

    def stop(self) -> None:
        if self._created and self.teardown:
            self._run(["kind", "delete", "cluster", "--name", self.cluster_name])
            self._created = self._applied = False
        if self._applied:
            self.api.delete_namespace()
            self._wait(lambda: not self.api.namespace_exists(), f"namespace {NAMESPACE} to go")
            self._applied = False

    def endpoints(self) -> Endpoints:
        host, port = self.host, NODE_PORTS
        return Endpoints(
            api_url=f"http://{host}:{port['api']}",
            database_url=(
                f"postgresql://postgres:{POSTGRES_PASSWORD}@{host}:{port['postgres']}/{POSTGRES_DB}"
            ),
            redis_url=f"redis://{host}:{port['redis']}/0",
            fixtures_url=f"http://{host}:{port['fixtures']}",
            fixtures_url_internal=FIXTURES_URL_INTERNAL,
        )

    # -- services ----------------------------------------------------------------------------

    def services(self) -> list[str]:
        names = [service for service in SERVICES if self.api.pods(APP_LABELS[service])]
        return names + [worker_name(i) for i in range(len(self._worker_slots()))]

    def identity(self, service: str) -> str | None:
        pod = self._pod(service)
        return pod.uid if pod else None

    def worker_id(self, service: str) -> str | None:
        """The WORKER_ID a worker service reports (its pod name), or None when it has no pod."""
        pod = self._pod(service) if is_worker(service) else None
        return pod.name if pod else None

    def is_up(self, service: str) -> bool:
        pod = self._pod(service)
        return bool(pod and pod.ready)

    def kill(self, service: str) -> None:
        """Delete the pod at once (SIGKILL); return when it is gone. Kubernetes replaces it."""
        self._delete(service, grace_seconds=0)

    def terminate(self, service: str) -> None:
        """Delete the pod gracefully (SIGTERM, drain); return when it is gone."""
        self._delete(service, grace_seconds=None)

    def start_service(self, service: str) -> None:
        """Kubernetes restarts pods itself: wait until the replacement is ready."""
        self._wait(lambda: self.is_up(service), f"{service} to be up again")

    def restart(self, service: str) -> None:
        restart_verified(self, service)

    def pause(self, service: str) -> None:
        raise PlatformError(f"cannot pause {service!r}: {NO_PAUSE}")

    def resume(self, service: str) -> None:
        raise PlatformError(f"cannot resume {service!r}: {NO_PAUSE}")

    def scale_workers(self, count: int) -> None:
        """Set the worker Deployment's replicas; return when exactly ``count`` pods are ready."""
        if count < 0:
            raise PlatformError(f"scale_workers({count!r}): must not be negative")
        self.api.scale(WORKER_DEPLOYMENT, count)
        self._workers = count

        def settled() -> bool:
            pods = self.api.pods(WORKER_APP)  # draining pods count until they are gone
            return len(pods) == count and all(p.ready and not p.terminating for p in pods)

        self._wait(settled, f"{count} ready workers and none draining")
        self._slots = [pod.name for pod in self._live(WORKER_APP)]  # renumber

    def collect_logs(self, dest: Path) -> list[Path]:
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for pod in self.api.pods():
            written.append(self._save_log(pod.name, dest / f"{pod.name}.log", previous=False))
            if pod.restarts:
                path = dest / f"{pod.name}.previous.log"
                written.append(self._save_log(pod.name, path, previous=True))
        return written

    # -- helpers -----------------------------------------------------------------------------

    @property
    def api(self) -> KubeApi:
        if self._api is None:
            self._api = KubeApi(NAMESPACE, context=self.context or f"kind-{self.cluster_name}")
        return self._api

    def _live(self, app: str) -> list[Pod]:
        return [pod for pod in self.api.pods(app) if not pod.terminating]

    def _pod(self, service: str) -> Pod | None:
        """The pod behind a service name, or None when it has none right now."""
        if is_worker(service):
            index = service.removeprefix("worker-")
            if not index.isdigit():
                raise PlatformError(f"unknown service {service!r}: workers are worker-0, ...")
            slots = self._worker_slots()
            return slots[int(index)] if int(index) < len(slots) else None
        if service not in APP_LABELS:
            known = ", ".join([*SERVICES, "worker-N"])
            raise PlatformError(f"unknown service {service!r} (known: {known})")
        pods = sorted(self._live(APP_LABELS[service]), key=lambda p: (not p.ready, p.name))
        return pods[0] if pods else None

    def _worker_slots(self) -> list[Pod | None]:
        """Live worker pods by number: a new pod fills the number of a pod that went away."""
        live = {pod.name: pod for pod in self._live(WORKER_APP)}
        slots = [name if name in live else None for name in self._slots]
        for name in sorted(set(live) - set(slots)):
            if None in slots:
                slots[slots.index(None)] = name
            else:
                slots.append(name)
        while slots and slots[-1] is None:
            slots.pop()
        self._slots = slots
        return [live[name] if name else None for name in slots]

    def _delete(self, service: str, grace_seconds: int | None) -> None:
        old = self._pod(service)
        if old is None:
            raise PlatformError(f"{service} has no pod to delete right now")
        self.api.delete_pod(old.name, grace_seconds=grace_seconds)

        def gone() -> bool:  # not even terminating: a drained worker has exited
            return all(pod.uid != old.uid for pod in self.api.pods(old.app))

        self._wait(gone, f"{service} ({old.name}) to be gone")
        self._worker_slots()  # the replacement, if there already, takes the old number

    def _save_log(self, pod: str, path: Path, previous: bool) -> Path:
        try:
            text = self.api.pod_log(pod, previous=previous)
        except PlatformError as exc:
            text = f"(could not read the log of {pod}: {exc})\n"
        path.write_text(text or "")
        return path

    def _api_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoints().api_url}/readyz", timeout=3) as r:
                return r.status == 200
        except (OSError, ValueError):
            return False

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not done():
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"timed out after {self.timeout:g} s waiting for {what}; "
                    f"pods: {self._pod_summary()}"
                )
            time.sleep(self.poll_seconds)

    def _pod_summary(self) -> str:
        try:
            pods = self.api.pods()
        except PlatformError as exc:
            return f"unknown ({exc})"
        return ", ".join(_describe(pod) for pod in pods) or "none"

    def _ensure_cluster(self) -> None:
        clusters = self._run(["kind", "get", "clusters"]).split()
        if self.cluster_name in clusters:
            return
        if self.reuse:
            raise PlatformError(
                f"no kind cluster named {self.cluster_name!r} to reuse (found: "
                f"{', '.join(clusters) or 'none'}); create it with `kind create cluster "
                f"--name {self.cluster_name} --config kind-config.yaml` or drop reuse"
            )
        self._run(
            ["kind", "create", "cluster", "--name", self.cluster_name]
            + ["--config", str(self.kind_config), "--wait", "180s"]
        )
        self._created = True

    def _load_images(self) -> None:
        """Copy the project's images (and the official ones, when present) into the nodes."""
        ours = [images.system_image(), images.fixtures_image()]
        for image in ours:
            if not self._docker_has(image):
                raise PlatformError(f"image {image} is not built: run `nox -s images` first")
        official = [i for i in (images.REDIS_IMAGE, images.POSTGRES_IMAGE) if self._docker_has(i)]
        self._run(["kind", "load", "docker-image", *ours, *official, "--name", self.cluster_name])

    def _docker_has(self, image: str) -> bool:
        result = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
        return result.returncode == 0

    def _run(self, command: list[str]) -> str:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PlatformError(f"`{' '.join(command)}` could not run: {exc}") from None
        if result.returncode != 0:
            raise PlatformError(
                f"`{' '.join(command)}` failed (exit {result.returncode}): {_tail(result.stderr)}"
            )
        return result.stdout


def _describe(pod: Pod) -> str:
    state = "ready" if pod.ready else f"not ready{f' ({pod.waiting})' if pod.waiting else ''}"
    if pod.terminating:
        state = "terminating"
    restarts = f", {pod.restarts} restarts" if pod.restarts else ""
    return f"{pod.name} {state}{restarts}"


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "no output"
