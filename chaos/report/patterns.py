"""What the violations of one kind have in common: when, on which workers, during which fault.

A failing run can have hundreds of violations of one kind; a person needs the pattern ("every
duplicate completed between 30.2 and 31.4 s, on all workers, outside any fault": the 30 s
sweep), not 300 links. The pattern is read from each violation's evidence: the job's audit
events (times, workers) and the fault windows of the run.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

Window = tuple[float, float, dict[str, Any]]


def _events(violation: dict) -> list[dict]:
    evidence = violation.get("evidence") or {}
    return [e for events in (evidence.get("events") or {}).values() for e in events or []]


def moment(violation: dict) -> float | None:
    """When the violation showed: its last audit event, else its last client operation."""
    times = [e["at"] for e in _events(violation) if isinstance(e.get("at"), int | float)]
    if not times:
        ops = (violation.get("evidence") or {}).get("operations") or []
        times = [o["completed"] for o in ops if isinstance(o.get("completed"), int | float)]
    return max(times) if times else None


def _span(violation: dict) -> tuple[float, float] | None:
    times = [e["at"] for e in _events(violation) if isinstance(e.get("at"), int | float)]
    return (min(times), max(times)) if times else None


def pattern(violations: list[dict], t0: float | None, windows: list[Window]) -> str:
    """One line: the time window, the workers involved, and the faults the jobs lived through."""
    parts = []
    moments = [m for m in map(moment, violations) if m is not None]
    if moments and t0 is not None:
        low, high = min(moments) - t0, max(moments) - t0
        when = f"at {low:.1f} s" if high - low < 0.05 else f"between {low:.1f} and {high:.1f} s"
        parts.append(f"{len(moments)} of {len(violations)} showed {when}")
    workers = Counter(
        worker
        for violation in violations
        for worker in {e.get("worker") for e in _events(violation)}
        if worker
    )
    if workers:
        parts.append("workers " + ", ".join(f"{w} ({n})" for w, n in sorted(workers.items())))
    hits: Counter = Counter()
    for violation in violations:
        span = _span(violation)
        if span is None:
            continue
        for start, end, fault in windows:
            if span[0] <= end and start <= span[1]:
                hits[_fault_name(fault)] += 1
    if hits:
        parts.append(
            "during " + ", ".join(f"{name} ({n} of {len(violations)})" for name, n in hits.items())
        )
    elif windows and any(_span(v) for v in violations):
        parts.append("outside every fault window")
    return "; ".join(parts) or "no timing evidence"


def _fault_name(fault: dict) -> str:
    return f"fault {fault.get('index', '?')} ({fault.get('action')} {fault.get('target')})"
