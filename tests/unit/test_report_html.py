"""The HTML report and index, rendered from small hand-written run folders."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.report import data as rd
from chaos.report.html import render_index, render_run

T0 = 1_800_000_000.0
EVIL = "<script>alert('x')</script> & \"quotes\""
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
SECTIONS = (
    "verdict",
    "violations",
    "timeline",
    "recovery",
    "jobs",
    "latency",
    "expectations",
    "run",
    "files",
)
COUNT_NAMES = (
    "submitted",
    "acknowledged",
    "done",
    "recovered",
    "redeliveries",
    "jobs",
    "lost",
    "duplicated",
    "unexpected",
    "stuck",
    "failed",
    "wrong_output",
    "slow_recovery",
)


def _lines(path: Path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _meta(run_id: str, started: float, **extra) -> dict:
    meta = {
        "run_id": run_id,
        "scenario": "redis-restart",
        "scenario_path": "scenarios/x.yaml",
        "description": "Restart Redis while jobs flow.",
        "platform": "local",
        "seed": 7,
        "system_mode": "robust",
        "mutations": [],
        "system_env": {},
        "workers": 2,
        "load": {"users": 2, "rate": 4.0},
        "expect": {"max_lost": 0, "drain_within": 30.0},
        "faults": [{"at": 2.0, "action": "kill", "target": "redis", "duration": 1.0}],
        "started": started,
        "finished": started + 20,
        "timings": {"start": 1.0, "load": 10.0, "drain": 0.5, "total": 12.0},
        "exit_code": 0,
        "error": None,
        "replay": "python -m chaos run scenarios/x.yaml --platform local --seed 7",
        "versions": {"python": "3.11.7"},
    }
    meta.update(extra)
    return meta


def _verdict(result: str, violations=(), **counts) -> dict:
    all_counts = {name: 0 for name in COUNT_NAMES}
    all_counts.update({"submitted": 8, "acknowledged": 8, "done": 8, "jobs": 8}, **counts)
    expectations = [
        {
            "name": "max_lost",
            "limit": 0,
            "actual": all_counts["lost"],
            "ok": all_counts["lost"] == 0,
        },
        {"name": "recovery_within", "limit": 5.0, "actual": 0.4, "ok": True},
    ]
    recoveries = [
        {
            "index": 0,
            "fault": "kill redis",
            "took_effect": 0.01,
            "healed_after": 1.02,
            "flowing_after_heal": 0.4,
            "jobs_waiting": True,
        }
    ]
    return {
        "result": result,
        "counts": all_counts,
        "violations": list(violations),
        "expectations": expectations,
        "recoveries": recoveries,
        "notes": [],
    }


def _violation(n: int, kind: str = "lost", message: str | None = None) -> dict:
    job = 100 + n
    return {
        "kind": kind,
        "key": f"r1-u0-{n}",
        "job_ids": [job],
        "message": message or f"acknowledged, never DONE ({job}=PROCESSING)",
        "evidence": {
            "operations": [
                {
                    "op": f"r1-u0-{n}#1",
                    "invoked": T0 + 1.0,
                    "completed": T0 + 1.02,
                    "outcome": "ok",
                    "status": 202,
                    "job_id": job,
                    "error": None,
                }
            ],
            "jobs": [
                {
                    "id": job,
                    "status": "PROCESSING",
                    "attempts": 1,
                    "completions": 0,
                    "image_url": f"http://127.0.0.1:9/images/a.jpg?sub=r1-u0-{n}",
                    "created_at": "2027-01-15T08:00:01+00:00",
                    "started_at": None,
                    "finished_at": None,
                    "last_error": None,
                }
            ],
            "events": {
                str(job): [
                    {
                        "at": T0 + 1.5,
                        "kind": "claimed",
                        "attempt": 1,
                        "worker": "worker-0",
                        "detail": None,
                    }
                ]
            },
        },
    }


@pytest.fixture
def make_run(tmp_path):
    """Writes a run folder under tmp_path/runs: ``full`` adds history, faults, timeline, logs."""

    def make(name: str, data: dict, meta: dict, full: bool = True) -> Path:
        run_dir = tmp_path / "runs" / name
        run_dir.mkdir(parents=True)
        (run_dir / "meta.json").write_text(json.dumps(meta))
        data = {
            "scenario": meta["scenario"],
            "run_dir": str(run_dir),
            "exit_code": meta["exit_code"],
            "timings": meta["timings"],
            "error": meta["error"],
            **data,
            "meta": meta,
        }
        (run_dir / "verdict.json").write_text(json.dumps(data))
        if not full:
            return run_dir
        history = []
        for i in range(8):
            t = T0 + i * 0.5
            history.append(
                {"type": "invoke", "op": f"k{i}#1", "key": f"k{i}", "image": "images/a.jpg", "t": t}
            )
            history.append(
                {
                    "type": "complete",
                    "op": f"k{i}#1",
                    "key": f"k{i}",
                    "t": t + 0.02,
                    "outcome": "ok" if i != 3 else "fail",
                    "status": 202,
                    "job_id": i + 1,
                    "error": None,
                    "latency": 0.02,
                }
            )
        _lines(run_dir / "history.jsonl", history)
        _lines(
            run_dir / "faults.jsonl",
            [
                {
                    "type": "fault",
                    "index": 0,
                    "action": "kill",
                    "target": "redis",
                    "service": "redis",
                    "scheduled": 2.0,
                    "duration": 1.0,
                    "started": T0 + 1.0,
                    "effective": T0 + 1.01,
                    "healed": T0 + 2.03,
                    "identity_before": "11",
                    "identity_after": "12",
                    "jobs_in_flight": [],
                    "ok": True,
                    "error": None,
                }
            ],
        )
        samples = [
            {
                "t": T0 + i * 0.5,
                "counts": {
                    "PENDING": 1,
                    "PROCESSING": 1,
                    "RETRY": 0,
                    "DONE": i,
                    "FAILED": 0,
                    "CANCELLED": 0,
                },
                "queue": 1,
            }
            for i in range(10)
        ]
        samples[3] = {"t": T0 + 1.5, "counts": None, "queue": None}
        _lines(run_dir / "timeline.jsonl", samples)
        (run_dir / "timeline.jsonl").open("a").write('{"t": 18000')  # a torn last line
        (run_dir / "logs").mkdir()
        (run_dir / "logs" / "worker-0.log").write_text("Reconnected to Redis!\n")
        (run_dir / "locust.html").write_text("<html></html>")
        return run_dir

    return make


@pytest.fixture
def three_runs(make_run):
    passed = make_run(
        "20270115-080000-redis-restart-aaaa",
        {"result": "pass", "verdict": _verdict("pass")},
        _meta("20270115-080000-redis-restart-aaaa", T0),
    )
    failing = [_violation(n) for n in range(1, 56)]
    failing.append(_violation(99, "duplicated", EVIL))
    failed = make_run(
        "20270115-090000-redis-restart-bbbb",
        {"result": "fail", "verdict": _verdict("fail", failing, lost=55, duplicated=1)},
        _meta(
            "20270115-090000-redis-restart-bbbb",
            T0 + 3600,
            exit_code=1,
            mutations=["no-reconciler"],
        ),
    )
    error = make_run(
        "20270115-100000-redis-restart-cccc",
        {"result": "error"},
        _meta(
            "20270115-100000-redis-restart-cccc",
            T0 + 7200,
            exit_code=3,
            error=f"platform could not start: {EVIL}",
            timings={},
        ),
        full=False,
    )
    return passed, failed, error


def _no_external_links(page: str) -> None:
    assert not EXTERNAL.findall(page), EXTERNAL.findall(page)[:3]


def test_a_passing_run_has_every_section_an_inline_chart_and_local_links(three_runs):
    page = render_run(three_runs[0]).read_text()
    for section in SECTIONS:
        assert f'id="{section}"' in page
    assert "<svg" in page and "PASS" in page and "No violations." in page
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page  # bare, inline <svg> elements
    assert 'href="locust.html"' in page and 'href="logs/worker-0.log"' in page
    assert "python -m chaos run scenarios/x.yaml --platform local --seed 7" in page
    assert "kill redis" in page and "max_lost" in page and "recovery_within" in page
    assert "Time to drain after the load stopped: <b>0.50 s</b>" in page
    _no_external_links(page)


def test_a_failing_run_lists_each_offending_job_with_its_timeline_and_caps_details(three_runs):
    page = render_run(three_runs[1]).read_text()
    assert "FAIL" in page and "55 lost, 1 duplicated" in page
    assert 'id="v-1"' in page and 'href="#v-1"' in page
    assert "claimed" in page and "by worker-0" in page and "submit attempt #1" in page
    assert "fault #0 kill redis" in page  # the fault that hit the job joins its timeline
    assert "Job timelines for 50 of 56 violations" in page and 'href="verdict.json"' in page
    assert 'id="v-56"' in page  # the only duplicate is kept although it comes last
    assert "FAILED" in page and "no-reconciler" in page
    chart = page[page.index('id="timeline"') : page.index('id="recovery"')]
    markers = [
        v
        for v in json.loads((three_runs[1] / "verdict.json").read_text())["verdict"]["violations"]
        if v.get("evidence", {}).get("events")
    ]
    assert markers  # each violation with audit events is a marker on the chart
    assert f"violation ({len(markers)})" in chart
    assert "pattern" in page
    _no_external_links(page)


def test_every_value_from_the_run_folder_is_escaped(three_runs):
    for run_dir in three_runs[1:]:
        page = render_run(run_dir).read_text()
        assert "<script>alert(" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page


def test_a_run_that_ended_in_a_harness_error_shows_what_exists(three_runs):
    page = render_run(three_runs[2]).read_text()
    assert "ERROR" in page and "Harness error: platform could not start" in page
    assert "No verdict: the checker did not run." in page
    assert "<svg" not in page and 'href="verdict.json"' in page
    for section in SECTIONS:
        assert f'id="{section}"' in page


def test_an_empty_folder_or_broken_files_do_not_crash_the_report(tmp_path):
    (tmp_path / "meta.json").write_text("{not json")
    (tmp_path / "history.jsonl").write_text("")
    (tmp_path / "timeline.jsonl").write_text("garbage\n")
    page = render_run(tmp_path).read_text()
    assert "No history or samples were recorded" in page


def test_the_index_lists_every_run_newest_first_with_links_to_reports(three_runs):
    for run_dir in three_runs:
        render_run(run_dir)
    index = render_index(three_runs[0].parent).read_text()
    positions = [index.index(f'href="{d.name}/report.html"') for d in three_runs]
    assert positions[2] < positions[1] < positions[0]
    assert "3 run(s)" in index and "no-reconciler" in index and "0.40 s" in index
    assert "<script>alert(" not in index
    _no_external_links(index)


def test_chaos_report_renders_each_folder_and_the_index_beside_them(three_runs, capsys):
    assert main(["report", *map(str, three_runs)]) == 0
    assert all((d / "report.html").is_file() for d in three_runs)
    assert (three_runs[0].parent / "index.html").is_file()
    assert "report.html" in capsys.readouterr().out


def test_jobs_file_gives_completions_and_end_to_end_latency(three_runs):
    run_dir = three_runs[0]
    when = datetime.fromtimestamp(T0 + 0.9, tz=timezone.utc)
    jobs = [
        {
            "id": i + 1,
            "status": "DONE",
            "image_url": f"http://h/images/a.jpg?sub=k{i}",
            "attempts": 1,
            "completions": 1,
            "result_sha256": "ab",
            "result_size": 3,
            "last_error": None,
            "created_at": when,
            "started_at": when,
            "finished_at": datetime.fromtimestamp(T0 + i * 0.5 + 0.3, tz=timezone.utc),
        }
        for i in range(8)
    ]
    rd.write_jobs_file(run_dir, jobs)
    first = json.loads((run_dir / "jobs.jsonl").read_text().splitlines()[0])
    assert first["key"] == "k0" and first["finished_at"] == pytest.approx(T0 + 0.3)
    assert "result_sha256" not in first
    run = rd.load_run(run_dir)
    assert sum(rate for _, rate in rd.rates(run)["completions/s"]) == 8
    assert [round(s, 3) for _, s in rd.job_latencies(run)] == [0.3] * 8
    page = render_run(run_dir).read_text()
    assert "Completions/s from jobs.jsonl" in page and "needs jobs.jsonl" not in page


def test_without_jobs_file_completions_come_from_done_count_deltas(three_runs):
    run = rd.load_run(three_runs[0])
    points = rd.rates(run)["completions/s"]
    assert points and all(rate >= 0 for _, rate in points)
    assert rd.job_latencies(run) == []
    assert "needs jobs.jsonl" in render_run(three_runs[0]).read_text()


def test_latencies_are_split_before_during_and_after_fault_windows(three_runs):
    run = rd.load_run(three_runs[0])
    table = rd.latency_table(rd.submit_latencies(run), run.windows())
    assert table["all"]["n"] == 8
    assert (table["before"]["n"], table["during"]["n"], table["after"]["n"]) == (3, 2, 3)
    assert list(rd.latency_table(rd.submit_latencies(run), [])) == ["all"]  # no faults, no split
    assert rd.percentiles([1.0, 2.0, 3.0, 4.0])["p50"] == 2.0
    assert rd.percentiles([]) is None


def test_latency_is_split_by_outcome_so_fast_refusals_do_not_hide_slow_successes(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "meta.json").write_text(json.dumps(_meta("r", T0)))
    history = []
    for i in range(6):  # three slow successes, three instant refusals
        ok = i % 2 == 0
        history += [
            {"type": "invoke", "op": f"k{i}#1", "key": f"k{i}", "t": T0 + i},
            {
                "type": "complete",
                "op": f"k{i}#1",
                "key": f"k{i}",
                "t": T0 + i + (2.0 if ok else 0.001),
                "outcome": "ok" if ok else "fail",
            },
        ]
    _lines(run / "history.jsonl", history)
    html = render_run(run).read_text()
    latency = html[html.index('id="latency"') :]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", latency, re.S)
    cells = [re.sub(r"<[^>]+>", "|", row) for row in rows]
    ok_row = next(c for c in cells if "|ok|" in c)
    fail_row = next(c for c in cells if "|fail|" in c)
    assert "|3|" in ok_row and "2.000" in ok_row
    assert "|3|" in fail_row and "2.000" not in fail_row


def test_the_fault_plan_beside_the_timeline_shows_what_really_happened(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "meta.json").write_text(json.dumps(_meta("r", T0)))
    _lines(run / "history.jsonl", [{"type": "invoke", "op": "k#1", "key": "k", "t": T0}])
    faults = [
        {
            "type": "fault",
            "index": 0,
            "action": "kill",
            "target": "redis",
            "service": "redis",
            "started": T0 + 2,
            "effective": T0 + 2.5,
            "healed": T0 + 4.5,
            "ok": True,
        },
        {
            "type": "fault",
            "index": 1,
            "action": "pause",
            "target": "api",
            "service": "api",
            "started": T0 + 6,
            "ok": False,
            "error": "api still answers after pause",
        },
    ]
    _lines(run / "faults.jsonl", faults)
    html = render_run(run).read_text()
    plan = html[html.index("Fault plan, as it happened") : html.index('id="recovery"')]
    text = re.sub(r"<[^>]+>", "|", plan)
    assert "|0||2.5 s||kill redis||redis||2.00 s||ok|" in text
    assert "error: api still answers after pause" in text
    assert plan.count('class="bad"') == 1
