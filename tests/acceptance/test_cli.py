"""The ``chaos`` command end to end: exit codes, user mistakes, the interactive UI path."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.scenario, pytest.mark.integration]


def chaos(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chaos", *args], capture_output=True, text=True, timeout=timeout
    )


def test_a_bad_scenario_is_a_clear_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - {at: 1, action: kil, target: redis}\n")
    result = chaos("run", str(bad), "--out", str(tmp_path / "runs"))
    assert result.returncode == 4
    assert "faults[0].action" in result.stderr and "'kil'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_an_unknown_mutation_is_refused_by_the_parser(tmp_path):
    result = chaos("run", "steady-load", "--mutation", "no-brakes")
    assert result.returncode == 4
    assert "invalid choice: 'no-brakes'" in result.stderr


def test_a_scenario_runs_end_to_end_and_leaves_its_reports(tmp_path):
    result = chaos("run", "steady-load", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "steady-load: PASS" in result.stdout
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["verdict"]["counts"]["lost"] == 0
    assert verdict["verdict"]["counts"]["done"] > 10
    for name in (
        "history.jsonl",
        "timeline.jsonl",
        "junit.xml",
        "summary.txt",
        "locust.html",
        "logs/api.log",
        "logs/worker-0.log",
    ):
        assert (run_dir / name).exists(), name
    assert (tmp_path / "junit.xml").exists()
    assert not (run_dir / "postgres" / "data").exists()  # passed: the data folder is dropped
    assert (run_dir / "jobs.jsonl").exists()  # the final state stays, for a re-check


def test_the_ui_checks_what_was_submitted_when_stopped(tmp_path):
    ui = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos",
            "ui",
            "--autostart",
            "--out",
            str(tmp_path),
            "--web-port",
            "18089",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(12)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    status = chaos("status", str(run_dir), timeout=60)  # the runbook's manual check
    assert status.returncode == 0, status.stderr
    assert "DONE" in status.stdout and "queue" in status.stdout
    ui.send_signal(signal.SIGINT)
    out, _ = ui.communicate(timeout=120)
    assert ui.returncode == 0, out
    assert "Locust web UI: http://127.0.0.1:18089" in out
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    counts = json.loads((run_dir / "verdict.json").read_text())["verdict"]["counts"]
    assert counts["acknowledged"] > 1 and counts["lost"] == 0


def test_a_scenario_the_platform_cannot_run_is_refused_before_anything_starts(tmp_path):
    result = chaos("run", "redis-partition", "--out", str(tmp_path))
    assert result.returncode == 4
    assert "partition is not supported on local" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]
