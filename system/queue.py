"""The work queue: a small interface and its Redis Streams implementation.

A message carries only a job id; Postgres holds the job. Delivery is at-least-once: a message
stays in the consumer group's pending list until a worker acknowledges it, and a message whose
consumer went quiet is claimed by another (XAUTOCLAIM). Acknowledged messages are deleted, so
the stream holds exactly the jobs that are queued or in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from system.constants import CONSUMER_GROUP, QUEUE_KEY

log = logging.getLogger("system.queue")

# What a lost or restarting Redis raises; callers reconnect with backoff.
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)


@dataclass(frozen=True)
class Message:
    id: str
    job_id: int


class JobQueue(Protocol):
    """What the API, workers and reconciler need from a queue."""

    def enqueue(self, job_ids: Iterable[int]) -> None: ...

    def fetch(self, consumer: str, count: int, block_ms: int) -> list[Message]: ...

    def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Message]: ...

    def ack(self, messages: Iterable[Message]) -> bool: ...

    def depth(self) -> int: ...

    def queued_job_ids(self) -> set[int]: ...


def connect(url: str, socket_timeout: float = 5.0) -> redis.Redis:
    """A client that fails fast: reconnecting is the caller's job, with its own backoff."""
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=min(2.0, socket_timeout),
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


class StreamQueue:
    """Redis Streams with one consumer group: XADD / XREADGROUP / XACK+XDEL / XAUTOCLAIM."""

    def __init__(self, client: redis.Redis, key: str = QUEUE_KEY, group: str = CONSUMER_GROUP):
        self.client = client
        self.key = key
        self.group = group

    def ensure_group(self) -> None:
        """Create the group (and the stream); from id 0 so nothing added before is missed."""
        try:
            self.client.xgroup_create(self.key, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def enqueue(self, job_ids: Iterable[int]) -> None:
        ids = list(job_ids)
        if len(ids) == 1:
            self.client.xadd(self.key, {"job_id": ids[0]})
            return
        with self.client.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.xadd(self.key, {"job_id": job_id})
            pipe.execute()

    def fetch(self, consumer: str, count: int, block_ms: int) -> list[Message]:
        try:
            reply = self.client.xreadgroup(
                self.group, consumer, {self.key: ">"}, count=count, block=block_ms
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis restarted empty: the group went with it.
            log.info("Consumer group missing (Redis restarted?); recreating it")
            self.ensure_group()
            return []
        return [m for _, entries in reply or [] for m in _messages(entries)]

    def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Message]:
        try:
            reply = self.client.xautoclaim(
                self.key,
                self.group,
                consumer,
                min_idle_time=min_idle_ms,
                start_id="0-0",
                count=count,
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.ensure_group()
            return []
        return list(_messages(reply[1]))

    def ack(self, messages: Iterable[Message]) -> bool:
        """Acknowledge and delete the messages; True once Redis has taken it."""
        ids = [m.id for m in messages]
        if ids:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.xack(self.key, self.group, *ids)
                pipe.xdel(self.key, *ids)
                pipe.execute()
        return True

    def depth(self) -> int:
        return int(self.client.xlen(self.key))

    def queued_job_ids(self) -> set[int]:
        """Job ids that have a message in the stream (waiting or delivered, not yet acked)."""
        found: set[int] = set()
        start = "-"
        while True:
            entries = self.client.xrange(self.key, min=start, max="+", count=2000)
            for message in _messages(entries):
                found.add(message.job_id)
            if len(entries) < 2000:
                return found
            start = "(" + _text(entries[-1][0])


def _messages(entries) -> Iterable[Message]:
    for entry_id, fields in entries or []:
        if not fields:  # an entry deleted while pending
            continue
        raw = fields.get(b"job_id") or fields.get("job_id")
        try:
            yield Message(_text(entry_id), int(raw))
        except (TypeError, ValueError):
            log.warning("Dropping malformed queue entry %s: %r", _text(entry_id), fields)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
