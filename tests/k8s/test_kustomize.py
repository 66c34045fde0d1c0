"""chaos.platforms.kustomize: the small renderer the kind platform uses instead of kubectl."""

from __future__ import annotations

import textwrap

import pytest

from chaos.errors import PlatformError
from chaos.platforms.kustomize import render, set_image, split_image, strategic_merge


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: example/app:1
              args: ["--a"]
              env: [{name: A, value: "1"}]
            - name: sidecar
              image: example/sidecar:1
"""


def test_strategic_merge_merges_containers_by_name_and_replaces_plain_lists():
    base = {
        "containers": [
            {"name": "app", "args": ["--a"], "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar"},
        ]
    }
    patch = {
        "containers": [
            {"name": "app", "args": ["--b"], "env": [{"name": "B", "value": "2"}]},
        ]
    }
    strategic_merge(base, patch)
    assert base["containers"][0] == {
        "name": "app",
        "args": ["--b"],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    }
    assert base["containers"][1] == {"name": "sidecar"}


def test_strategic_merge_deletes_a_field_patched_to_null():
    base = {"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30000}]}}
    strategic_merge(base, {"spec": {"type": None, "ports": [{"port": 80, "nodePort": None}]}})
    assert base == {"spec": {"ports": [{"port": 80}]}}


def test_patch_directives_are_refused_rather_than_misapplied():
    with pytest.raises(PlatformError, match=r"'\$patch' is not supported"):
        strategic_merge({}, {"$patch": "delete"})


def test_an_overlay_patches_its_base_and_sets_the_namespace(tmp_path):
    write(tmp_path, "base/kustomization.yaml", "resources: [web.yaml]\n")
    write(tmp_path, "base/web.yaml", DEPLOYMENT)
    write(
        tmp_path,
        "overlay/kustomization.yaml",
        """
        namespace: shop
        resources: [../base]
        patches:
          - path: pull.yaml
          - patch: |-
              apiVersion: apps/v1
              kind: Deployment
              metadata: {name: ignored}
              spec: {replicas: 3}
            target: {kind: Deployment, name: web}
        images:
          - {name: example/app, newName: registry.local/app, newTag: "2"}
        """,
    )
    write(
        tmp_path,
        "overlay/pull.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {tier: front}}
        spec:
          template:
            spec:
              containers:
                - {name: app, imagePullPolicy: Never}
        """,
    )
    (web,) = render(tmp_path / "overlay")
    app, sidecar = web["spec"]["template"]["spec"]["containers"]
    assert web["metadata"] == {"name": "web", "labels": {"tier": "front"}, "namespace": "shop"}
    assert web["spec"]["replicas"] == 3
    assert (app["image"], app["imagePullPolicy"]) == ("registry.local/app:2", "Never")
    assert sidecar["image"] == "example/sidecar:1"


def test_an_unsupported_kustomization_key_is_named(tmp_path):
    write(tmp_path, "kustomization.yaml", "resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(PlatformError, match="'configMapGenerator' is not supported"):
        render(tmp_path)


def test_a_patch_without_a_target_in_the_resources_is_an_error(tmp_path):
    write(tmp_path, "kustomization.yaml", "resources: [web.yaml]\npatches: [{path: p.yaml}]\n")
    write(tmp_path, "web.yaml", DEPLOYMENT)
    write(tmp_path, "p.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
    with pytest.raises(PlatformError, match="Service/web not found"):
        render(tmp_path)


def test_a_missing_resource_is_quoted(tmp_path):
    write(tmp_path, "kustomization.yaml", "resources: [nope.yaml]\n")
    with pytest.raises(PlatformError, match="'nope.yaml' does not exist"):
        render(tmp_path)


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("redis:7-alpine", ("redis", "7-alpine", "")),
        ("localhost:5000/a/b", ("localhost:5000/a/b", "", "")),
        ("localhost:5000/a/b:dev@sha256:ff", ("localhost:5000/a/b", "dev", "sha256:ff")),
    ],
)
def test_split_image_separates_name_tag_and_digest(image, parts):
    assert split_image(image) == parts


def test_an_image_rule_with_a_digest_pins_the_image():
    docs = [
        {
            "kind": "Deployment",
            "metadata": {"name": "x"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a/b:1"}]}}},
        }
    ]
    set_image(docs, {"name": "a/b", "digest": "sha256:00"})
    assert docs[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "a/b@sha256:00"
