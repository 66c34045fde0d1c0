"""The report of a real run, opened in headless Chromium: sections, JS, console, network, looks.

Runs ``python -m chaos run steady-load`` (about 15 s, local platform), renders its report and
the index, then opens them in ``/usr/bin/chromium`` (Debian's ``chromium`` package; another
binary with ``CHROMIUM=/path``). A screenshot lands in the run folder as ``report.png``; set
``REPORT_ARTIFACTS_DIR`` to keep the run folder somewhere CI uploads.

Without Chromium the tests skip and say why; in CI with ``REQUIRE_BROWSER=1`` they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.report.html import render_index, render_run

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing may leave the machine anyway
]
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


def _required() -> bool:
    return bool(os.environ.get("CI")) and os.environ.get("REQUIRE_BROWSER") == "1"


def _unavailable(message: str):
    if _required():
        pytest.fail(f"CI with REQUIRE_BROWSER=1, but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"headless Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def real_run(chromium, tmp_path_factory) -> Path:
    """One steady-load run on the local platform; its folder, with report.html re-rendered."""
    artifacts = os.environ.get("REPORT_ARTIFACTS_DIR")
    out = Path(artifacts) if artifacts else tmp_path_factory.mktemp("runs")
    out.mkdir(parents=True, exist_ok=True)
    before = {d for d in out.iterdir() if d.is_dir()}
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "steady-load", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    created = [d for d in out.iterdir() if d.is_dir() and d not in before]
    output = f"exit {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert len(created) == 1, f"no run folder ({output})"
    run_dir = created[0]
    if done.returncode == 3:
        _unavailable(f"the local platform could not run steady-load:\n{done.stdout[-2000:]}")
    render_run(run_dir)
    render_index(out)
    return run_dir


def _chromium(binary: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    shutil.rmtree(profile, ignore_errors=True)
    command = [str(binary), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _console_messages(stderr: str) -> list[str]:
    """Console output and uncaught exceptions, as Chromium logs them with --enable-logging."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _page_requests(net_log: Path) -> list[str]:
    """URLs the page itself asked the network for (Chromium's own update pings excluded)."""
    events = json.loads(net_log.read_text()).get("events", [])
    urls = set()
    for event in events:
        params = event.get("params") or {}
        url = params.get("url", "")
        from_page = "file://" in str(params.get("network_isolation_key", "")) or (
            params.get("initiator") == "null"
        )
        if from_page and re.match(r"(?i)(https?|wss?|ftp)://", url):
            urls.add(url)
    return sorted(urls)


def test_the_report_of_a_real_run_runs_its_js_without_console_errors(chromium, real_run, tmp_path):
    url = (real_run / "report.html").as_uri()
    net_log = tmp_path / "net-log.json"
    done = _chromium(
        chromium,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={net_log}",
        "--dump-dom",
        url,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dom = done.stdout
    for section in SECTIONS:
        assert f'id="{section}"' in dom, f"section {section} missing from the rendered DOM"
    assert 'data-ready="1"' in dom, "the report's script did not run to its end"
    assert "<svg" in dom and "python -m chaos run" in dom
    assert not _console_messages(done.stderr), _console_messages(done.stderr)
    assert _page_requests(net_log) == [], "the report fetched something from the network"


def test_a_screenshot_of_the_report_lands_in_the_run_folder(chromium, real_run, tmp_path):
    shot = real_run / "report.png"
    done = _chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1400,3000",
        (real_run / "report.html").as_uri(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1400, 3000)
        colours = image.convert("RGB").resize((140, 300)).getcolors(maxcolors=100_000)
        assert colours and len(colours) > 50, "the screenshot looks blank"


def test_the_index_links_the_real_run_and_opens_cleanly(chromium, real_run, tmp_path):
    index = real_run.parent / "index.html"
    done = _chromium(
        chromium,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        index.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f'href="{real_run.name}/report.html"' in done.stdout
    assert not _console_messages(done.stderr), _console_messages(done.stderr)


@pytest.fixture(scope="module")
def failing_run(chromium, tmp_path_factory) -> Path:
    """One run the harness must fail (stale-worker with fencing removed), report re-rendered."""
    out = tmp_path_factory.mktemp("failing")
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "stale-worker", "--mutation", "no-fencing"]
        + ["-q", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (run_dir,) = [d for d in out.iterdir() if d.is_dir()]
    if done.returncode == 3:
        _unavailable(f"the local platform could not run stale-worker:\n{done.stdout[-2000:]}")
    assert done.returncode == 1, f"the mutation was not caught:\n{done.stdout[-3000:]}"
    render_run(run_dir)
    return run_dir


def test_the_report_of_a_failing_run_explains_it_without_console_errors(
    chromium, failing_run, tmp_path
):
    done = _chromium(
        chromium,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        (failing_run / "report.html").as_uri(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dom = done.stdout
    assert 'data-ready="1"' in dom and "FAIL" in dom
    assert "duplicated" in dom and "showed" in dom and "during fault 0 (pause" in dom
    assert "violation (" in dom, "no violation marked on the timeline"
    assert "Fault plan, as it happened" in dom and 'id="v-1"' in dom
    assert not _console_messages(done.stderr), _console_messages(done.stderr)
