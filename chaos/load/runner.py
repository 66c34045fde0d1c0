"""Launch Locust as a subprocess (it monkey-patches the interpreter with gevent, so the harness
never imports it) and wait for it, headless for scenarios or with its web UI for people."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from chaos.errors import LoadError
from chaos.scenario import Load

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class LoadPlan:
    load: Load
    api_url: str
    fixtures_url: str  # as the workers see it
    history: Path
    out_dir: Path
    run_id: str
    seed: int

    @classmethod
    def for_run(cls, load: Load, endpoints, run_dir: Path, run_id: str, seed: int) -> LoadPlan:
        """The plan of a run: its history and Locust's files go into ``run_dir``."""
        return cls(
            load,
            endpoints.api_url,
            endpoints.fixtures_url_internal,
            run_dir / "history.jsonl",
            run_dir,
            run_id,
            seed,
        )


class LocustProcess:
    def __init__(
        self, plan: LoadPlan, web_ui: bool = False, web_port: int = 8089, autostart: bool = False
    ) -> None:
        self.plan = plan
        self.web_ui = web_ui
        self.web_port = web_port
        self.autostart = autostart
        self.popen: subprocess.Popen | None = None

    def command(self) -> list[str]:
        load, out = self.plan.load, self.plan.out_dir
        argv = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--host",
            self.plan.api_url,
            "--csv",
            str(out / "locust"),
            "--html",
            str(out / "locust.html"),
            "--stop-timeout",
            str(int(load.timeout * 3) + 5),
            "--loglevel",
            "WARNING",
        ]
        if self.web_ui:
            ui = ["--web-host", "127.0.0.1", "--web-port", str(self.web_port)]
            ui += ["--autostart"] if self.autostart else []
            return argv + ui + ["-u", str(load.users), "-r", str(load.spawn_rate)]
        return argv + [
            "--headless",
            "--only-summary",
            "-u",
            str(load.users),
            "-r",
            str(load.spawn_rate),
            "-t",
            f"{int(load.duration)}s",
        ]

    def environment(self) -> dict[str, str]:
        load = self.plan.load
        env = dict(os.environ)
        env.update(
            {
                "CHAOS_HISTORY": str(self.plan.history),
                "CHAOS_RUN_ID": self.plan.run_id,
                "CHAOS_FIXTURES": self.plan.fixtures_url,
                "CHAOS_IMAGES": ",".join(load.images),
                "CHAOS_MAX_JOBS": str(load.jobs or 0),
                "CHAOS_RATE": str(load.rate or 0),
                "CHAOS_TIMEOUT": str(load.timeout),
                "CHAOS_RETRIES": str(load.retries),
                "CHAOS_SEED": str(self.plan.seed),
            }
        )
        return env

    def start(self) -> None:
        self.plan.out_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.plan.out_dir / "locust.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.popen = subprocess.Popen(
                self.command(),
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise LoadError(f"cannot start locust: {exc}") from None
        finally:
            log.close()

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        assert self.popen is not None
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            code = self.popen.returncode
        # Locust exits 1 when any request failed: under faults that is expected, not an error.
        if code not in (0, 1) and code != -signal.SIGTERM and code != -signal.SIGINT:
            tail = (self.plan.out_dir / "locust.log").read_text(errors="replace")[-800:]
            raise LoadError(f"locust exited with code {code}:\n{tail}")
        return code

    def stop(self, grace: float = 20.0) -> None:
        """Ask Locust to stop (it finishes in-flight requests and writes its reports)."""
        if not self.running():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
