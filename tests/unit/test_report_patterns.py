"""The pattern line of the violations overview, on hand-built violations."""

from __future__ import annotations

from chaos.report.patterns import pattern

T0 = 1000.0


def violation(job: int, times: list[float], workers: list[str]) -> dict:
    events = [{"at": T0 + t, "kind": "done", "worker": w} for t, w in zip(times, workers)]
    return {"kind": "duplicated", "job_ids": [job], "evidence": {"events": {str(job): events}}}


def test_the_pattern_names_the_window_the_workers_and_the_fault_overlapped():
    window = (T0 + 5, T0 + 8, {"index": 2, "action": "pause", "target": "busy-worker"})
    found = [violation(1, [4.0, 6.1], ["w-0", "w-1"]), violation(2, [6.5, 7.2], ["w-1", "w-1"])]
    assert pattern(found, T0, [window]) == (
        "2 of 2 showed between 6.1 and 7.2 s; workers w-0 (1), w-1 (2); "
        "during fault 2 (pause busy-worker) (2 of 2)"
    )


def test_violations_clear_of_every_fault_say_so():
    window = (T0 + 1, T0 + 2, {"index": 0, "action": "kill", "target": "redis"})
    found = [violation(1, [30.2], ["w-0"]), violation(2, [30.2], ["w-1"])]
    assert pattern(found, T0, [window]) == (
        "2 of 2 showed at 30.2 s; workers w-0 (1), w-1 (1); outside every fault window"
    )


def test_without_evidence_the_pattern_says_there_is_none():
    assert pattern([{"kind": "lost", "key": "k"}], T0, []) == "no timing evidence"
