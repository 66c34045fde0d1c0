"""The ``chaos`` command: run scenarios, list them, drive load by hand, show status.

Every option is declared once (flag, environment variable, default, help) in ``OPTIONS``.
Exit codes (``EXIT_CODES``): 0 pass, 1 an invariant failed, 2 unknown (could not decide),
3 harness error, 4 usage error (a bad flag or an invalid scenario file).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from chaos.errors import ChaosError, ScenarioError
from chaos.platforms import PLATFORMS, make_platform, preflight
from chaos.platforms.base import SystemOptions
from chaos.report.junit import write_junit
from chaos.report.summary import run_summary, suite_table
from chaos.scenario import find_scenarios, load_scenario
from system.settings import MODES, MUTATIONS

# The shipped scenarios: in a checkout chaos/scenarios links to the top-level scenarios/, in an
# installed wheel it is package data.
SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
EXIT_USAGE = 4
EXIT_CODES = {
    0: "pass",
    1: "an invariant failed",
    2: "unknown: could not decide",
    3: "harness error",
    EXIT_USAGE: "usage error: a bad flag or an invalid scenario file",
}


class UsageError(ScenarioError):
    """Nothing to do as asked: no scenario found, or none the platform can run."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits with EXIT_USAGE, not the verdict code 2 (unknown)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    default: object
    help: str
    type: type = str
    choices: tuple | None = None
    repeat: bool = False


OPTIONS = (
    Option("--platform", "CHAOS_PLATFORM", "local", "where the system runs", choices=PLATFORMS),
    Option("--seed", "CHAOS_SEED", 1, "seed for random faults and choices", type=int),
    Option("--out", "CHAOS_OUT", "runs", "folder for run folders"),
    Option(
        "--system-mode", "CHAOS_SYSTEM_MODE", "robust", "system design under test", choices=MODES
    ),
    Option(
        "--mutation",
        "CHAOS_MUTATIONS",
        (),
        "remove one protection (testing only)",
        choices=tuple(MUTATIONS),
        repeat=True,
    ),
    Option("--workers", "CHAOS_WORKERS", None, "worker count (overrides the scenario)", type=int),
)


def add_options(parser: argparse.ArgumentParser) -> None:
    for opt in OPTIONS:
        raw = os.environ.get(opt.env)
        if opt.repeat:
            default = tuple(v for v in (raw or "").split(",") if v) or opt.default
            parser.add_argument(
                opt.flag,
                action="append",
                default=None,
                choices=opt.choices,
                help=f"{opt.help} (env {opt.env}, comma-separated)",
            )
            parser.set_defaults(**{opt.flag[2:].replace("-", "_") + "_default": default})
            continue
        default = opt.type(raw) if raw is not None else opt.default
        parser.add_argument(
            opt.flag,
            type=opt.type,
            default=default,
            choices=opt.choices,
            help=f"{opt.help} (env {opt.env}; default {default})",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log harness details")
    parser.add_argument("--version", action="version", version=f"chaos {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    # -v also after the subcommand (`chaos run -v`); SUPPRESS keeps the top-level value otherwise
    verbose = Parser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    run = sub.add_parser(
        "run", parents=[verbose], help="run scenarios (default: every shipped scenario)"
    )
    run.add_argument("scenarios", nargs="*", help="scenario files or names")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, validated like the file (--set load.duration=60)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="print the resolved plan and start nothing"
    )
    run.add_argument(
        "-q", "--quiet", action="store_true", help="no progress line while a scenario runs"
    )
    run.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the services' data folders of passing runs too (failed runs always keep them)",
    )
    add_options(run)
    ui = sub.add_parser(
        "ui", parents=[verbose], help="start the system and Locust's web UI; check on Ctrl+C"
    )
    ui.add_argument("scenario", nargs="?", default="steady-load", help="load settings from it")
    ui.add_argument("--web-port", type=int, default=8089)
    ui.add_argument("--autostart", action="store_true", help="start the load without a click")
    add_options(ui)
    sub.add_parser("list", parents=[verbose], help="list the shipped scenarios")
    validate = sub.add_parser(
        "validate", parents=[verbose], help="validate scenario files and exit"
    )
    validate.add_argument("scenarios", nargs="*")
    status = sub.add_parser(
        "status", parents=[verbose], help="job counts by state and queue length"
    )
    status.add_argument(
        "run_dir",
        nargs="?",
        type=Path,
        help="a running run's folder (any platform); or give the URLs",
    )
    status.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    status.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    report = sub.add_parser(
        "report", parents=[verbose], help="re-render a run's report (and the index)"
    )
    report.add_argument("run_dirs", nargs="+", type=Path)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("image-jobs-chaos")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def resolve(names: list[str]) -> list[Path]:
    if not names:
        found = find_scenarios(SCENARIOS_DIR)
        if not found:
            raise UsageError(f"no scenario files found in {SCENARIOS_DIR}")
        return found
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists() and (SCENARIOS_DIR / f"{name}.yaml").exists():
            path = SCENARIOS_DIR / f"{name}.yaml"
        paths.append(path)
    return paths


def system_options(args) -> SystemOptions:
    mutations = tuple(args.mutation or args.mutation_default)
    if mutations and args.system_mode != "robust":
        raise UsageError("--mutation applies to --system-mode robust only")
    return SystemOptions(mode=args.system_mode, mutations=mutations)


def cmd_run(args) -> int:
    from chaos.runner import RunOptions, as_dict, run_scenario

    # all valid, or none runs
    scenarios = [load_scenario(p, args.overrides) for p in resolve(args.scenarios)]
    if args.dry_run:
        from chaos.plan import plan_text

        system = system_options(args)
        for scenario in scenarios:
            print(plan_text(scenario, args.seed, args.platform, args.workers, system))
        return 0
    options = RunOptions(
        platform=args.platform,
        seed=args.seed,
        out=Path(args.out).resolve(),
        system=system_options(args),
        workers=args.workers,
        argv=sys.argv,
        keep_data=args.keep_data,
        progress=not args.quiet,
    )
    options.out.mkdir(parents=True, exist_ok=True)
    preflight(args.platform, options.out)
    scenarios = _runnable(scenarios, args, options)
    if not scenarios:
        raise UsageError(f"no scenario can run on {args.platform}: nothing was tested")
    results = []
    for scenario in scenarios:
        print(f"== {scenario.name}: {scenario.summary}", flush=True)
        result = run_scenario(scenario, options, make_platform)
        data = as_dict(result)
        data["meta"] = json.loads((result.run_dir / "meta.json").read_text())
        results.append(data)
        print(run_summary(data), flush=True)
    print()
    print(suite_table(results))
    write_suite_junit(options.out, results)
    _render_index(options.out)
    return _suite_exit_code([r["exit_code"] for r in results])


def write_suite_junit(out: Path, results: list[dict]) -> Path:
    """One JUnit file per invocation (``junit-<time>-<id>.xml``, kept for CI to collect), and
    ``junit.xml``, the latest invocation's, for the index."""
    path = out / f"junit-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}.xml"
    write_junit(path, results)
    shutil.copyfile(path, out / "junit.xml")
    return path


def _runnable(scenarios, args, options) -> list:
    """Named scenarios must run on the platform; the default set skips those that cannot."""
    from chaos.faults import can_run

    platform = make_platform(args.platform, options.out)
    runnable = []
    for scenario in scenarios:
        problems = can_run(platform, scenario.fault_schedule(options.seed))
        if not problems:
            runnable.append(scenario)
        elif args.scenarios:
            raise ScenarioError(
                f"scenario {scenario.name} cannot run on {args.platform}: " + "; ".join(problems)
            )
        else:
            print(f"-- skipping {scenario.name} on {args.platform}: {'; '.join(problems)}")
    return runnable


def _suite_exit_code(codes: list[int]) -> int:
    if 3 in codes:
        return 3
    if 1 in codes:
        return 1
    if 2 in codes:
        return 2
    return 0


def _render_index(out: Path) -> None:
    try:
        from chaos.report.html import render_index
    except ImportError:
        return
    render_index(out)


def cmd_list(_args) -> int:
    width = max(shutil.get_terminal_size().columns, 60)
    for path in resolve([]):
        scenario = load_scenario(path)
        text = " ".join(scenario.description.split())
        lines = textwrap.wrap(text, width - 23) or [""]
        print(f"{scenario.name:<22} {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<22} {line}")
    return 0


def cmd_validate(args) -> int:
    for path in resolve(args.scenarios):
        scenario = load_scenario(path)
        print(f"ok  {path}  ({len(scenario.fault_schedule(1))} faults)")
    return 0


def cmd_status(args) -> int:
    from chaos.probe import Probe

    if args.run_dir is not None and _finished(args.run_dir):
        return _stored_status(args.run_dir)
    if args.run_dir is not None:
        saved = args.run_dir / "endpoints.json"
        if not saved.exists():
            raise ChaosError(f"{saved} does not exist: is {args.run_dir} a run folder?")
        endpoints = json.loads(saved.read_text())
        args.database_url, args.redis_url = endpoints["database_url"], endpoints["redis_url"]
    if not args.database_url:
        raise ChaosError("status needs a run folder, or --database-url (or DATABASE_URL)")
    probe = Probe(args.database_url, args.redis_url or "redis://127.0.0.1:6379/0")
    counts = probe.counts()
    if counts is None:
        raise ChaosError(f"cannot reach Postgres at {args.database_url}")
    for state, n in counts.items():
        print(f"{state:<11} {n}")
    depth = probe.queue_depth()
    print(f"{'queue':<11} {'unreachable' if depth is None else depth}")
    rows = probe.query("SELECT id, status, image_url FROM jobs ORDER BY id DESC LIMIT 10")
    for row in rows or []:
        print(f"  {row[0]:>8} {row[1]:<10} {row[2]}")
    return 0


def _finished(run_dir: Path) -> bool:
    meta = run_dir / "meta.json"
    return meta.exists() and "finished" in json.loads(meta.read_text())


def _stored_status(run_dir: Path) -> int:
    """A finished run's system is gone: show the final state the run stored instead."""
    from chaos.report.data import JOBS_FILE

    meta = json.loads((run_dir / "meta.json").read_text())
    code = meta.get("exit_code")
    print(f"finished run of {meta.get('scenario')}: exit {code} ({EXIT_CODES.get(code, '?')})")
    jobs_file = run_dir / JOBS_FILE
    if not jobs_file.exists():
        print(f"no final state stored ({JOBS_FILE} is missing): the run ended before its check")
        return 0
    jobs = [json.loads(line) for line in jobs_file.read_text().splitlines() if line.strip()]
    print(f"final state stored in {jobs_file}:")
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job["status"]] = counts.get(job["status"], 0) + 1
    for state, n in sorted(counts.items()):
        print(f"{state:<11} {n}")
    for job in sorted(jobs, key=lambda j: j["id"], reverse=True)[:10]:
        print(f"  {job['id']:>8} {job['status']:<10} {job['image_url']}")
    return 0


def cmd_report(args) -> int:
    from chaos.report.html import render_index, render_run

    for run_dir in args.run_dirs:
        if not (run_dir / "meta.json").exists() and not (run_dir / "verdict.json").exists():
            raise ScenarioError(f"{run_dir} is not a run folder (no meta.json or verdict.json)")
        print(render_run(run_dir))
    render_index(args.run_dirs[0].resolve().parent)
    return 0


def cmd_ui(args) -> int:
    from chaos.interactive import run_ui

    return run_ui(args, system_options(args))


COMMANDS = {
    "run": cmd_run,
    "list": cmd_list,
    "validate": cmd_validate,
    "status": cmd_status,
    "report": cmd_report,
    "ui": cmd_ui,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except ChaosError as exc:
        print(f"chaos: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ScenarioError) else 3
    except KeyboardInterrupt:
        print("chaos: interrupted", file=sys.stderr)
        return 3
    except OSError as exc:  # e.g. an --out folder that cannot be created
        if isinstance(exc, BrokenPipeError):  # `chaos list | head`: the reader left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"chaos: error: {exc}", file=sys.stderr)
        return 3
