"""A minimal Debian image without a registry: debootstrap a root filesystem and `docker import` it.

The mirror is the one this machine's apt already uses (``/etc/apt/sources.list`` and
``/etc/apt/sources.list.d/``), so the image builds wherever ``apt-get install`` works. The root
filesystem gets the tweaks the official ``debian:bookworm-slim`` image has: no documentation or
translations, no recommended packages, no service starts during package installs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chaos.errors import PlatformError
from chaos.images.tags import DEBIAN_SUITE, DEFAULT_MIRROR
from chaos.platforms.docker_cli import DockerCLI

APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
DEBOOTSTRAP_TIMEOUT = 1200.0

# Files written into the root filesystem before it is imported.
_TWEAKS = {
    "usr/sbin/policy-rc.d": "#!/bin/sh\n# No service starts while images are built.\nexit 101\n",
    "etc/apt/apt.conf.d/docker-slim": (
        'APT::Install-Recommends "false";\n'
        'APT::Install-Suggests "false";\n'
        'Acquire::Languages "none";\n'
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
    ),
    "etc/dpkg/dpkg.cfg.d/docker-slim": (
        "path-exclude /usr/share/doc/*\n"
        "path-include /usr/share/doc/*/copyright\n"
        "path-exclude /usr/share/man/*\n"
        "path-exclude /usr/share/info/*\n"
        "path-exclude /usr/share/locale/*\n"
        "path-exclude /usr/share/lintian/*\n"
    ),
}
_ONE_LINE = re.compile(r"deb\s+(\[[^\]]*\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)")
_PRUNE = (
    "var/lib/apt/lists",
    "var/cache/apt",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)


@dataclass(frozen=True)
class Mirrors:
    debian: str
    security: str | None


def find_mirrors(texts: list[str], suite: str = DEBIAN_SUITE) -> Mirrors:
    """The Debian and security mirror URIs in apt sources (one-line or deb822 format)."""
    debian: str | None = None
    security: str | None = None
    for uri, suites in _entries(texts):
        if suite in suites and debian is None:
            debian = uri
        if f"{suite}-security" in suites and security is None:
            security = uri
    return Mirrors(
        debian=(debian or DEFAULT_MIRROR).rstrip("/"), security=security and security.rstrip("/")
    )


def _entries(texts: list[str]) -> list[tuple[str, list[str]]]:
    entries: list[tuple[str, list[str]]] = []
    for text in texts:
        stanza: dict[str, str] = {}
        for raw in [*text.splitlines(), ""]:
            line = raw.split("#", 1)[0].strip()
            one_line = _ONE_LINE.match(line)  # deb [options] uri suite components...
            if one_line:
                entries.append((one_line["uri"], [one_line["suite"]]))
            elif ":" in line and not line.startswith("deb"):
                key, value = line.split(":", 1)
                stanza[key.strip().lower()] = value.strip()
            elif not line and stanza:  # a blank line ends a deb822 stanza
                if "deb" in stanza.get("types", "deb").split() and "uris" in stanza:
                    suites = stanza.get("suites", "").split()
                    entries += [(uri, suites) for uri in stanza["uris"].split()]
                stanza = {}
    return entries


def host_mirrors() -> Mirrors:
    texts: list[str] = []
    for source in APT_SOURCES:
        files = (
            sorted(source.glob("*.list")) + sorted(source.glob("*.sources"))
            if source.is_dir()
            else [source]
        )
        texts += [f.read_text(errors="replace") for f in files if f.is_file()]
    return find_mirrors(texts)


def sources_list(mirrors: Mirrors, suite: str = DEBIAN_SUITE) -> str:
    lines = [f"deb {mirrors.debian} {suite} main", f"deb {mirrors.debian} {suite}-updates main"]
    if mirrors.security:
        lines.append(f"deb {mirrors.security} {suite}-security main")
    return "\n".join(lines) + "\n"


def debootstrap_args(rootfs: Path, mirror: str, suite: str = DEBIAN_SUITE) -> list[str]:
    args = ["debootstrap", "--variant=minbase", "--components=main"]
    if KEYRING.exists():
        args.append(f"--keyring={KEYRING}")
    return [*args, suite, str(rootfs), mirror]


def build_debian_image(cli: DockerCLI, tag: str, workdir: Path | None = None) -> None:
    """debootstrap a minimal bookworm and import it as ``tag`` (needs root and debootstrap)."""
    if shutil.which("debootstrap") is None:
        raise PlatformError("debootstrap is not installed: apt-get install -y debootstrap")
    if os.geteuid() != 0:
        raise PlatformError(
            "building the offline Debian base needs root (debootstrap); run as root"
        )
    mirrors = host_mirrors()
    print(f"  debootstrap {DEBIAN_SUITE} from {mirrors.debian}", flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-rootfs-", dir=workdir) as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(debootstrap_args(rootfs, mirrors.debian), "debootstrap")
        (rootfs / "etc/apt/sources.list").write_text(sources_list(mirrors))
        for relative, text in _TWEAKS.items():
            path = rootfs / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (rootfs / "usr/sbin/policy-rc.d").chmod(0o755)
        for relative in _PRUNE:
            shutil.rmtree(rootfs / relative, ignore_errors=True)
            (rootfs / relative).mkdir(parents=True, exist_ok=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
        (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        tar = subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        )
        importer = subprocess.run(
            [
                cli.binary,
                "import",
                "--change",
                'CMD ["bash"]',
                "--change",
                "ENV LANG=C.UTF-8",
                "-",
                tag,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        tar.wait()
        if tar.returncode != 0 or importer.returncode != 0:
            cli.run(["image", "rm", "--force", tag], check=False)  # never cache a broken import
            raise PlatformError(
                f"docker import of the Debian root filesystem failed: {importer.stderr.strip()}"
            )


def _run(args: list[str], what: str) -> None:
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT, check=False
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise PlatformError(f"{what} failed (exit {result.returncode}):\n{tail}")
