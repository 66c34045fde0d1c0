#!/usr/bin/env python3
"""Run nox from a private virtual environment: ``python3 bootstrap.py -s chaos``.

The quick start must work on a machine that has nothing but Python, including a Debian or
Ubuntu system Python that refuses ``pip install`` outside a virtual environment (PEP 668,
``externally-managed-environment``) and may lack ``ensurepip`` (no ``python3-venv`` package).
So this script never installs into the interpreter that runs it: it creates ``.venv-nox/``
beside itself (once), installs nox there and hands every argument to ``python -m nox``.
Without ``ensurepip`` it creates the environment without pip and bootstraps pip from its wheel
on the package index. Standard library only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ENV = HERE / ".venv-nox"
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
MIN_PYTHON = (3, 10)


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def has_ensurepip() -> bool:
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return False
    return True


def pip_wheel_url() -> str:
    """The newest pip wheel on the package index's simple (PEP 503) page."""
    with urllib.request.urlopen(f"{INDEX}/pip/", timeout=60) as answer:
        page, base = answer.read().decode(), answer.geturl()
    links = [part.split('"')[0] for part in page.split('href="')[1:]]
    wheels = [link for link in links if link.split("#")[0].endswith(".whl")]
    if not wheels:
        raise SystemExit(f"bootstrap: no pip wheel found at {INDEX}/pip/")
    return urllib.parse.urljoin(base, wheels[-1].split("#")[0])


def install_pip_from_wheel(python: Path) -> None:
    url = pip_wheel_url()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / url.split("/")[-1].split("#")[0]
        urllib.request.urlretrieve(url, wheel)
        # A pip wheel can run itself: python pip-X.whl/pip install pip
        run([str(python), f"{wheel}/pip", "install", "--quiet", str(wheel)])


def run(command: list[str]) -> None:
    result = subprocess.run(command)
    if result.returncode:
        raise SystemExit(f"bootstrap: {' '.join(command)} failed (exit {result.returncode})")


def ensure_env(env: Path) -> Path:
    """The environment's python, with nox installed; created on first use."""
    python = env_python(env)
    if python.exists() and subprocess.run([str(python), "-c", "import nox"]).returncode == 0:
        return python
    print(f"bootstrap: creating {env} with nox (once)", file=sys.stderr)
    with_pip = has_ensurepip()
    venv.EnvBuilder(with_pip=with_pip, clear=True).create(env)
    if not with_pip:
        print("bootstrap: no ensurepip here; installing pip from its wheel", file=sys.stderr)
        install_pip_from_wheel(python)
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "nox"])
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        print(f"bootstrap: Python {wanted}+ is needed, this is {sys.version.split()[0]}")
        return 2
    env = Path(os.environ.get("BOOTSTRAP_ENV", DEFAULT_ENV))
    python = ensure_env(env)
    os.chdir(HERE)
    return subprocess.run([str(python), "-m", "nox", *argv]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
