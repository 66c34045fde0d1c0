"""The database schema, created or migrated idempotently at start-up.

Where results live: the output image (a small PNG thumbnail, a few KB) is stored in Postgres in
``job_results``, written in the same transaction that marks the job DONE, so a result exists
exactly when its job is DONE. ``jobs`` keeps its size and SHA-256 for quick checks.

``job_events`` is an append-only audit trail of every transition (claimed, done, retry, failed,
requeued ...), with the attempt and worker: the evidence the chaos checker shows per job.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from system.db import Database
from system.retry import Backoff

log = logging.getLogger("system.schema")

SCHEMA_LOCK_ID = 7_316_000

STATEMENTS = [
    """
    CREATE TABLE IF NOT EXISTS jobs (
        id BIGSERIAL PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'PENDING',
        image_url TEXT NOT NULL,
        idempotency_key TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at TIMESTAMPTZ,
        retry_at TIMESTAMPTZ,
        last_error TEXT,
        completions INTEGER NOT NULL DEFAULT 0,
        result_size INTEGER,
        result_sha256 TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        enqueued_at TIMESTAMPTZ,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
    )
    """,
    # Migrations of older tables: every column added later is listed here too.
    "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS idempotency_key TEXT",
    "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS completions INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS retry_at TIMESTAMPTZ",
    "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS enqueued_at TIMESTAMPTZ",
    "CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency_key ON jobs (idempotency_key)",
    "CREATE INDEX IF NOT EXISTS jobs_active ON jobs (status, id) "
    "WHERE status IN ('PENDING', 'PROCESSING', 'RETRY')",
    """
    DO $$ BEGIN
        ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN
            ('PENDING', 'PROCESSING', 'RETRY', 'DONE', 'FAILED', 'CANCELLED'));
    EXCEPTION WHEN duplicate_object THEN NULL; END $$
    """,
    """
    CREATE TABLE IF NOT EXISTS job_results (
        job_id BIGINT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        data BYTEA NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS job_events (
        id BIGSERIAL PRIMARY KEY,
        job_id BIGINT NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        kind TEXT NOT NULL,
        attempt INTEGER,
        worker TEXT,
        detail TEXT
    )
    """,
    "CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id)",
]


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if the server does not have it yet."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        conn = psycopg2.connect(admin_url, connect_timeout=3)
    except psycopg2.OperationalError:
        return  # no access to the maintenance db: assume the database is provisioned
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    log.info("Created database %s", name)
                except psycopg2.errors.DuplicateDatabase:
                    pass
    finally:
        conn.close()


def migrate(db: Database) -> None:
    """Create or upgrade every table; safe to run from many processes at once."""

    def apply(cur) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
        for statement in STATEMENTS:
            cur.execute(statement)

    db.execute(apply, atomic=True)


def prepare(db: Database, stop: threading.Event | None = None) -> None:
    """Wait for the server (creating the database if it is missing), then migrate."""
    backoff = Backoff()
    while True:
        try:
            migrate(db)
            return
        except psycopg2.OperationalError as exc:
            if "does not exist" in str(exc) and backoff.failures == 0:
                ensure_database(db.url)
            delay = backoff.next_delay()
            log.warning("DB connection lost, reconnecting... (start-up: %s)", str(exc).strip())
            if stop is not None and stop.wait(delay):
                raise
            if stop is None:
                time.sleep(delay)
