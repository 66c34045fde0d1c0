"""The harness's own acceptance test: it must catch real bugs, and pass the robust system.

For fixed seeds, the naive baseline and each mutation fail the scenario meant to expose them
(exit code 1, with the offending job ids in the verdict), while the robust system passes the
same scenarios with the same seeds. Each case is a whole scenario run (~20-60 s).
"""

from __future__ import annotations

import json

import pytest

from chaos.mutants import CASES, CONTROLS, judged, run_case

pytestmark = [pytest.mark.scenario, pytest.mark.integration]


def case_id(case) -> str:
    return f"{case.name.replace(' ', '-')}:{case.scenario}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_harness_catches_the_bug(case, tmp_path):
    result = run_case(case, tmp_path)
    ok, why = judged(case, result)
    assert ok, why
    assert result.exit_code == 1
    offenders = [v for v in result.verdict.violations if v.kind in case.catches]
    assert offenders and all(v.job_ids for v in offenders)
    saved = json.loads((result.run_dir / "verdict.json").read_text())
    assert {v["kind"] for v in saved["verdict"]["violations"]} & set(case.catches)
    assert (result.run_dir / "postgres" / "data" / "PG_VERSION").exists()  # kept: it failed


@pytest.mark.parametrize("case", CONTROLS, ids=case_id)
def test_the_robust_system_passes_the_same_scenarios(case, tmp_path):
    result = run_case(case, tmp_path)
    ok, why = judged(case, result)
    assert ok, f"{why}\n{(result.run_dir / 'summary.txt').read_text()}"
    assert result.verdict.counts["lost"] == 0 and result.verdict.counts["duplicated"] == 0
    assert not (result.run_dir / "postgres" / "data").exists()  # a passing run drops its data
