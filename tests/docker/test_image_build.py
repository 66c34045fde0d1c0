"""Pure logic of the image build: apt mirrors, debootstrap, wheelhouse completeness."""

from __future__ import annotations

import zipfile
from pathlib import Path

from chaos.images.debian import Mirrors, debootstrap_args, find_mirrors, sources_list
from chaos.images.wheelhouse import host_matches, missing_requirements, target_tag_args

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""
NODESOURCE = "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n"


def test_the_mirror_is_read_from_deb822_sources():
    assert find_mirrors([NODESOURCE, DEB822]) == Mirrors(
        "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"
    )


def test_the_mirror_is_read_from_one_line_sources_with_options():
    text = (
        "# a comment\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n"
        "deb http://mirror.example/security bookworm-security main\n"
    )
    assert find_mirrors([text]) == Mirrors(
        "http://mirror.example/debian", "http://mirror.example/security"
    )


def test_without_sources_the_default_debian_mirror_is_used():
    assert find_mirrors([]) == Mirrors("http://deb.debian.org/debian", None)


def test_the_image_gets_the_same_mirrors_and_debootstrap_a_minimal_system():
    text = sources_list(Mirrors("http://m/debian", "http://m/security"))
    assert text.splitlines() == [
        "deb http://m/debian bookworm main",
        "deb http://m/debian bookworm-updates main",
        "deb http://m/security bookworm-security main",
    ]
    args = debootstrap_args(Path("/tmp/rootfs"), "http://m/debian")
    assert args[:2] == ["debootstrap", "--variant=minbase"]
    assert args[-3:] == ["bookworm", "/tmp/rootfs", "http://m/debian"]


def make_wheel(folder: Path, name: str, requires: list[str]) -> Path:
    path = folder / f"{name}-1.0-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + "\nA description.\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA", metadata)
    return path


OLD_PYTHON = {
    "python_full_version": "3.11.2",
    "python_version": "3.11",
    "sys_platform": "linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "os_name": "posix",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "platform_release": "",
    "platform_version": "",
    "implementation_version": "3.11.2",
}


def test_a_requirement_only_the_images_python_needs_is_reported_missing(tmp_path):
    wheels = [
        make_wheel(tmp_path, "redis", ['async-timeout>=4.0.3; python_full_version < "3.11.3"']),
        make_wheel(tmp_path, "fastapi", ["starlette>=0.40", 'email-validator; extra == "all"']),
        make_wheel(tmp_path, "starlette", []),
    ]
    assert missing_requirements(wheels, OLD_PYTHON) == ["async-timeout>=4.0.3"]
    newer = {**OLD_PYTHON, "python_full_version": "3.11.7"}
    assert missing_requirements(wheels, newer) == []


def test_requirement_names_are_compared_canonically(tmp_path):
    wheels = [
        make_wheel(tmp_path, "app", ["Typing.Extensions"]),
        make_wheel(tmp_path, "typing_extensions", []),
    ]
    assert missing_requirements(wheels, OLD_PYTHON) == []


def test_wheels_for_another_python_or_cpu_are_downloaded_for_the_targets_tags():
    target = {
        **OLD_PYTHON,
        "python_version": "3.12",
        "platform_machine": "aarch64",
        "glibc": "2.36",
    }
    args = target_tag_args(target)
    assert "--only-binary=:all:" in args
    assert args[args.index("--python-version") + 1] == "312"
    platforms = [args[i + 1] for i, arg in enumerate(args) if arg == "--platform"]
    assert platforms[0] == "manylinux_2_36_aarch64"
    assert {"manylinux_2_17_aarch64", "manylinux2014_aarch64", "manylinux_2_5_aarch64"} <= set(
        platforms
    )
    assert "manylinux_2_37_aarch64" not in platforms


def test_the_host_builds_wheels_itself_only_for_its_own_python_and_cpu():
    import platform
    import sys

    here = {
        **OLD_PYTHON,
        "sys_platform": sys.platform,
        "platform_machine": platform.machine(),
        "python_version": "{}.{}".format(*sys.version_info[:2]),
    }
    assert host_matches(here)
    assert not host_matches({**here, "python_version": "2.7"})
    assert not host_matches({**here, "platform_machine": "s390x"})
