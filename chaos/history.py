"""The run's history: every client operation and every fault, as JSON lines.

Client operations are written by the locustfile (another process): an ``invoke`` line before
each request and a ``complete`` line after it, so a request cut off mid-flight still shows up
(as an invoke without completion: outcome unknown). Faults are written by the harness.

    {"type": "invoke",   "op": "u3-17#1", "key": "r1-u3-17", "image": "images/photo.jpg", "t": ...}
    {"type": "complete", "op": "u3-17#1", "key": ..., "t": ..., "outcome": "ok", "status": 202,
     "job_id": 42, "latency": 0.012, "error": null}
    {"type": "fault", ...FaultRecord fields...}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"


@dataclass
class Operation:
    """One submission attempt: an invoke and (maybe) its completion."""

    op: str
    key: str
    image: str
    invoked: float
    completed: float | None = None
    outcome: str = UNKNOWN
    status: int | None = None
    job_id: int | None = None
    error: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.completed is None else self.completed - self.invoked


@dataclass
class Submission:
    """Everything the clients did for one idempotency key."""

    key: str
    image: str
    ops: list[Operation] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(op.outcome == OK for op in self.ops)

    @property
    def definitely_failed(self) -> bool:
        return bool(self.ops) and all(op.outcome == FAIL for op in self.ops)

    @property
    def acked_job_ids(self) -> set[int]:
        return {op.job_id for op in self.ops if op.outcome == OK and op.job_id is not None}


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Parsed JSON lines; a torn last line (the writer was killed) is skipped."""
    if not path.exists():
        return
    with path.open() as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def load_submissions(path: Path) -> dict[str, Submission]:
    submissions: dict[str, Submission] = {}
    ops: dict[str, Operation] = {}
    for record in read_lines(path):
        kind = record.get("type")
        if kind == "invoke":
            op = Operation(record["op"], record["key"], record.get("image", ""), record["t"])
            ops[op.op] = op
            sub = submissions.setdefault(op.key, Submission(op.key, op.image))
            sub.ops.append(op)
        elif kind == "complete" and record.get("op") in ops:
            op = ops[record["op"]]
            op.completed = record["t"]
            op.outcome = record.get("outcome", UNKNOWN)
            op.status = record.get("status")
            op.job_id = record.get("job_id")
            op.error = record.get("error")
    return submissions


def load_faults(path: Path) -> list[dict[str, Any]]:
    return [r for r in read_lines(path) if r.get("type") == "fault"]


class HistoryWriter:
    """Appends records to the history file; one line per record, flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
