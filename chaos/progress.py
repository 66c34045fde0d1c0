"""A live progress line per scenario, so a run never sits silent for half a minute.

On a terminal the line is rewritten in place twice a second; elsewhere (CI logs) a plain line
is printed every ``PLAIN_EVERY`` seconds and at each change of phase. It shows the phase
(starting, steady state, load, fault N of M active, draining, checking), elapsed against
expected seconds, and the job counts the sampler read; a fault starting or ending prints at
once. The counts are for watching only: the verdict never uses them.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

PLAIN_EVERY = 5.0


class Progress:
    def __init__(
        self,
        scenario: str,
        expected_seconds: float,
        faults: Sequence[Any] = (),
        stream: TextIO | None = None,
        clock=time.monotonic,
    ) -> None:
        self.scenario = scenario
        self.expected = expected_seconds
        self.faults = list(faults)
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.clock = clock
        self.started = clock()
        self.load_started: float | None = None
        self.phase = "starting"
        self.counts: dict[str, int] = {}
        self.last_plain = -PLAIN_EVERY
        self.last_phase = ""
        self.lock = threading.Lock()

    def set_phase(self, phase: str) -> None:
        with self.lock:
            if phase == "load":
                self.load_started = self.clock()
            self.phase = phase
            self._show(force=True)

    def update(self, sample: dict[str, Any]) -> None:
        """Called with each sampler reading (``{"counts": {...}, "queue": n}``)."""
        with self.lock:
            self.counts = dict(sample.get("counts") or {})
            self._show()

    def close(self) -> None:
        with self.lock:
            if self.live:
                self.stream.write("\r\033[K")
                self.stream.flush()

    def line(self) -> str:
        elapsed = self.clock() - self.started
        total = sum(self.counts.values())
        done = self.counts.get("DONE", 0)
        failed = self.counts.get("FAILED", 0)
        jobs = f"jobs {done} done, {failed} failed, {total} in all" if self.counts else "jobs -"
        return (
            f"   {self.scenario}: {self.phase_text()} | {elapsed:.0f}/{self.expected:.0f} s"
            f" | {jobs}"
        )

    def phase_text(self) -> str:
        if self.phase != "load" or self.load_started is None or not self.faults:
            return self.phase
        t = self.clock() - self.load_started
        active = [
            i
            for i, fault in enumerate(self.faults, 1)
            if fault.at <= t < fault.at + max(fault.duration, 1.0)
        ]
        if not active:
            return "load"
        names = ", ".join(
            f"{self.faults[i - 1].action} {self.faults[i - 1].target}" for i in active
        )
        which = " and ".join(str(i) for i in active)
        return f"load, fault {which} of {len(self.faults)} active ({names})"

    def _show(self, force: bool = False) -> None:
        now = self.clock()
        phase = self.phase_text()
        force = force or phase != self.last_phase  # a fault began or ended: say so at once
        self.last_phase = phase
        if self.live:
            self.stream.write("\r\033[K" + self.line())
        elif force or now - self.last_plain >= PLAIN_EVERY:
            self.stream.write(self.line() + "\n")
            self.last_plain = now
        else:
            return
        self.stream.flush()
