"""Prove the harness catches real bugs: run the naive baseline and every mutation against the
scenario meant to expose it, and the robust system against the same scenarios and seeds.

    python -m chaos.mutants [--out runs/mutants] [--seed 1] [--only no-fencing ...]

Prints a table (mutation -> scenario -> violations found -> caught?) and writes it as Markdown
to ``<out>/mutants.md``. Exit code 0 only if every mutant was caught and every control passed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from chaos.cli import SCENARIOS_DIR
from chaos.platforms import make_platform
from chaos.platforms.base import SystemOptions
from chaos.runner import RunOptions, RunResult, run_scenario
from chaos.scenario import load_scenario

SEED = 1


@dataclass(frozen=True)
class Case:
    name: str
    scenario: str
    mode: str = "robust"
    mutations: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    workers: int | None = None  # overrides the scenario's worker count
    catches: tuple[str, ...] = ()  # the violation kinds that prove the bug was seen

    @property
    def control(self) -> bool:
        return self.mode == "robust" and not self.mutations

    def options(self) -> SystemOptions:
        return SystemOptions(self.mode, self.mutations, dict(self.env))


CASES = (
    # One job at a time per naive worker: 12 of them match the robust 3 workers x 4 threads,
    # so the only jobs it loses are the ones held by the killed workers.
    Case("naive baseline", "worker-kill-mid-job", mode="naive", workers=12, catches=("lost",)),
    Case(
        "naive baseline",
        "redis-restart",
        mode="naive",
        env={"NAIVE_SWEEP_SECONDS": "5"},
        catches=("duplicated",),
    ),
    Case("no-fencing", "stale-worker", mutations=("no-fencing",), catches=("duplicated",)),
    Case("no-reconciler", "redis-restart", mutations=("no-reconciler",), catches=("lost", "stuck")),
    Case("no-idempotency", "api-restart", mutations=("no-idempotency",), catches=("duplicated",)),
    Case("early-ack", "worker-kill-mid-job", mutations=("early-ack",), catches=("slow_recovery",)),
    Case(
        "no-lease-expiry",
        "worker-kill-mid-job",
        mutations=("no-lease-expiry",),
        catches=("lost", "stuck"),
    ),
)
CONTROLS = tuple(
    Case("robust (control)", scenario)
    for scenario in dict.fromkeys(case.scenario for case in CASES)
)


def run_case(case: Case, out: Path, seed: int = SEED) -> RunResult:
    scenario = load_scenario(SCENARIOS_DIR / f"{case.scenario}.yaml")
    options = RunOptions(seed=seed, out=out, system=case.options(), workers=case.workers)
    return run_scenario(scenario, options, make_platform)


def judged(case: Case, result: RunResult) -> tuple[bool, str]:
    """(as expected?, why): mutants must fail with one of their violations; controls pass."""
    if result.verdict is None:
        return False, f"harness error: {result.error}"
    counts = result.verdict.counts
    if case.control:
        return result.exit_code == 0, f"verdict {result.verdict.result}"
    seen = [kind for kind in case.catches if counts.get(kind)]
    if result.exit_code == 1 and seen:
        return True, ", ".join(f"{counts[k]} {k}" for k in seen)
    return False, f"not caught (verdict {result.verdict.result}, counts {counts})"


def table(rows: list[tuple[Case, RunResult, bool, str]]) -> str:
    lines = [
        "| system | scenario | verdict | lost | duplicated | stuck | slow recovery | "
        "offending jobs | as expected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case, result, ok, _why in rows:
        counts = result.verdict.counts if result.verdict else {}
        jobs = sorted(
            {j for v in (result.verdict.violations if result.verdict else []) for j in v.job_ids}
        )
        shown = ", ".join(map(str, jobs[:6])) + (" ..." if len(jobs) > 6 else "")
        lines.append(
            f"| {case.name} | {case.scenario} | {result.result} | {counts.get('lost', '-')} | "
            f"{counts.get('duplicated', '-')} | {counts.get('stuck', '-')} | "
            f"{counts.get('slow_recovery', '-')} | {shown or '-'} | "
            f"{'yes' if ok else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chaos.mutants",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("runs/mutants"))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only", nargs="*", help="case names or scenarios to run")
    parser.add_argument("--no-controls", action="store_true")
    args = parser.parse_args(argv)
    cases = [*CASES, *(() if args.no_controls else CONTROLS)]
    if args.only:
        cases = [
            c
            for c in cases
            if c.name in args.only
            or c.scenario in args.only
            or any(m in args.only for m in c.mutations)
        ]
    rows = []
    for case in cases:
        print(f"== {case.name} / {case.scenario}", flush=True)
        result = run_case(case, args.out.resolve(), args.seed)
        ok, why = judged(case, result)
        print(f"   {result.result}: {why}", flush=True)
        rows.append((case, result, ok, why))
    text = table(rows)
    print()
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mutants.md").write_text(text + "\n")
    return 0 if all(ok for *_, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
