"""The wheelhouse: every Python package the images need, built on the host with `pip wheel`.

Images install from it with ``pip install --no-index``, so a build never reaches PyPI. Two
folders, so Docker's layer cache keeps the dependency layer while only the project changes:

    docker/wheelhouse/deps/     third-party wheels (replaced only when the set changes)
    docker/wheelhouse/project/  this project's own wheel (rebuilt every time)
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from chaos.errors import PlatformError

try:
    from packaging.requirements import Requirement
except ImportError:  # pragma: no cover - pip always vendors it
    from pip._vendor.packaging.requirements import Requirement

PIP_TIMEOUT = 900.0

# Prints the target interpreter's PEP 508 marker environment (what packaging.markers evaluates).
MARKER_ENV_SCRIPT = """\
import json, os, platform, sys
info = sys.implementation.version
version = f"{info.major}.{info.minor}.{info.micro}"
print(json.dumps({
    "implementation_name": sys.implementation.name, "implementation_version": version,
    "os_name": os.name, "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(), "platform_system": platform.system(),
    "platform_version": platform.version(), "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]), "sys_platform": sys.platform,
    "glibc": platform.libc_ver()[1] or "2.17",
}))
"""


def project_wheel_name(path: Path) -> bool:
    return path.name.startswith("image_jobs_chaos-")


def build_wheelhouse(root: Path, dest: Path, target: Mapping[str, str]) -> tuple[int, int]:
    """Fill ``dest`` with the project's wheel and its dependencies; return (deps, changed deps).

    ``target`` is the image interpreter's marker environment (``MARKER_ENV_SCRIPT``). When the
    host runs the same Python on Linux and the same CPU, `pip wheel` builds the wheelhouse;
    otherwise (a Mac, another Python) `pip download` fetches binary wheels for the target's tags.
    pip evaluates markers for the host either way, so requirements only the target needs
    (async-timeout on Python < 3.11.3) are added afterwards.
    """
    deps_dir, project_dir = dest / "deps", dest / "project"
    deps_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheelhouse-", dir=dest) as tmp:
        staged = Path(tmp)
        _pip("wheel", "--no-deps", "--wheel-dir", str(staged / "project"), str(root))
        (wheel,) = (staged / "project").glob("*.whl")
        if host_matches(target):
            fetch = ["wheel", "--wheel-dir", str(staged / "deps")]
        else:
            fetch = ["download", "--dest", str(staged / "deps"), *target_tag_args(target)]
        fetch += ["--find-links", str(deps_dir)]
        # Offline first (the cached deps suffice when requirements did not change), then PyPI.
        if not _pip(*fetch, "--no-index", str(wheel), check=False):
            _pip(*fetch, str(wheel))
        for built in (staged / "deps").glob("*.whl"):
            if project_wheel_name(built):
                built.unlink()
        for _ in range(5):
            missing = missing_requirements([wheel, *(staged / "deps").glob("*.whl")], target)
            if not missing:
                break
            _pip(*fetch, *missing)
        changed = _replace_if_different(staged / "deps", deps_dir)
        shutil.rmtree(project_dir, ignore_errors=True)
        shutil.move(str(staged / "project"), project_dir)
    return len(list(deps_dir.glob("*.whl"))), changed


def host_matches(target: Mapping[str, str]) -> bool:
    """Wheels built here install in the target: same OS, CPU and Python minor version."""
    return (
        sys.platform == target["sys_platform"]
        and platform.machine() == target["platform_machine"]
        and "{}.{}".format(*sys.version_info[:2]) == target["python_version"]
    )


def target_tag_args(target: Mapping[str, str]) -> list[str]:
    """`pip download` options selecting binary wheels for the target interpreter and glibc."""
    version = target["python_version"].replace(".", "")
    machine = target["platform_machine"]
    major, minor = (int(part) for part in target.get("glibc", "2.17").split(".")[:2])
    # pip does not widen manylinux_2_N to older glibc versions itself: list them all.
    platforms = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    platforms += [f"{name}_{machine}" for m, name in legacy.items() if m <= minor]
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", version]
    args += ["--abi", f"cp{version}", "--abi", "abi3", "--abi", "none"]
    return args + [arg for tag in platforms for arg in ("--platform", tag)]


def missing_requirements(wheels: list[Path], target: Mapping[str, str]) -> list[str]:
    """Requirements of ``wheels`` that apply on ``target`` but no wheel in the list provides."""
    present = {_canonical(w.name.split("-", 1)[0]) for w in wheels}
    missing: dict[str, str] = {}
    for wheel in wheels:
        for line in _requires_dist(wheel):
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({**target, "extra": ""}):
                continue
            name = _canonical(requirement.name)
            if name not in present:
                requirement.marker = None
                missing.setdefault(name, str(requirement))
    return sorted(missing.values())


def _requires_dist(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode("utf-8", "replace")
    header = metadata.split("\n\n", 1)[0]
    return [
        line.split(":", 1)[1].strip()
        for line in header.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False
    )
    if result.returncode != 0 and check:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise PlatformError(f"pip {args[0]} failed:\n{tail}")
    return result.returncode == 0
