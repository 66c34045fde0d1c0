"""An installed wheel, used outside the checkout, finds and runs the shipped scenarios.

The wheel is installed (without dependencies, which the test environment already has) into a
folder of its own that comes first on PYTHONPATH, and every command runs from an empty folder,
so nothing of the checkout can be picked up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(tmp / "dist")],
        check=True,
        cwd=tmp,
    )
    (wheel,) = (tmp / "dist").glob("*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp / "site"), wheel], check=True)
    return tmp


def chaos(installed: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cwd = installed / "elsewhere"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "chaos", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(installed / "site")},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_installed_copy_is_the_one_that_runs(installed):
    code = "import chaos, sys; print(chaos.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=installed,
        env={**os.environ, "PYTHONPATH": str(installed / "site")},
        capture_output=True,
        text=True,
    )
    assert result.stdout.startswith(str(installed / "site")), result.stdout


def test_an_installed_wheel_lists_and_validates_every_shipped_scenario(installed):
    listed = chaos(installed, "list")
    assert listed.returncode == 0, listed.stderr
    names = sorted(line.split()[0] for line in listed.stdout.splitlines() if line.strip())
    assert names == SHIPPED
    validated = chaos(installed, "validate")
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.count("ok  ") == len(SHIPPED)


def test_no_scenario_found_is_a_usage_error_that_says_where_it_looked(installed, tmp_path):
    site = installed / "site-empty"
    subprocess.run(["cp", "-r", str(installed / "site"), str(site)], check=True)
    for path in (site / "chaos" / "scenarios").glob("*.yaml"):
        path.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "chaos", "run"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"no scenario files found in {site / 'chaos' / 'scenarios'}" in result.stderr
    assert not (tmp_path / "runs" / "junit.xml").exists()


@pytest.mark.scenario
def test_an_installed_wheel_runs_a_scenario_outside_the_checkout(installed):
    result = chaos(installed, "run", "steady-load", "--out", "runs", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "steady-load: PASS" in result.stdout
    assert (installed / "elsewhere" / "runs" / "junit.xml").exists()
