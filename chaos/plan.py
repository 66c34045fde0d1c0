"""``chaos run --dry-run``: the resolved plan of a run, printed, with nothing started."""

from __future__ import annotations

from chaos.platforms.base import SystemOptions
from chaos.scenario import Scenario


def plan_text(
    scenario: Scenario, seed: int, platform: str, workers: int | None, system: SystemOptions
) -> str:
    load = scenario.load
    rate = f"{load.rate:g}/s" if load.rate else "as fast as answered"
    jobs = f", at most {load.jobs} jobs" if load.jobs else ""
    mutations = ", ".join(system.mutations) or "none"
    lines = [
        f"== {scenario.name} (dry run: nothing is started)",
        f"  file: {scenario.path}",
        f"  platform={platform} seed={seed} workers={workers or scenario.workers} "
        f"mode={system.mode} mutations={mutations}",
        f"  load: {load.users} users, {load.duration:g} s, {rate}{jobs}, "
        f"timeout {load.timeout:g} s, {load.retries} retries, images {', '.join(load.images)}",
    ]
    if scenario.system:
        settings = " ".join(f"{k}={v}" for k, v in sorted(scenario.system.items()))
        lines.append(f"  system settings: {settings}")
    faults = scenario.fault_schedule(seed)
    lines.append(f"  faults ({len(faults)}, seeded by {seed}):" if faults else "  faults: none")
    for fault in faults:
        extra = f" count={fault.count}" if fault.count is not None else ""
        lasting = f" for {fault.duration:g} s" if fault.duration else ""
        lines.append(f"    at {fault.at:6.2f} s  {fault.action} {fault.target}{lasting}{extra}")
    expect = scenario.expect.model_dump(exclude_none=True)
    lines.append("  expect: " + " ".join(f"{k}={v}" for k, v in expect.items()))
    return "\n".join(lines)
