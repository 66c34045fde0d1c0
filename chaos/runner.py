"""The experiment, top to bottom:

    validate -> start -> steady state -> load + faults -> heal (always) -> drain -> check -> report

``run_scenario`` returns a ``RunResult`` and never raises for a failure of the system under
test: that is the verdict's job. Harness errors (a platform that cannot start, Locust dying)
end the run with exit code 3 and the error in the result; the platform is always stopped.
"""

from __future__ import annotations

import json
import logging
import platform as host
import shlex
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from chaos import checker
from chaos.errors import ChaosError, PlatformError
from chaos.faults import Nemesis, can_run
from chaos.history import HistoryWriter, load_faults, load_submissions
from chaos.load.runner import LoadPlan, LocustProcess
from chaos.platforms.base import Endpoints, Platform, SystemOptions
from chaos.probe import Probe, read_final_state
from chaos.progress import Progress
from chaos.report import write_reports
from chaos.report.data import write_jobs_file
from chaos.scenario import Scenario

log = logging.getLogger("chaos.runner")

HARNESS_ERROR = 3
STEADY_STATE_TIMEOUT = 30.0


@dataclass
class RunOptions:
    platform: str = "local"
    seed: int = 1
    out: Path = Path("runs")
    system: SystemOptions = field(default_factory=SystemOptions)
    workers: int | None = None  # overrides the scenario's
    argv: list[str] = field(default_factory=list)  # how the harness was called, for replay
    keep_data: bool = False  # keep the services' data folders of a passing run too
    progress: bool = False  # a live progress line on stdout while the scenario runs


@dataclass
class RunResult:
    scenario: str
    run_dir: Path
    exit_code: int
    verdict: checker.Verdict | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def result(self) -> str:
        return self.verdict.result if self.verdict else "error"


class Sampler:
    """Samples job counts and queue depth twice a second into ``timeline.jsonl``."""

    def __init__(
        self,
        probe: Probe,
        path: Path,
        interval: float = 0.5,
        on_sample: Callable[[dict], None] | None = None,
    ) -> None:
        self.probe = probe
        self.on_sample = on_sample
        self.writer = HistoryWriter(path)
        self.interval = interval
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            sample = self.probe.sample()
            self.writer.write(sample)
            if self.on_sample:
                self.on_sample(sample)
            self.stop_event.wait(self.interval)


def run_scenario(
    scenario: Scenario, options: RunOptions, make_platform: Callable[[str, Path], Platform]
) -> RunResult:
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{scenario.name}-{uuid.uuid4().hex[:4]}"
    run_dir = options.out / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    faults = scenario.fault_schedule(options.seed)
    system = options.system
    if scenario.system:
        system = SystemOptions(system.mode, system.mutations, {**scenario.system, **system.env})
    meta = run_meta(scenario, options, system, run_id, faults)
    (run_dir / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    result = RunResult(scenario.name, run_dir, HARNESS_ERROR)
    platform = make_platform(options.platform, run_dir)
    problems = can_run(platform, faults)
    if problems:
        result.error = "; ".join(problems)
        return finish_run(result, meta, scenario)
    started = time.time()
    sampler: Sampler | None = None
    progress = progress_for(scenario, faults) if options.progress else None
    phase = progress.set_phase if progress else (lambda _phase: None)
    try:
        endpoints = platform.start(options.workers or scenario.workers, system)
        save_endpoints(run_dir, endpoints)
        result.timings["start"] = time.time() - started
        probe = Probe(endpoints.database_url, endpoints.redis_url, system.mode)
        phase("steady state")
        steady_state(endpoints, run_dir / "history.jsonl", run_id)
        on_sample = progress.update if progress else None
        sampler = Sampler(probe, run_dir / "timeline.jsonl", on_sample=on_sample)
        sampler.start()
        load_started = time.time()
        phase("load")
        _load_and_faults(scenario, options, platform, probe, endpoints, run_dir, run_id, faults)
        result.timings["load"] = time.time() - load_started
        drain_and_check(result, probe, endpoints, scenario, noop=_noop(system), phase=phase)
    except ChaosError as exc:
        result.error = str(exc)
        log.error("%s: harness error: %s", scenario.name, exc)
    except KeyboardInterrupt:
        result.error = "interrupted"
        raise
    finally:
        if sampler:
            sampler.stop()
        if progress:
            progress.close()
        teardown(platform, run_dir)
        if result.exit_code == 0 and not options.keep_data:
            platform.discard_data()
        result.timings["total"] = time.time() - started
        finish_run(result, meta, scenario)
    return result


def save_endpoints(run_dir: Path, endpoints: Endpoints) -> None:
    """Where this run's system answers, for `chaos status RUN_DIR` while it runs."""
    (run_dir / "endpoints.json").write_text(json.dumps(asdict(endpoints), indent=2))


def progress_for(scenario: Scenario, faults: list) -> Progress:
    """Expected seconds: start-up and steady state (~10 s), then the load or the last heal."""
    last_heal = max((f.at + f.duration for f in faults), default=0)
    return Progress(scenario.name, max(scenario.load.duration, last_heal) + 10, faults)


def drain_and_check(
    result: RunResult,
    probe: Probe,
    endpoints: Endpoints,
    scenario: Scenario,
    noop: bool = False,
    phase: Callable[[str], None] = lambda _phase: None,
) -> None:
    """Wait until no job is active (or the deadline), read the final state, and judge it."""
    phase("draining")
    drained = probe.wait_drained(scenario.expect.drain_within)
    result.timings["drain"] = drained if drained is not None else -1
    phase("checking")
    state = read_final_state(endpoints.database_url, noop=noop)
    write_jobs_file(result.run_dir, state.jobs)
    result.verdict = checker.check(
        load_submissions(result.run_dir / "history.jsonl"),
        state,
        load_faults(result.run_dir / "faults.jsonl"),
        scenario.expect,
    )
    result.exit_code = result.verdict.exit_code


def _load_and_faults(
    scenario, options, platform, probe, endpoints: Endpoints, run_dir: Path, run_id: str, faults
) -> None:
    plan = LoadPlan.for_run(scenario.load, endpoints, run_dir, run_id, options.seed)
    locust = LocustProcess(plan)
    nemesis = Nemesis(
        platform, probe, faults, options.seed, HistoryWriter(run_dir / "faults.jsonl")
    )
    try:
        locust.start()
        nemesis.start(time.time())
        locust.wait(timeout=scenario.load.duration + scenario.load.timeout * 4 + 30)
        last = max((f.at + f.duration for f in faults), default=0)
        nemesis.wait(timeout=last + 120)
    finally:
        nemesis.stop()
        nemesis.heal_all()
        locust.stop()


def steady_state(endpoints: Endpoints, history: Path, run_id: str) -> None:
    """One job through the whole system before any fault: else the run tests nothing."""
    key = f"{run_id}-steady"
    image = "images/small.jpg"
    url = f"{endpoints.fixtures_url_internal}/{image}?sub={key}"
    writer = HistoryWriter(history)
    t0 = time.time()
    writer.write({"type": "invoke", "op": f"{key}#1", "key": key, "image": image, "t": t0})
    try:
        response = requests.post(
            f"{endpoints.api_url}/submit",
            json={"image_url": url},
            headers={"Idempotency-Key": key},
            timeout=10,
        )
    except requests.RequestException as exc:
        raise PlatformError(f"steady state: the API did not answer: {exc}") from None
    ok = response.status_code == 202
    job_id = response.json().get("job_id") if ok else None
    writer.write(
        {
            "type": "complete",
            "op": f"{key}#1",
            "key": key,
            "t": time.time(),
            "outcome": "ok" if ok else "fail",
            "status": response.status_code,
            "job_id": job_id,
            "error": None if ok else response.text[:200],
        }
    )
    if not ok:
        raise PlatformError(
            f"steady state: submit answered {response.status_code}: {response.text[:200]}"
        )
    deadline = time.monotonic() + STEADY_STATE_TIMEOUT
    while time.monotonic() < deadline:
        job = requests.get(f"{endpoints.api_url}/jobs/{job_id}", timeout=5).json()
        if job.get("status") == "DONE":
            return
        time.sleep(0.1)
    raise PlatformError(
        f"steady state: job {job_id} not DONE within {STEADY_STATE_TIMEOUT:g} s "
        f"(status {job.get('status')}): the system is not healthy before faults"
    )


def teardown(platform: Platform, run_dir: Path) -> None:
    try:
        platform.collect_logs(run_dir / "logs")
    except Exception as exc:  # noqa: BLE001 - logs are best effort; stopping is not
        log.warning("Could not collect logs: %s", exc)
    platform.stop()


def finish_run(result: RunResult, meta: dict, scenario: Scenario) -> RunResult:
    meta["finished"] = time.time()
    meta["timings"] = result.timings
    meta["exit_code"] = result.exit_code
    meta["error"] = result.error
    (result.run_dir / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    write_reports(result, meta, scenario)
    return result


def _noop(system: SystemOptions) -> bool:
    return system.env.get("NOOP_JOBS", "").lower() in ("1", "true", "yes")


def run_meta(
    scenario: Scenario,
    options: RunOptions,
    system: SystemOptions,
    run_id: str,
    faults,
    command: str = "run",
) -> dict:
    replay = [
        "python",
        "-m",
        "chaos",
        command,
        _shown_path(scenario),
        "--platform",
        options.platform,
        "--seed",
        str(options.seed),
    ]
    if system.mode != "robust":
        replay += ["--system-mode", system.mode]
    for mutation in system.mutations:
        replay += ["--mutation", mutation]
    if options.workers:
        replay += ["--workers", str(options.workers)]
    return {
        "run_id": run_id,
        "scenario": scenario.name,
        "scenario_path": scenario.path,
        "description": scenario.description,
        "platform": options.platform,
        "seed": options.seed,
        "system_mode": system.mode,
        "mutations": list(system.mutations),
        "system_env": system.env,
        "workers": options.workers or scenario.workers,
        "load": scenario.load.model_dump(),
        "expect": scenario.expect.model_dump(),
        "faults": [f.model_dump() for f in faults],
        "started": time.time(),
        "replay": shlex.join(replay),
        "versions": _versions(),
    }


def _shown_path(scenario: Scenario) -> str:
    """The scenario's path relative to the working folder when it is inside it."""
    if not scenario.path:
        return scenario.name
    try:
        return str(Path(scenario.path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return scenario.path


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {"python": host.python_version()}
    for package in (
        "image-jobs-chaos",
        "fastapi",
        "redis",
        "psycopg2-binary",
        "pillow",
        "locust",
        "requests",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def as_dict(result: RunResult) -> dict:
    data = {
        "scenario": result.scenario,
        "run_dir": str(result.run_dir),
        "exit_code": result.exit_code,
        "result": result.result,
        "error": result.error,
        "timings": result.timings,
    }
    if result.verdict:
        data["verdict"] = asdict(result.verdict)
    return data
