"""What a report reads from a run folder, and the figures derived from it.

Every file is optional: a run that ended in a harness error has only ``meta.json`` and
``verdict.json``, a torn JSON line is skipped, and each derived figure is empty when its inputs
are missing. Times are epoch seconds throughout; charts and tables make them relative.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chaos.checker import submission_key
from chaos.history import read_lines

JOBS_FILE = "jobs.jsonl"
JOB_COLUMNS = (
    "id",
    "status",
    "image_url",
    "attempts",
    "completions",
    "created_at",
    "started_at",
    "finished_at",
    "last_error",
)
PHASES = ("before", "during", "after")


@dataclass
class RunData:
    """One run folder, read once."""

    run_dir: Path
    meta: dict[str, Any]
    data: dict[str, Any]  # verdict.json: result, exit_code, error, timings, verdict
    history: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] | None = None  # None: no jobs.jsonl

    @property
    def result(self) -> str:
        return self.data.get("result") or ("error" if self.meta.get("error") else "unknown")

    @property
    def verdict(self) -> dict[str, Any]:
        return self.data.get("verdict") or {}

    @property
    def counts(self) -> dict[str, int]:
        return self.verdict.get("counts") or {}

    @property
    def error(self) -> str | None:
        return self.data.get("error") or self.meta.get("error")

    @property
    def t0(self) -> float | None:
        """The origin of relative times: the first request or sample, else the run start."""
        times = [r["t"] for r in self.history[:1] + self.timeline[:1] if is_number(r.get("t"))]
        times += [f["started"] for f in self.faults if is_number(f.get("started"))]
        if times:
            return min(times)
        return self.meta.get("started") if is_number(self.meta.get("started")) else None

    @property
    def t_end(self) -> float | None:
        times = [r["t"] for r in self.history[-1:] + self.timeline[-1:] if is_number(r.get("t"))]
        times += [w[1] for w in self.windows()]
        return max(times) if times else None

    def windows(self) -> list[tuple[float, float, dict[str, Any]]]:
        """Each fault's window: from the moment it took effect to the moment it healed."""
        out = []
        for fault in self.faults:
            start = fault.get("effective") or fault.get("started")
            if not is_number(start):
                continue
            end = fault.get("healed")
            if not is_number(end):
                end = start + float(fault.get("duration") or 0)
            out.append((float(start), max(float(end), float(start)), fault))
        return out


def load_run(run_dir: Path) -> RunData:
    run_dir = Path(run_dir)
    data = read_json(run_dir / "verdict.json")
    meta = read_json(run_dir / "meta.json") or data.get("meta") or {}
    history = sorted(
        (r for r in read_lines(run_dir / "history.jsonl") if is_number(r.get("t"))),
        key=lambda r: r["t"],
    )
    faults = [r for r in read_lines(run_dir / "faults.jsonl") if r.get("type") == "fault"]
    timeline = [r for r in read_lines(run_dir / "timeline.jsonl") if is_number(r.get("t"))]
    jobs_path = run_dir / JOBS_FILE
    jobs = list(read_lines(jobs_path)) if jobs_path.exists() else None
    return RunData(run_dir, meta, data, history, faults, timeline, jobs)


def write_jobs_file(run_dir: Path, jobs: list[dict[str, Any]]) -> Path:
    """Write ``jobs.jsonl``: one line per job row, times as epoch seconds, plus its key."""
    path = Path(run_dir) / JOBS_FILE
    with path.open("w") as handle:
        for job in jobs:
            row = {
                name: to_epoch(job.get(name)) if name.endswith("_at") else job.get(name)
                for name in JOB_COLUMNS
            }
            if row["last_error"]:
                row["last_error"] = str(row["last_error"])[:300]
            row["key"] = submission_key(job.get("image_url") or "")
            handle.write(json.dumps(row, default=str) + "\n")
    return path


# -- rates over time -----------------------------------------------------------------------


def rates(run: RunData, bin_seconds: float = 1.0) -> dict[str, list[tuple[float, float]]]:
    """Per-second series (relative time, rate): submissions, completions and errors.

    All binned series cover the whole run, so a quiet second shows as zero, not as a gap.
    """
    t0, t_end = run.t0, run.t_end
    if t0 is None or t_end is None:
        return {}
    bins = int((t_end - t0) // bin_seconds) + 1
    invokes = [r["t"] for r in run.history if r.get("type") == "invoke"]
    completes = [r for r in run.history if r.get("type") == "complete"]
    errors = [r["t"] for r in completes if r.get("outcome") != "ok"]
    series = {"submissions/s": _binned(invokes, t0, bin_seconds, bins) if invokes else []}
    if run.jobs is not None:
        finished = [
            j["finished_at"]
            for j in run.jobs
            if j.get("status") == "DONE" and is_number(j.get("finished_at"))
        ]
        series["completions/s"] = _binned(finished, t0, bin_seconds, bins)
    else:
        series["completions/s"] = _done_deltas(run.timeline, t0)
    series["errors/s"] = _binned(errors, t0, bin_seconds, bins) if invokes else []
    return {name: points for name, points in series.items() if points}


def _binned(times: list[float], t0: float, width: float, bins: int) -> list[tuple[float, float]]:
    counts = [0] * bins
    for t in times:
        counts[min(bins - 1, max(0, int((t - t0) // width)))] += 1
    return [((i + 0.5) * width, n / width) for i, n in enumerate(counts)]


def _done_deltas(timeline: list[dict[str, Any]], t0: float) -> list[tuple[float, float]]:
    """Completions/s from the DONE count between samples (no jobs.jsonl); gaps are skipped."""
    points, previous = [], None
    for sample in timeline:
        counts = sample.get("counts")
        if not counts or "DONE" not in counts:
            continue
        if previous and sample["t"] > previous[0]:
            rate = max(0, counts["DONE"] - previous[1]) / (sample["t"] - previous[0])
            points.append((sample["t"] - t0, rate))
        previous = (sample["t"], counts["DONE"])
    return points


def gauges(run: RunData) -> dict[str, list[tuple[float, float]]]:
    """Queue depth and jobs in flight per sample; NaN where the store was unreachable."""
    t0 = run.t0
    if t0 is None or not run.timeline:
        return {}
    queue, flight, waiting = [], [], []
    for sample in run.timeline:
        t, counts = sample["t"] - t0, sample.get("counts")
        queue.append((t, _or_nan(sample.get("queue"))))
        flight.append((t, _or_nan(counts and counts.get("PROCESSING"))))
        waiting.append((t, _or_nan(counts and (counts.get("PENDING", 0) + counts.get("RETRY", 0)))))
    return {
        "queue depth": queue,
        "in flight (PROCESSING)": flight,
        "waiting (PENDING+RETRY)": waiting,
    }


def unreachable(run: RunData) -> list[tuple[float, float]]:
    """Relative spans during which the sampler could not read Postgres."""
    t0, spans, start = run.t0, [], None
    if t0 is None:
        return []
    for sample in run.timeline:
        if sample.get("counts") is None and start is None:
            start = sample["t"]
        elif sample.get("counts") is not None and start is not None:
            spans.append((start - t0, sample["t"] - t0))
            start = None
    if start is not None:
        spans.append((start - t0, run.timeline[-1]["t"] - t0))
    return spans


# -- latencies -----------------------------------------------------------------------------


def submit_latencies(run: RunData) -> list[tuple[float, float, str]]:
    """(invoke time, seconds, outcome) for every completed client operation."""
    invoked = {r.get("op"): r["t"] for r in run.history if r.get("type") == "invoke"}
    out = []
    for record in run.history:
        if record.get("type") != "complete" or record.get("op") not in invoked:
            continue
        start = invoked[record["op"]]
        latency = record.get("latency")
        if not is_number(latency):
            latency = record["t"] - start
        out.append((start, float(latency), record.get("outcome") or "unknown"))
    return out


def job_latencies(run: RunData) -> list[tuple[float, float]]:
    """(first invoke, seconds to DONE) per DONE job; empty without jobs.jsonl."""
    if not run.jobs:
        return []
    first: dict[str, float] = {}
    for record in run.history:
        if record.get("type") == "invoke" and record.get("key") not in first:
            first[record.get("key")] = record["t"]
    out = []
    for job in run.jobs:
        key = job.get("key") or submission_key(job.get("image_url") or "")
        if job.get("status") == "DONE" and key in first and is_number(job.get("finished_at")):
            out.append((first[key], job["finished_at"] - first[key]))
    return out


def phase_of(t: float, windows: list[tuple[float, float, Any]]) -> str:
    if not windows or t < min(w[0] for w in windows):
        return "before"
    if any(start <= t <= end for start, end, _ in windows):
        return "during"
    return "after"


def percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
    }


def latency_table(points: list[tuple], windows) -> dict[str, dict[str, float] | None]:
    """Percentiles of all points, and of those started before / during / after faults if any."""
    table = {"all": percentiles([p[1] for p in points])}
    if not windows:
        return table
    for phase in PHASES:
        table[phase] = percentiles([p[1] for p in points if phase_of(p[0], windows) == phase])
    return table


# -- helpers -------------------------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def to_epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(str(value)).timestamp()
        except ValueError:
            return None


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _or_nan(value) -> float:
    return float(value) if is_number(value) else math.nan
