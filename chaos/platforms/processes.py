"""Child processes for the local platform: start, signal and wait, logging to a file.

Each service runs in its own session (process group), so a kill takes the whole service down
at once, as a container or pod kill would (Postgres's backends die with the postmaster).
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path

from chaos.errors import PlatformError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise PlatformError(f"timed out after {timeout:g} s waiting for {what}")


def unprivileged_user() -> pwd.struct_passwd | None:
    """The user to run servers as when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PlatformError("running as root, but there is no 'postgres' or 'nobody' user")


def make_traversable(path: Path) -> None:
    """Let an unprivileged server user reach ``path``: add o+x to ancestors that lack it."""
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & 0o001:
            os.chmod(folder, mode | 0o001)


def chown_tree(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


class Process:
    """One running service process (and its process group)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        user: pwd.struct_passwd | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.user = user
        self.cwd = cwd
        self.popen: subprocess.Popen | None = None
        self.paused = False

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid} alive={self.alive()}>"

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                user=self.user.pw_uid if self.user else None,
                group=self.user.pw_gid if self.user else None,
            )
        except OSError as exc:
            raise PlatformError(f"cannot start {self.name} ({self.argv[0]}): {exc}") from None
        finally:
            log.close()
        self.paused = False

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL the whole process group and wait until it is gone."""
        if self.popen is None:
            return
        self.signal(signal.SIGKILL)
        self._wait(timeout)
        self._wait_group_gone(timeout)

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL. Returns the exit code."""
        if self.popen is None:
            return None
        if self.paused:
            self.resume()
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.returncode

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.paused = False

    def _wait(self, timeout: float) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PlatformError(f"{self.name} (pid {self.pid}) did not die") from None

    def _wait_group_gone(self, timeout: float) -> None:
        pgid = self.popen.pid

        def gone() -> bool:
            try:
                os.killpg(pgid, 0)
                return False
            except ProcessLookupError:
                return True
            except PermissionError:
                return False

        wait_until(gone, timeout, f"every process of {self.name} to exit")
