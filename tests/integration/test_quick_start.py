"""The README's quick start: what CI runs is what it says, and bootstrap.py needs only Python.

The bootstrap test runs the script with an interpreter that has no pip and no ensurepip (as a
Debian system Python without python3-pip/python3-venv): it must still end with nox in its own
environment, never touching the interpreter that ran it. It downloads pip and nox from the
package index.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in section.strip().splitlines()]


def test_the_quick_start_is_two_bootstrap_commands_naming_the_nox_sessions():
    main_job, tests = quick_start_commands()
    assert main_job == "python3 bootstrap.py -s chaos"
    assert tests == "python3 bootstrap.py -s lint tests"
    readme = (ROOT / "README.md").read_text()
    assert "nox -s chaos" in readme and "nox -s lint tests" in readme


def test_ci_runs_the_readme_test_command():
    _, tests = quick_start_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^{re.escape(tests)}$", ci, re.M), f"{tests!r} is not a line of .ci/run"


def _index_answers() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/nox/", timeout=10).close()
    except OSError:
        return False
    return True


def test_bootstrap_works_on_a_python_without_pip_or_ensurepip(tmp_path):
    if not _index_answers():
        if os.environ.get("CI"):
            pytest.fail("the package index does not answer")
        pytest.skip("the package index does not answer")
    bare = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(bare)
    bare_python = bare / "bin" / "python"
    assert subprocess.run([bare_python, "-m", "pip", "--version"], capture_output=True).returncode
    target = tmp_path / "nox-env"
    # ensurepip hidden in the interpreter that runs bootstrap.py, as on Debian without python3-venv
    code = (
        "import runpy, sys; sys.modules['ensurepip'] = None; "
        f"sys.argv = ['bootstrap.py', '--version']; runpy.run_path({str(ROOT / 'bootstrap.py')!r}, "
        "run_name='__main__')"
    )
    result = subprocess.run(
        [bare_python, "-c", code],
        env={**os.environ, "BOOTSTRAP_ENV": str(target)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no ensurepip here" in result.stderr
    assert re.search(r"\d+\.\d+", result.stdout + result.stderr)  # nox --version
    assert subprocess.run([target / "bin" / "python", "-c", "import nox"]).returncode == 0
    # the interpreter that ran it is untouched: still no pip
    assert subprocess.run([bare_python, "-m", "pip", "--version"], capture_output=True).returncode
