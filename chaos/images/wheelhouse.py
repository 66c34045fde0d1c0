"""The wheelhouse: every Python package the images need, built on the host with `pip wheel`.

Images install from it with ``pip install --no-index``, so a build never reaches PyPI. Two
folders, so Docker's layer cache keeps the dependency layer while only the project changes:

    docker/wheelhouse/deps/     third-party wheels (replaced only when the set changes)
    docker/wheelhouse/project/  this project's own wheel (rebuilt every time)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from chaos.errors import PlatformError

PIP_TIMEOUT = 900.0


def project_wheel_name(path: Path) -> bool:
    return path.name.startswith("image_jobs_chaos-")


def build_wheelhouse(root: Path, dest: Path) -> tuple[int, int]:
    """Fill ``dest`` with the project's wheel and its dependencies; return (deps, changed deps)."""
    deps_dir, project_dir = dest / "deps", dest / "project"
    deps_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheelhouse-", dir=dest) as tmp:
        staged = Path(tmp)
        _pip("wheel", "--no-deps", "--wheel-dir", str(staged / "project"), str(root))
        (wheel,) = (staged / "project").glob("*.whl")
        # Offline first (the cached deps suffice when requirements did not change), then PyPI.
        common = ["wheel", "--find-links", str(deps_dir), "--wheel-dir", str(staged / "deps"), str(wheel)]
        if not _pip(*common[:1], "--no-index", *common[1:], check=False):
            _pip(*common)
        for built in (staged / "deps").glob("*.whl"):
            if project_wheel_name(built):
                built.unlink()
        changed = _replace_if_different(staged / "deps", deps_dir)
        shutil.rmtree(project_dir, ignore_errors=True)
        shutil.move(str(staged / "project"), project_dir)
    return len(list(deps_dir.glob("*.whl"))), changed


def _replace_if_different(new: Path, current: Path) -> int:
    """Swap ``current`` for ``new`` unless they hold the same wheels (keeps Docker's cache warm)."""
    def inventory(folder: Path) -> dict[str, int]:
        return {p.name: p.stat().st_size for p in folder.glob("*.whl")}

    old_set, new_set = inventory(current), inventory(new)
    if old_set == new_set:
        return 0
    shutil.rmtree(current)
    shutil.move(str(new), current)
    return len(set(old_set.items()) ^ set(new_set.items()))


def _pip(*args: str, check: bool = True) -> bool:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    if result.returncode != 0 and check:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise PlatformError(f"pip {args[0]} failed:\n{tail}")
    return result.returncode == 0
