"""Settings: one frozen object, built from the environment, with laptop-friendly defaults.

Every knob is declared once in ``_FIELDS``: its attribute, environment variable, default and
parser. ``Settings.from_env()`` is the only place that reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from system.constants import MAX_DECODED_BYTES
from system.errors import ConfigError

MODES = ("robust", "naive")

# Each removes one protection of the robust system, for the harness's own acceptance test.
MUTATIONS = {
    "no-fencing": "complete a job without checking the attempt (a stale worker can commit)",
    "no-reconciler": "never requeue orphaned PENDING/PROCESSING/RETRY jobs",
    "no-idempotency": "ignore the Idempotency-Key header (a retried submission makes a new job)",
    "early-ack": "acknowledge the queue message before the result is committed",
    "no-lease-expiry": "never take over a job whose worker's lease has expired",
}


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql://postgres@127.0.0.1:5432/job_db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    mode: str = "robust"
    mutations: tuple[str, ...] = ()
    allow_mutations: bool = False
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    db_pool_size: int = 16
    worker_concurrency: int = 4
    lease_seconds: float = 3.0
    job_timeout_seconds: float = 60.0
    max_attempts: int = 5
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    reconcile_interval_seconds: float = 0.5
    pending_grace_seconds: float = 1.0
    orphan_grace_seconds: float = 15.0
    drain_seconds: float = 20.0
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 10.0
    download_deadline_seconds: float = 30.0
    max_download_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_decoded_bytes: int = MAX_DECODED_BYTES
    max_url_length: int = 2048
    allowed_hosts: tuple[str, ...] = ()
    noop: bool = False
    naive_sweep_seconds: float = 30.0
    naive_reconnect_seconds: float = 5.0
    log_level: str = "INFO"
    worker_id: str = field(default="")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); ConfigError if malformed."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, (variable, parse) in _FIELDS.items():
            if variable in env:
                try:
                    values[name] = parse(env[variable])
                except ValueError as exc:
                    raise ConfigError(f"{variable}={env[variable]!r}: {exc}") from None
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def with_changes(self, **changes: Any) -> Settings:
        settings = replace(self, **changes)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"SYSTEM_MODE={self.mode!r}: expected one of {', '.join(MODES)}")
        unknown = [m for m in self.mutations if m not in MUTATIONS]
        if unknown:
            raise ConfigError(
                f"MUTATIONS: unknown mutation {unknown[0]!r}; known: {', '.join(MUTATIONS)}"
            )
        if self.mutations and not self.allow_mutations:
            raise ConfigError(
                f"MUTATIONS={','.join(self.mutations)!r} removes protections and is for testing "
                "only: set ENABLE_TEST_MUTATIONS=1 to allow it"
            )
        if self.mutations and self.mode != "robust":
            raise ConfigError("MUTATIONS apply to SYSTEM_MODE=robust only")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"{f.name}={value!r}: must not be negative")
        if self.lease_seconds <= 0:
            raise ConfigError(f"LEASE_SECONDS={self.lease_seconds!r}: must be positive")
        if self.worker_concurrency < 1:
            raise ConfigError(f"WORKER_CONCURRENCY={self.worker_concurrency!r}: must be at least 1")

    def mutated(self, name: str) -> bool:
        return name in self.mutations

    def public(self) -> dict[str, Any]:
        """Settings safe to log: the database URL loses its password."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["database_url"] = _redact(self.database_url)
        return data


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "database_url": ("DATABASE_URL", str),
    "redis_url": ("REDIS_URL", str),
    "mode": ("SYSTEM_MODE", str),
    "mutations": ("MUTATIONS", _csv),
    "allow_mutations": ("ENABLE_TEST_MUTATIONS", _bool),
    "api_host": ("API_HOST", str),
    "api_port": ("API_PORT", int),
    "db_pool_size": ("DB_POOL_SIZE", int),
    "worker_concurrency": ("WORKER_CONCURRENCY", int),
    "lease_seconds": ("LEASE_SECONDS", float),
    "job_timeout_seconds": ("JOB_TIMEOUT_SECONDS", float),
    "max_attempts": ("MAX_ATTEMPTS", int),
    "backoff_base_seconds": ("BACKOFF_BASE_SECONDS", float),
    "backoff_cap_seconds": ("BACKOFF_CAP_SECONDS", float),
    "reconcile_interval_seconds": ("RECONCILE_INTERVAL_SECONDS", float),
    "pending_grace_seconds": ("PENDING_GRACE_SECONDS", float),
    "orphan_grace_seconds": ("ORPHAN_GRACE_SECONDS", float),
    "drain_seconds": ("DRAIN_SECONDS", float),
    "connect_timeout_seconds": ("CONNECT_TIMEOUT_SECONDS", float),
    "read_timeout_seconds": ("READ_TIMEOUT_SECONDS", float),
    "download_deadline_seconds": ("DOWNLOAD_DEADLINE_SECONDS", float),
    "max_download_bytes": ("MAX_DOWNLOAD_BYTES", int),
    "max_pixels": ("MAX_PIXELS", int),
    "max_decoded_bytes": ("MAX_DECODED_BYTES", int),
    "max_url_length": ("MAX_URL_LENGTH", int),
    "allowed_hosts": ("ALLOWED_HOSTS", _csv),
    "noop": ("NOOP_JOBS", _bool),
    "naive_sweep_seconds": ("NAIVE_SWEEP_SECONDS", float),
    "naive_reconnect_seconds": ("NAIVE_RECONNECT_SECONDS", float),
    "log_level": ("LOG_LEVEL", str),
    "worker_id": ("WORKER_ID", str),
}

# Environment variable names, for platforms that pass settings to containers and pods.
ENV_VARS = {name: variable for name, (variable, _) in _FIELDS.items()}
