"""``chaos ui``: the system plus Locust's web UI, for load driven by hand.

The stack starts as for a scenario; Locust's UI listens on 127.0.0.1. Inject faults by hand
meanwhile (the printed pids, or ``docker kill``). On Ctrl+C (or when Locust stops) everything
that was submitted is drained and checked exactly like a scenario run.
"""

from __future__ import annotations

import time
from pathlib import Path

from chaos.load.runner import LoadPlan, LocustProcess
from chaos.platforms import make_platform, preflight
from chaos.platforms.base import SystemOptions
from chaos.probe import Probe
from chaos.report.summary import run_summary
from chaos.runner import (
    RunOptions,
    RunResult,
    Sampler,
    as_dict,
    drain_and_check,
    finish_run,
    run_meta,
    save_endpoints,
    steady_state,
    teardown,
)
from chaos.scenario import load_scenario


def run_ui(args, system: SystemOptions) -> int:
    from chaos.cli import resolve

    scenario = load_scenario(resolve([args.scenario])[0])
    scenario = scenario.model_copy(
        update={"faults": (), "random": None, "name": f"ui-{scenario.name}"}
    )
    options = RunOptions(
        platform=args.platform,
        seed=args.seed,
        out=Path(args.out).resolve(),
        system=system,
        workers=args.workers,
    )
    preflight(options.platform, options.out)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{scenario.name}"
    run_dir = options.out / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = run_meta(scenario, options, system, run_id, [], command="ui")
    result = RunResult(scenario.name, run_dir, 3)
    platform = make_platform(options.platform, run_dir)
    started = time.time()
    try:
        endpoints = platform.start(options.workers or scenario.workers, system)
        save_endpoints(run_dir, endpoints)
        steady_state(endpoints, run_dir / "history.jsonl", run_id)
        probe = Probe(endpoints.database_url, endpoints.redis_url, system.mode)
        sampler = Sampler(probe, run_dir / "timeline.jsonl")
        sampler.start()
        plan = LoadPlan.for_run(scenario.load, endpoints, run_dir, run_id, options.seed)
        locust = LocustProcess(plan, web_ui=True, web_port=args.web_port, autostart=args.autostart)
        locust.start()
        print(f"Locust web UI: http://127.0.0.1:{args.web_port}  (API {endpoints.api_url})")
        for service in platform.services():
            print(f"  {service:<10} {platform.identity(service)}")
        print(f"Run folder: {run_dir}\nPress Ctrl+C to stop, drain and check.", flush=True)
        try:
            while locust.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping load; draining and checking...", flush=True)
        locust.stop()
        drain_and_check(result, probe, endpoints, scenario)
        sampler.stop()
    finally:
        teardown(platform, run_dir)
        result.timings["total"] = time.time() - started
        finish_run(result, meta, scenario)
    print(run_summary({**as_dict(result), "meta": meta}))
    return result.exit_code
