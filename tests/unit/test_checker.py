"""The checker on hand-built histories: every violation type is detected, and a clean history
passes. Jobs are plain dicts shaped like the rows the runner reads from Postgres."""

from __future__ import annotations

import pytest

from chaos.checker import FinalState, check
from chaos.fixtures.images import expected_result
from chaos.history import FAIL, OK, UNKNOWN, Operation, Submission
from chaos.scenario import Expect

GOOD = expected_result("small.jpg")


def sub(key: str, *outcomes: tuple[str, int | None]) -> Submission:
    submission = Submission(key, "images/small.jpg")
    for n, (outcome, job_id) in enumerate(outcomes, 1):
        submission.ops.append(
            Operation(
                f"{key}#{n}",
                key,
                "images/small.jpg",
                100.0 + n,
                101.0 + n,
                outcome,
                202 if outcome == OK else None,
                job_id,
            )
        )
    return submission


def job(
    job_id: int,
    key: str | None,
    status: str = "DONE",
    completions: int = 1,
    attempts: int = 1,
    sha: str = GOOD.sha256,
    size: int = GOOD.size,
    finished: float | None = 110.0,
) -> dict:
    query = f"?sub={key}" if key else ""
    return {
        "id": job_id,
        "status": status,
        "image_url": f"http://f/images/small.jpg{query}",
        "attempts": attempts,
        "completions": completions if status == "DONE" else 0,
        "result_sha256": sha if status == "DONE" else None,
        "result_size": size if status == "DONE" else None,
        "last_error": None,
        "created_at": 100.0,
        "started_at": 100.5,
        "finished_at": finished if status in ("DONE", "FAILED") else None,
    }


def verdict(submissions, jobs, faults=(), expect=Expect()):
    return check({s.key: s for s in submissions}, FinalState(list(jobs), {}), list(faults), expect)


def kinds(result) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for v in result.violations:
        found.setdefault(v.kind, []).extend(v.job_ids)
    return found


def test_a_clean_history_passes():
    result = verdict([sub("a", (OK, 1)), sub("b", (OK, 2))], [job(1, "a"), job(2, "b")])
    assert result.result == "pass" and result.exit_code == 0
    assert result.violations == []
    assert result.counts["done"] == 2


def test_an_acknowledged_job_that_never_finished_is_lost():
    result = verdict([sub("a", (OK, 1))], [job(1, "a", status="PROCESSING")])
    assert kinds(result) == {"lost": [1], "stuck": [1]}
    assert result.exit_code == 1


def test_an_acknowledged_job_missing_from_the_database_is_lost():
    result = verdict([sub("a", (OK, 5))], [])
    assert "lost" in kinds(result)
    assert "not in the database" in result.violations[0].message


def test_two_jobs_for_one_submission_are_duplicated():
    result = verdict([sub("a", (UNKNOWN, None), (OK, 2))], [job(1, "a"), job(2, "a")])
    assert kinds(result) == {"duplicated": [1, 2]}


def test_a_result_committed_twice_is_duplicated():
    result = verdict([sub("a", (OK, 1))], [job(1, "a", completions=2, attempts=2)])
    assert kinds(result) == {"duplicated": [1]}
    assert result.counts["redeliveries"] == 1


def test_a_job_nobody_submitted_is_unexpected():
    result = verdict([sub("a", (OK, 1))], [job(1, "a"), job(2, "zzz"), job(3, None)])
    assert sorted(kinds(result)["unexpected"]) == [2, 3]


def test_a_refused_submission_that_still_made_a_job_is_unexpected():
    result = verdict([sub("a", (FAIL, None))], [job(1, "a")])
    assert kinds(result) == {"unexpected": [1]}


def test_an_unknown_submission_that_landed_is_recovered_not_a_violation():
    result = verdict([sub("a", (UNKNOWN, None)), sub("b", (OK, 2))], [job(1, "a"), job(2, "b")])
    assert result.result == "pass"
    assert result.counts["recovered"] == 1


def test_a_dead_lettered_job_is_failed():
    result = verdict([sub("a", (OK, 1))], [job(1, "a", status="FAILED")])
    assert kinds(result) == {"failed": [1]}


def test_a_wrong_result_is_caught_by_the_known_fixture_output():
    result = verdict([sub("a", (OK, 1))], [job(1, "a", sha="0" * 64)])
    assert kinds(result) == {"wrong_output": [1]}


def test_a_killed_workers_job_finished_too_late_is_slow_recovery():
    fault = {
        "index": 0,
        "action": "kill",
        "target": "busy-worker",
        "service": "worker-0",
        "started": 104.0,
        "effective": 105.0,
        "healed": 106.0,
        "jobs_in_flight": [1],
        "ok": True,
    }
    expect = Expect(killed_jobs_done_within=3)
    late = verdict([sub("a", (OK, 1))], [job(1, "a", finished=120.0)], [fault], expect)
    assert kinds(late) == {"slow_recovery": [1]}
    on_time = verdict([sub("a", (OK, 1))], [job(1, "a", finished=107.0)], [fault], expect)
    assert on_time.result == "pass"


def test_recovery_time_is_measured_from_the_heal_to_the_next_completion():
    fault = {
        "index": 0,
        "action": "restart",
        "target": "redis",
        "service": "redis",
        "started": 100.0,
        "effective": 100.1,
        "healed": 101.0,
        "ok": True,
    }
    jobs = [job(1, "a", finished=104.0), job(2, "b", finished=102.5)]
    result = verdict(
        [sub("a", (OK, 1)), sub("b", (OK, 2))], jobs, [fault], Expect(recovery_within=1.0)
    )
    (recovery,) = result.recoveries
    assert recovery["flowing_after_heal"] == pytest.approx(1.5)
    assert {e["name"]: e["ok"] for e in result.expectations}["recovery_within"] is False


def test_a_fault_that_did_not_work_makes_a_passing_verdict_unknown():
    fault = {
        "index": 0,
        "action": "kill",
        "target": "redis",
        "ok": False,
        "error": "redis still answers after kill",
    }
    result = verdict([sub("a", (OK, 1))], [job(1, "a")], [fault])
    assert result.result == "unknown" and result.exit_code == 2
    assert "still answers" in result.notes[0]


def test_nothing_acknowledged_means_nothing_was_tested():
    result = verdict([sub("a", (UNKNOWN, None))], [])
    assert result.result == "unknown"
