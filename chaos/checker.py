"""The checker: compare what clients were told with what the database finally holds.

Every submitted URL carries its idempotency key (``?sub=<key>``), so each job row can be tied to
the submission that made it whatever the system did with the key. Per submission:

- **lost**: acknowledged (a 202), but its job is missing or never reached DONE;
- **duplicated**: one submission made two jobs, two acks named different jobs, or one job's
  result was committed more than once (``completions > 1``);
- **unexpected**: a job no client submitted, or one whose every submission was refused (4xx);
- **stuck**: a job still PENDING/PROCESSING/RETRY when the drain deadline passed;
- **failed**: a job that ended FAILED (a dead letter; fixture images should never fail);
- **wrong_output**: a DONE job whose stored result differs from the fixture's expected result;
- **slow_recovery**: a job held by a killed worker that was not DONE within the deadline.
Informational: **recovered** (an unknown submission that did land) and **redeliveries**.

Violations are data: a ``Verdict`` with evidence per job (its operations and its audit trail).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chaos.fixtures.images import CATALOG, expected_result
from chaos.history import Submission
from chaos.scenario import Expect
from system.constants import ACTIVE_STATES, DONE, FAILED

VIOLATIONS = (
    "lost",
    "duplicated",
    "unexpected",
    "stuck",
    "failed",
    "wrong_output",
    "slow_recovery",
)
PASS, FAIL_VERDICT, UNKNOWN = "pass", "fail", "unknown"
EXIT_CODES = {PASS: 0, FAIL_VERDICT: 1, UNKNOWN: 2}


@dataclass
class Violation:
    kind: str
    key: str | None
    job_ids: list[int]
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    result: str
    counts: dict[str, int]
    violations: list[Violation]
    expectations: list[dict[str, Any]]
    recoveries: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.result]


@dataclass(frozen=True)
class FinalState:
    """What the checker reads from Postgres after the drain."""

    jobs: list[dict[str, Any]]
    events: dict[int, list[dict[str, Any]]]
    noop: bool = False


def submission_key(image_url: str) -> str | None:
    values = parse_qs(urlsplit(image_url).query).get("sub")
    return values[0] if values else None


def check(
    submissions: dict[str, Submission],
    state: FinalState,
    faults: list[dict[str, Any]],
    expect: Expect,
) -> Verdict:
    found: dict[str, list[Violation]] = {kind: [] for kind in VIOLATIONS}
    counts = {
        "submitted": len(submissions),
        "acknowledged": 0,
        "done": 0,
        "recovered": 0,
        "redeliveries": 0,
        "jobs": len(state.jobs),
    }
    by_key: dict[str | None, list[dict]] = defaultdict(list)
    for job in state.jobs:
        by_key[submission_key(job["image_url"])].append(job)
        counts["redeliveries"] += max(0, job["attempts"] - 1)
        if job["status"] == DONE:
            counts["done"] += 1

    def flag(kind: str, sub: Submission | None, jobs: list[dict], message: str) -> None:
        found[kind].append(
            Violation(
                kind,
                sub.key if sub else None,
                sorted(j["id"] for j in jobs),
                message,
                _evidence(sub, jobs, state),
            )
        )

    for key, sub in submissions.items():
        jobs = by_key.pop(key, [])
        if sub.acknowledged:
            counts["acknowledged"] += 1
        _check_submission(sub, jobs, flag, counts)
        for job in jobs:
            if job["status"] == DONE and not state.noop:
                _check_output(sub, job, flag)
    for key, jobs in by_key.items():
        flag("unexpected", None, jobs, f"{len(jobs)} job(s) that no client submitted (key {key!r})")
    for job in state.jobs:
        if job["status"] in ACTIVE_STATES:
            sub = submissions.get(submission_key(job["image_url"]) or "")
            flag("stuck", sub, [job], f"job {job['id']} still {job['status']} at the deadline")

    recoveries = measure_recoveries(faults, state.jobs)
    _check_killed_jobs(faults, state, expect, flag)
    for kind in VIOLATIONS:
        counts[kind] = len(found[kind])
    expectations = _expectations(counts, recoveries, expect)
    violations = [v for kind in VIOLATIONS for v in found[kind]]
    result = PASS if all(e["ok"] for e in expectations) else FAIL_VERDICT
    notes = []
    broken = [f for f in faults if not f.get("ok")]
    if broken and result == PASS:
        result = UNKNOWN
        notes += [
            f"fault {f['index']} ({f['action']} {f['target']}) did not work as planned: "
            f"{f.get('error')}"
            for f in broken
        ]
    if counts["acknowledged"] == 0 and not violations:
        result = UNKNOWN
        notes.append("no submission was acknowledged: nothing was tested")
    return Verdict(result, counts, violations, expectations, recoveries, notes)


def _check_submission(sub: Submission, jobs: list[dict], flag, counts: dict[str, int]) -> None:
    if len(jobs) > 1:
        flag("duplicated", sub, jobs, f"one submission made {len(jobs)} jobs")
    for job in jobs:
        if job["completions"] > 1:
            flag(
                "duplicated",
                sub,
                [job],
                f"job {job['id']} was completed {job['completions']} times",
            )
    acked = sub.acked_job_ids
    if len(acked) > 1:
        flag("duplicated", sub, jobs, f"acknowledged as different jobs {sorted(acked)}")
    done = [j for j in jobs if j["status"] == DONE]
    if sub.acknowledged:
        missing = acked - {j["id"] for j in jobs}
        if missing:
            flag("lost", sub, jobs, f"acknowledged job(s) {sorted(missing)} not in the database")
        elif not done:
            states = ", ".join(f"{j['id']}={j['status']}" for j in jobs) or "no job"
            kind = "failed" if jobs and all(j["status"] == FAILED for j in jobs) else "lost"
            flag(kind, sub, jobs, f"acknowledged, never DONE ({states})")
    elif jobs:
        if sub.definitely_failed:
            flag("unexpected", sub, jobs, "every request was refused, yet a job exists")
        elif done:
            counts["recovered"] += 1


def _check_output(sub: Submission, job: dict, flag) -> None:
    name = sub.image.split("/")[-1]
    if name not in CATALOG:
        return
    expected = expected_result(name)
    if job["result_sha256"] != expected.sha256 or job["result_size"] != expected.size:
        flag(
            "wrong_output",
            sub,
            [job],
            f"job {job['id']} stored sha256 {str(job['result_sha256'])[:12]} "
            f"({job['result_size']} bytes); expected {expected.sha256[:12]} "
            f"({expected.size} bytes) for {name}",
        )


def _check_killed_jobs(faults, state: FinalState, expect: Expect, flag) -> None:
    if expect.killed_jobs_done_within is None:
        return
    by_id = {j["id"]: j for j in state.jobs}
    for fault in faults:
        if fault["action"] not in ("kill", "restart") or not fault.get("effective"):
            continue
        for job_id in fault.get("jobs_in_flight", []):
            job = by_id.get(job_id)
            finished = _epoch(job.get("finished_at")) if job else None
            took = None if finished is None else finished - fault["effective"]
            if (
                job
                and job["status"] == DONE
                and took is not None
                and (took <= expect.killed_jobs_done_within)
            ):
                continue
            late = "never" if took is None else f"after {took:.1f} s"
            flag(
                "slow_recovery",
                None,
                [job] if job else [],
                f"job {job_id}, held by {fault['service']} when it was killed, was DONE "
                f"{late} (limit {expect.killed_jobs_done_within:g} s)",
            )


def measure_recoveries(faults: list[dict], jobs: list[dict]) -> list[dict[str, Any]]:
    """Per fault: when it took effect, when it healed, when the next job completed after it."""
    finished = sorted(t for t in (_epoch(j.get("finished_at")) for j in jobs) if t)
    out = []
    for fault in faults:
        healed = fault.get("healed") or fault.get("effective")
        after = next((t for t in finished if healed and t >= healed), None)
        waiting = healed is not None and any(
            (_epoch(j["created_at"]) or 0) <= healed
            and ((_epoch(j.get("finished_at")) or float("inf")) > healed)
            for j in jobs
        )
        out.append(
            {
                "index": fault["index"],
                "fault": f"{fault['action']} {fault.get('service') or fault['target']}",
                "took_effect": _delta(fault.get("started"), fault.get("effective")),
                "healed_after": _delta(fault.get("effective"), fault.get("healed")),
                "flowing_after_heal": _delta(healed, after),
                "jobs_waiting": waiting,
            }
        )
    return out


def _expectations(counts: dict[str, int], recoveries: list[dict], expect: Expect) -> list[dict]:
    checks = [
        (f"max_{kind}", getattr(expect, f"max_{kind}"), counts[kind], "<=")
        for kind in ("lost", "duplicated", "unexpected", "stuck", "failed", "wrong_output")
    ]
    checks.append(("max_slow_recovery", 0, counts["slow_recovery"], "<="))
    checks.append(("min_completed", expect.min_completed, counts["done"], ">="))
    if expect.recovery_within is not None:
        worst = 0.0
        for r in recoveries:
            if r["jobs_waiting"]:
                worst = max(
                    worst,
                    r["flowing_after_heal"]
                    if r["flowing_after_heal"] is not None
                    else float("inf"),
                )
        checks.append(("recovery_within", expect.recovery_within, round(worst, 3), "<="))
    return [
        {
            "name": name,
            "limit": limit,
            "actual": actual,
            "ok": (actual <= limit if op == "<=" else actual >= limit),
        }
        for name, limit, actual, op in checks
    ]


def _evidence(sub: Submission | None, jobs: list[dict], state: FinalState) -> dict[str, Any]:
    return {
        "operations": [
            {
                "op": op.op,
                "invoked": op.invoked,
                "completed": op.completed,
                "outcome": op.outcome,
                "status": op.status,
                "job_id": op.job_id,
                "error": op.error,
            }
            for op in (sub.ops if sub else [])
        ],
        "jobs": [{k: _plain(v) for k, v in job.items()} for job in jobs],
        "events": {job["id"]: state.events.get(job["id"], []) for job in jobs},
    }


def _epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _delta(start, end) -> float | None:
    return None if start is None or end is None else round(end - start, 3)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value
