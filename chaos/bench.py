"""``nox -s bench``: the system's speed next to the physical floor, measured in one run.

    python -m chaos.bench [--jobs 2000] [--noop-jobs 5000] [--repeat 3] [--suite] [--smoke]

- floor: the same per-image work (download from the fixture server, thumbnail, keep the
  bytes) in a bare 2-process pool: no API, no queue, no database;
- system: jobs submitted one request each through ``POST /submit``, 2 worker processes, until
  every job is DONE; for the image workload and a no-op workload (``NOOP_JOBS=1``);
- API submit latency percentiles under steady Locust load;
- recovery times per fault, repeated; optionally the default chaos suite's wall time and peak
  memory (``--suite``).
Prints a table with each figure and its ratio to the floor and writes ``bench.json``. It is a
measurement, never a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import psycopg2
import requests

from chaos.fixtures.server import serve_in_thread
from chaos.load.runner import LoadPlan, LocustProcess
from chaos.platforms.base import SystemOptions
from chaos.platforms.local import LocalPlatform
from chaos.scenario import Load
from system.imaging import make_thumbnail

IMAGE = "images/photo.jpg"
_session: requests.Session | None = None


def _floor_job(url: str) -> int:
    global _session
    if _session is None:
        _session = requests.Session()
    data = _session.get(url, timeout=10).content
    return len(make_thumbnail(data, 40_000_000).data)


def floor(jobs: int, processes: int = 2) -> float:
    """Jobs per second of the bare work in a process pool."""
    server = serve_in_thread()
    url = f"http://127.0.0.1:{server.port}/{IMAGE}"
    try:
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_floor_job, [url] * processes * 4))  # warm the workers up
            started = time.perf_counter()
            list(pool.map(_floor_job, [url] * jobs, chunksize=16))
            return jobs / (time.perf_counter() - started)
    finally:
        server.shutdown()


def end_to_end(run_dir: Path, jobs: int, noop: bool, clients: int = 8) -> dict:
    """Submit ``jobs`` through the API (one request each) and wait until all are DONE."""
    env = {"NOOP_JOBS": "1"} if noop else {}
    platform = LocalPlatform(run_dir)
    try:
        endpoints = platform.start(2, SystemOptions(env=env))
        image_url = f"{endpoints.fixtures_url_internal}/{IMAGE}"
        host, port = endpoints.api_url.removeprefix("http://").split(":")
        local = threading.local()

        def submit(n: int) -> None:
            # A bare keep-alive client: the load generator shares the two cores with the
            # system, so it should cost as little CPU as possible (requests costs ~1 ms/job).
            if not hasattr(local, "conn"):
                local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
            body = json.dumps({"image_url": f"{image_url}?sub=b{n}"})
            local.conn.request(
                "POST",
                "/submit",
                body,
                {"Content-Type": "application/json", "Idempotency-Key": f"b{n}"},
            )
            response = local.conn.getresponse()
            response.read()
            if response.status != 202:
                raise RuntimeError(f"submit {n}: HTTP {response.status}")

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(submit, range(jobs)))
        submitted = time.perf_counter() - started
        _wait_done(endpoints.database_url, jobs)
        total = time.perf_counter() - started
        return {"jobs_per_s": jobs / total, "submit_per_s": jobs / submitted, "seconds": total}
    finally:
        platform.stop()


def _wait_done(database_url: str, jobs: int) -> None:
    """Poll on one connection (a new connection per poll would load Postgres itself)."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while True:
                cur.execute("SELECT count(*) FROM jobs WHERE status = 'DONE'")
                if cur.fetchone()[0] >= jobs:
                    return
                time.sleep(0.05)
    finally:
        conn.close()


def submit_latency(run_dir: Path, seconds: int = 10, users: int = 16) -> dict:
    """Locust at full speed against the API (no-op jobs): percentiles from its stats CSV."""
    platform = LocalPlatform(run_dir)
    try:
        endpoints = platform.start(2, SystemOptions(env={"NOOP_JOBS": "1"}))
        load = Load(users=users, spawn_rate=users, duration=seconds, images=(IMAGE,))
        plan = LoadPlan(
            load,
            endpoints.api_url,
            endpoints.fixtures_url_internal,
            run_dir / "history.jsonl",
            run_dir,
            "bench",
            1,
        )
        locust = LocustProcess(plan)
        locust.start()
        locust.wait(timeout=seconds + 60)
        with open(run_dir / "locust_stats.csv") as handle:
            row = next(r for r in csv.DictReader(handle) if r["Name"] == "/submit")
        return {
            "requests_per_s": float(row["Requests/s"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "max_ms": float(row["Max Response Time"]),
        }
    finally:
        platform.stop()


def recoveries(run_dir: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds from each fault's heal until the system does the work again, ``repeat`` times."""
    from chaos.bench_recovery import measure_recoveries

    return measure_recoveries(run_dir, repeat)


def chaos_suite(run_dir: Path) -> dict:
    """Wall time and peak memory (sum of RSS over the process tree) of ``chaos run``."""
    popen = subprocess.Popen(
        [sys.executable, "-m", "chaos", "run", "--out", str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started, peak = time.perf_counter(), 0
    while popen.poll() is None:
        peak = max(peak, _tree_rss(popen.pid))
        time.sleep(0.5)
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak / 2**20,
        "exit_code": popen.returncode,
    }


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * 4096
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chaos.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--noop-jobs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--suite", action="store_true", help="also time the chaos suite")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.jobs, args.noop_jobs, args.repeat = 100, 200, 1
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-"))
    out.mkdir(parents=True, exist_ok=True)
    figures: dict = {"jobs": args.jobs, "noop_jobs": args.noop_jobs}
    figures["floor_jobs_per_s"] = floor(args.jobs)
    figures["image"] = end_to_end(out / "image", args.jobs, noop=False)
    figures["noop"] = end_to_end(out / "noop", args.noop_jobs, noop=True)
    figures["latency"] = submit_latency(out / "latency", seconds=5 if args.smoke else 10)
    figures["recovery"] = recoveries(out / "recovery", args.repeat)
    if args.suite:
        figures["suite"] = chaos_suite(out / "suite")
    (out / "bench.json").write_text(json.dumps(figures, indent=2))
    print(render(figures))
    print(f"\nfigures: {out / 'bench.json'}")
    return 0


def render(f: dict) -> str:
    base = f["floor_jobs_per_s"]
    rows = [
        ("floor: bare 2-process pool, image work", f"{base:.0f} jobs/s", "1.00"),
        (
            "system end to end, image workload",
            f"{f['image']['jobs_per_s']:.0f} jobs/s",
            f"{f['image']['jobs_per_s'] / base:.2f}",
        ),
        (
            "system end to end, no-op workload",
            f"{f['noop']['jobs_per_s']:.0f} jobs/s",
            f"{f['noop']['jobs_per_s'] / base:.2f}",
        ),
        (
            "API under Locust (no-op jobs)",
            f"{f['latency']['requests_per_s']:.0f} req/s",
            f"{f['latency']['requests_per_s'] / base:.2f}",
        ),
        (
            "submit latency p50 / p95 / p99",
            f"{f['latency']['p50_ms']:.0f} / {f['latency']['p95_ms']:.0f} / "
            f"{f['latency']['p99_ms']:.0f} ms",
            "",
        ),
    ]
    for name, values in f["recovery"].items():
        rows.append(
            (
                f"recovery: {name}",
                f"median {statistics.median(values):.2f} s, max "
                f"{max(values):.2f} s (n={len(values)})",
                "",
            )
        )
    if "suite" in f:
        rows.append(
            (
                "default chaos suite",
                f"{f['suite']['seconds']:.0f} s, peak {f['suite']['peak_rss_mb']:.0f} MB",
                "",
            )
        )
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'value':<34}  ratio to floor", "-" * (width + 52)]
    lines += [f"{name:<{width}}  {value:<34}  {ratio}" for name, value, ratio in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
