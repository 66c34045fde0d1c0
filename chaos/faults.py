"""Faults: inject, verify it took effect, heal, verify the heal; record every step's time.

``Nemesis`` plays a schedule of ``Fault``s against a platform on a background thread. Every
injected fault registers its heal first, so ``heal_all()`` (called by the runner in
``finally``) can always put the system back, even if the run is interrupted midway.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from chaos.errors import PlatformError
from chaos.history import HistoryWriter
from chaos.platforms.base import Platform, is_worker
from chaos.probe import Probe
from chaos.scenario import Fault

log = logging.getLogger("chaos.faults")


@dataclass
class FaultRecord:
    index: int
    action: str
    target: str
    service: str = ""
    scheduled: float = 0.0  # seconds after load start
    duration: float = 0.0
    started: float | None = None  # epoch seconds
    effective: float | None = None  # the service was verified down / frozen / rescaled
    healed: float | None = None  # the service was verified back
    identity_before: str | None = None
    identity_after: str | None = None
    jobs_in_flight: list[int] = field(default_factory=list)
    ok: bool = False
    error: str | None = None

    def describe(self) -> str:
        what = f"{self.action} {self.service or self.target}"
        return f"{what} for {self.duration:g}s" if self.duration else what


class Nemesis:
    def __init__(
        self,
        platform: Platform,
        probe: Probe,
        faults: list[Fault],
        seed: int,
        log_to: HistoryWriter,
    ) -> None:
        self.platform = platform
        self.probe = probe
        self.faults = faults
        self.rng = random.Random(seed)
        self.writer = log_to
        self.records: list[FaultRecord] = []
        self._heals: dict[int, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, t0: float) -> None:
        self._thread = threading.Thread(target=self._play, args=(t0,), name="nemesis", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.wait(120)

    def heal_all(self) -> None:
        """Heal every fault still open; each heal records its own outcome."""
        with self._lock:
            pending = list(self._heals.items())
            self._heals.clear()
        for index, heal in pending:
            log.info("Healing fault %d on the way out", index)
            heal()

    # --- playing the schedule ------------------------------------------------------------

    def _play(self, t0: float) -> None:
        for index, fault in enumerate(self.faults):
            if self._stop.wait(max(0.0, t0 + fault.at - time.time())):
                return
            record = FaultRecord(
                index, fault.action, fault.target, scheduled=fault.at, duration=fault.duration
            )
            self.records.append(record)
            try:
                self._inject(fault, record)
            except PlatformError as exc:
                record.error = str(exc)
                log.warning("Fault %d (%s %s) failed: %s", index, fault.action, fault.target, exc)
            except Exception as exc:  # noqa: BLE001 - a harness bug: record it, heal, go on
                record.error = f"{type(exc).__name__}: {exc}"
                log.exception("Fault %d crashed", index)
            finally:
                self._close(record)

    def _inject(self, fault: Fault, record: FaultRecord) -> None:
        record.started = time.time()
        if fault.action == "scale":
            record.service = "workers"
            self.platform.scale_workers(fault.count or 0)
            record.effective = record.healed = time.time()
            record.ok = True
            return
        services = self._resolve(fault.target)
        record.service = ",".join(services)
        for service in services:
            if is_worker(service):
                record.jobs_in_flight += self.probe.jobs_held_by(self._worker_id(service))
        record.identity_before = ",".join(str(self.platform.identity(s)) for s in services)
        inject, heal = self._verbs(fault.action)
        self._heals[record.index] = lambda: self._heal(record, services, heal)
        for service in services:
            inject(service)
        record.effective = time.time()
        log.info("Fault %d: %s took effect", record.index, record.describe())
        if fault.action != "restart" and self._stop.wait(fault.duration):
            return  # interrupted: heal_all() heals it
        with self._lock:
            heal_now = self._heals.pop(record.index, None)
        if heal_now:
            heal_now()

    def _heal(self, record: FaultRecord, services: list[str], heal) -> None:
        try:
            for service in services:
                heal(service)
            record.healed = time.time()
            record.identity_after = ",".join(str(self.platform.identity(s)) for s in services)
            if record.action in ("kill", "terminate", "restart") and (
                record.identity_after == record.identity_before
            ):
                raise PlatformError(f"{record.service} has the same identity after restart")
            record.ok = record.error is None
        except PlatformError as exc:
            record.error = f"heal failed: {exc}"
            record.ok = False

    def _close(self, record: FaultRecord) -> None:
        self.writer.write({"type": "fault", **asdict(record)})

    # --- verbs ---------------------------------------------------------------------------

    def _verbs(self, action: str) -> tuple[Callable[[str], None], Callable[[str], None]]:
        """(inject, heal) for an action."""
        if action in ("kill", "restart"):
            return self._down(self.platform.kill), self._up
        if action == "terminate":
            return self._down(self.platform.terminate), self._up
        if action == "pause":
            return self.platform.pause, self.platform.resume
        return self._partition("disconnect"), self._partition("reconnect")

    def _down(self, verb: Callable[[str], None]) -> Callable[[str], None]:
        def inject(service: str) -> None:
            verb(service)
            if self.platform.is_up(service):
                raise PlatformError(f"{service} still answers after {verb.__name__}")

        return inject

    def _up(self, service: str) -> None:
        self.platform.start_service(service)
        if not self.platform.is_up(service):
            raise PlatformError(f"{service} did not come back")

    def _partition(self, verb: str) -> Callable[[str], None]:
        method = getattr(self.platform, verb, None)
        if method is None:
            raise PlatformError(f"partition faults are not supported on {self.platform.name}")
        return method

    def _worker_id(self, service: str) -> str:
        """The WORKER_ID a worker service runs with (a pod name on Kubernetes)."""
        translate = getattr(self.platform, "worker_id", None)
        return translate(service) if translate else service

    def _resolve(self, target: str) -> list[str]:
        workers = [s for s in self.platform.services() if is_worker(s)]
        if target == "workers":
            return workers
        if target in ("worker", "busy-worker"):
            if not workers:
                raise PlatformError(f"target {target!r}: no workers are running")
            busy = self.probe.busy_workers() if target == "busy-worker" else {}
            candidates = [w for w in workers if busy.get(self._worker_id(w))] or workers
            return [self.rng.choice(sorted(candidates))]
        if target not in self.platform.services():
            raise PlatformError(
                f"target {target!r} does not exist; have {self.platform.services()}"
            )
        return [target]


def can_run(platform: Platform, faults: list[Fault]) -> list[str]:
    """Problems with running ``faults`` on ``platform``, found before anything starts."""
    problems = []
    for index, fault in enumerate(faults):
        if fault.action == "partition" and not hasattr(platform, "disconnect"):
            problems.append(f"faults[{index}]: partition is not supported on {platform.name}")
        if fault.action == "pause" and getattr(platform, "supports_pause", True) is False:
            problems.append(f"faults[{index}]: pause is not supported on {platform.name}")
    return problems
