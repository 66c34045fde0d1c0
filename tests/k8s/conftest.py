"""Fixtures for the Kubernetes tests: rendered manifests, and a kind platform on a fake API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_kube import FakeKube

from chaos.platforms.k8s_manifests import KIND_OVERLAY, REPO_ROOT
from chaos.platforms.kind import KindPlatform
from chaos.platforms.kustomize import load_documents, render

LOCUST_MANIFEST = REPO_ROOT / "k8s" / "load" / "locust.yaml"


@pytest.fixture(scope="session")
def kind_docs() -> list[dict[str, Any]]:
    return render(KIND_OVERLAY)


@pytest.fixture(scope="session")
def base_docs() -> list[dict[str, Any]]:
    return render(REPO_ROOT / "k8s" / "base")


@pytest.fixture(scope="session")
def locust_docs() -> list[dict[str, Any]]:
    return load_documents(LOCUST_MANIFEST)


@pytest.fixture
def fake() -> FakeKube:
    return FakeKube()


@pytest.fixture
def make_platform(tmp_path: Path, fake: FakeKube):
    """A KindPlatform on an existing "cluster" (the fake), waiting at most a second."""

    def make(**options: Any) -> KindPlatform:
        options = {"context": "fake", "api": fake, "timeout": 0.3, "poll_seconds": 0, **options}
        return KindPlatform(tmp_path / "run", **options)

    return make
