"""PostgreSQL access: a small thread-safe connection pool that survives server restarts.

``Database.transaction()`` hands out a connection in a transaction and returns it to the pool;
a connection that broke is closed instead. ``Database.retrying(fn)`` runs ``fn(cursor)`` until
the server answers, with capped exponential backoff, for callers whose work is safe to repeat
(every worker and reconciler statement is fenced, so repeating it cannot double anything).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from system.retry import Backoff

log = logging.getLogger("system.db")
T = TypeVar("T")

# Errors that mean "the connection or server went away", as opposed to a bad statement.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)


class Database:
    """A pool of at most ``size`` connections to ``url``."""

    def __init__(self, url: str, size: int = 8, connect_timeout: float = 3.0) -> None:
        self.url = url
        self.size = size
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue[psycopg2.extensions.connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def __repr__(self) -> str:
        return f"<Database pool size={self.size} idle={self._idle.qsize()}>"

    def connect(self) -> psycopg2.extensions.connection:
        conn = psycopg2.connect(
            self.url,
            connect_timeout=max(1, int(self.connect_timeout)),
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
            application_name="image-jobs",
        )
        # One round trip per statement: every single-statement write commits by itself.
        conn.autocommit = True
        return conn

    @contextmanager
    def cursor(self, atomic: bool = False) -> Iterator[psycopg2.extensions.cursor]:
        """A pooled cursor. ``atomic``: its statements run in one transaction (BEGIN/COMMIT);
        otherwise each statement commits on its own, saving two round trips per write."""
        if not self._slots.acquire(timeout=30):
            raise psycopg2.OperationalError("no database connection free within 30 s")
        conn = None
        try:
            conn = self._take()
            with conn.cursor() as cur:
                if atomic:
                    cur.execute("BEGIN")
                yield cur
                if atomic:
                    cur.execute("COMMIT")
        except CONNECTION_ERRORS:
            self._discard(conn)
            conn = None
            raise
        except BaseException:
            if conn is not None and atomic:
                try:
                    conn.cursor().execute("ROLLBACK")
                except CONNECTION_ERRORS:
                    self._discard(conn)
                    conn = None
            raise
        finally:
            if conn is not None:
                self._idle.put(conn)
            self._slots.release()

    def transaction(self):
        """A cursor in a transaction: committed on success, rolled back on error."""
        return self.cursor(atomic=True)

    def execute(self, fn: Callable[[psycopg2.extensions.cursor], T], atomic: bool = False) -> T:
        """Run ``fn(cursor)`` once (in one transaction if ``atomic``)."""
        with self.cursor(atomic) as cur:
            return fn(cur)

    def retrying(
        self,
        fn: Callable[[psycopg2.extensions.cursor], T],
        stop: threading.Event | None = None,
        what: str = "query",
        atomic: bool = False,
    ) -> T:
        """Run ``fn(cursor)`` until the database answers; only for statements safe to repeat."""
        backoff = Backoff()
        while True:
            try:
                result = self.execute(fn, atomic)
            except CONNECTION_ERRORS as exc:
                delay = backoff.next_delay()
                log.warning(
                    "DB connection lost, reconnecting... (%s: %s; retry in %.1f s)",
                    what,
                    _first_line(exc),
                    delay,
                )
                if stop is not None and stop.wait(delay):
                    raise
                if stop is None:
                    time.sleep(delay)
                continue
            if backoff.failures:
                log.info("Reconnected to the database after %d attempts", backoff.failures)
            return result

    def ping(self) -> bool:
        try:
            self.execute(lambda cur: cur.execute("SELECT 1"))
            return True
        except CONNECTION_ERRORS:
            return False

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _take(self) -> psycopg2.extensions.connection:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return self.connect()
            if not conn.closed:
                return conn

    def _discard(self, conn: psycopg2.extensions.connection | None) -> None:
        if conn is None:
            return
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail; nothing to do
            pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
