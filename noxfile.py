"""Sessions: ``nox -s chaos`` (the main job), ``tests``, ``lint``, ``mutants``, ``load``,
``images``, ``k8s``, ``bench``. Arguments after ``--`` go to the underlying command."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

EXTRAS = {
    "run": ".[chaos,servers]",
    "test": ".[chaos,servers,test]",
}


def install(session: nox.Session, extras: str = "run") -> None:
    session.install("-e", EXTRAS[extras])


@nox.session
def chaos(session: nox.Session) -> None:
    """Run every shipped scenario locally (or: -- scenarios/x.yaml --platform docker)."""
    install(session)
    session.run("python", "-m", "chaos", "run", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, integration, static Kubernetes and acceptance tests (real Redis and Postgres)."""
    install(session, "test")
    session.run("pytest", *(session.posargs or ["tests"]), success_codes=[0, 5])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def mutants(session: nox.Session) -> None:
    """Prove the harness catches bugs: the naive baseline and every mutation, as a table."""
    install(session)
    session.run("python", "-m", "chaos.mutants", *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """Start the system and Locust's web UI on 127.0.0.1:8089; checked when you stop it."""
    install(session)
    session.run("python", "-m", "chaos", "ui", *session.posargs)


@nox.session
def images(session: nox.Session) -> None:
    """Build every container image (offline base images first where no registry answers)."""
    install(session)
    session.run("python", "-m", "chaos.images.build", *session.posargs)


@nox.session
def docker(session: nox.Session) -> None:
    """The docker platform's tests and contract suite (needs an engine and `nox -s images`)."""
    install(session, "test")
    session.run("pytest", "tests/docker", "tests/contract", *session.posargs)


@nox.session
def k8s(session: nox.Session) -> None:
    """Static checks of k8s/, kind-config.yaml and the kind platform (no cluster needed)."""
    install(session, "test")
    session.run("pytest", "tests/k8s", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Throughput against the physical floor, recovery times, harness cost (prints a table)."""
    install(session)
    session.run("python", "-m", "chaos.bench", *session.posargs)
