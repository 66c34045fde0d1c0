"""KubeApi against a stand-in API server: the requests the real kubernetes client sends."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from chaos.errors import PlatformError
from chaos.platforms.kube import KubeApi

NS = "/api/v1/namespaces/image-jobs"
POD = {
    "metadata": {"name": "redis-cache-1", "uid": "u1", "labels": {"app": "redis-cache"}},
    "status": {
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {
                "name": "redis",
                "image": "redis:7-alpine",
                "imageID": "",
                "ready": True,
                "restartCount": 2,
                "state": {"running": {}},
            }
        ],
    },
}
WAITING_POD = {
    "metadata": {
        "name": "image-api-1",
        "uid": "u2",
        "labels": {"app": "image-api"},
        "deletionTimestamp": "2026-01-01T00:00:00Z",
    },
    "status": {
        "containerStatuses": [
            {
                "name": "api",
                "image": "image-jobs/system:dev",
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ErrImageNeverPull"}},
            }
        ]
    },
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "image-worker", "generation": 3},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "image-worker"}},
        "template": {"metadata": {"labels": {"app": "image-worker"}}, "spec": {"containers": []}},
    },
    "status": {"observedGeneration": 3, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2},
}


class Handler(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, dict, str, object]] = []

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        kind = "text/plain" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        content_type = self.headers.get("Content-Type", "")
        self.requests.append((self.command, url.path, parse_qs(url.query), content_type, body))
        return url.path

    def do_GET(self):
        path = self._record()
        if path == f"{NS}/pods":
            self._answer(200, {"kind": "PodList", "items": [WAITING_POD, POD]})
        elif path == f"{NS}/pods/redis-cache-1/log":
            self._answer(200, "Reconnected to Redis!\n")
        elif path == "/apis/apps/v1/namespaces/image-jobs/deployments/image-worker":
            self._answer(200, DEPLOYMENT)
        elif path == NS:
            self._answer(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
        else:
            self._answer(500, {"kind": "Status", "code": 500, "message": path})

    def do_DELETE(self):
        path = self._record()
        code = 404 if path == f"{NS}/pods/gone" else 200
        self._answer(code, {"kind": "Status", "code": code})

    def do_PATCH(self):
        self._record()
        self._answer(200, {"kind": "Scale", "spec": {"replicas": 5}})


@pytest.fixture
def api(tmp_path, monkeypatch):
    Handler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "stand-in", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "stand-in",
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    yield KubeApi("image-jobs", context="stand-in")
    server.shutdown()


def test_pods_are_read_by_label_into_plain_records(api):
    waiting, redis = api.pods("redis-cache")
    assert Handler.requests[0][2] == {"labelSelector": ["app=redis-cache"]}
    assert (redis.name, redis.uid, redis.app, redis.ready, redis.restarts) == (
        "redis-cache-1", "u1", "redis-cache", True, 2,
    )  # fmt: skip
    assert (waiting.ready, waiting.terminating, waiting.waiting) == (
        False, True, "ErrImageNeverPull",
    )  # fmt: skip


def test_a_kill_is_a_delete_with_grace_period_zero(api):
    api.delete_pod("redis-cache-1", grace_seconds=0)
    api.delete_pod("gone", grace_seconds=0)  # already gone: fine
    method, path, query, _, _ = Handler.requests[0]
    assert (method, path, query["gracePeriodSeconds"]) == (
        "DELETE",
        f"{NS}/pods/redis-cache-1",
        ["0"],
    )


def test_a_graceful_delete_sends_no_grace_period(api):
    api.delete_pod("redis-cache-1")
    assert "gracePeriodSeconds" not in Handler.requests[0][2]


def test_scaling_patches_the_scale_subresource_with_a_json_patch(api):
    api.scale("image-worker", 5)
    method, path, _, content_type, body = Handler.requests[0]
    assert (method, path) == (
        "PATCH",
        "/apis/apps/v1/namespaces/image-jobs/deployments/image-worker/scale",
    )
    assert content_type == "application/json-patch+json"
    assert body == [{"op": "replace", "path": "/spec/replicas", "value": 5}]


def test_rollout_reads_the_deployment_status(api):
    rollout = api.rollout("Deployment", "image-worker")
    assert (rollout.desired, rollout.ready, rollout.done) == (2, 2, True)


def test_logs_and_a_missing_namespace(api):
    assert api.pod_log("redis-cache-1") == "Reconnected to Redis!\n"
    assert api.namespace_exists() is False


def test_an_api_error_becomes_a_platform_error_naming_the_call(api):
    with pytest.raises(PlatformError, match="read_namespaced_pod_log.*500"):
        api.pod_log("unknown-pod")
