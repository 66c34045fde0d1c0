"""An in-memory platform for unit tests of harness logic: no processes, every verb recorded.

``FakePlatform(broken={"kill"})`` makes a verb silently do nothing, to prove that faults
verify their effect instead of trusting the platform.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from chaos.errors import PlatformError
from chaos.platforms.base import Endpoints, SystemOptions, is_worker, restart_verified, worker_name


@dataclass
class FakeService:
    identity: int
    up: bool = True
    paused: bool = False


class FakePlatform:
    name = "fake"

    def __init__(self, broken: set[str] | frozenset[str] = frozenset()) -> None:
        self.broken = set(broken)
        self.calls: list[tuple[str, str]] = []
        self.state: dict[str, FakeService] = {}
        self._ids = itertools.count(100)
        self.started = False

    def start(self, workers: int, options: SystemOptions) -> Endpoints:
        self.calls.append(("start", str(workers)))
        for name in ("redis", "postgres", "api", "fixtures"):
            self.state[name] = FakeService(next(self._ids))
        self.scale_workers(workers)
        self.started = True
        return self.endpoints()

    def discard_data(self) -> None:
        self.calls.append(("discard_data", ""))

    def stop(self) -> None:
        self.calls.append(("stop", ""))
        self.state.clear()
        self.started = False

    def endpoints(self) -> Endpoints:
        return Endpoints(
            "http://fake-api",
            "postgresql://fake/job_db",
            "redis://fake/0",
            "http://fake-fixtures",
            "http://fake-fixtures",
        )

    def services(self) -> list[str]:
        return sorted(self.state)

    def identity(self, service: str) -> str | None:
        svc = self._get(service)
        return str(svc.identity) if svc.up else None

    def is_up(self, service: str) -> bool:
        svc = self._get(service)
        return svc.up and not svc.paused

    def kill(self, service: str) -> None:
        self._do("kill", service, lambda s: setattr(s, "up", False))

    def terminate(self, service: str) -> None:
        self._do("terminate", service, lambda s: setattr(s, "up", False))

    def start_service(self, service: str) -> None:
        def start(svc: FakeService) -> None:
            svc.up, svc.paused, svc.identity = True, False, next(self._ids)

        self._do("start_service", service, start)

    def restart(self, service: str) -> None:
        restart_verified(self, service)

    def pause(self, service: str) -> None:
        self._do("pause", service, lambda s: setattr(s, "paused", True))

    def resume(self, service: str) -> None:
        self._do("resume", service, lambda s: setattr(s, "paused", False))

    def scale_workers(self, count: int) -> None:
        self.calls.append(("scale_workers", str(count)))
        workers = sorted((n for n in self.state if is_worker(n)), key=lambda n: int(n[7:]))
        for index in range(len(workers), count):
            self.state[worker_name(index)] = FakeService(next(self._ids))
        for name in workers[count:]:
            del self.state[name]

    def collect_logs(self, dest: Path) -> list[Path]:
        self.calls.append(("collect_logs", str(dest)))
        return []

    def _get(self, service: str) -> FakeService:
        if service not in self.state:
            raise PlatformError(f"no service {service!r}")
        return self.state[service]

    def _do(self, verb: str, service: str, change) -> None:
        self.calls.append((verb, service))
        svc = self._get(service)
        if verb not in self.broken:
            change(svc)
