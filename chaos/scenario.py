"""Scenarios: declarative YAML files, validated by a typed model before anything starts.

A scenario names its load, its faults (a fixed schedule and/or a seeded random one) and its
expectations. ``load_scenario(path)`` returns a ``Scenario`` or raises ``ScenarioError`` with
the file, the place (``faults[1].target``) and the bad value quoted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chaos.errors import ScenarioError
from chaos.fixtures.images import CATALOG
from chaos.scenario_errors import describe_all

Action = Literal["kill", "terminate", "restart", "pause", "scale", "partition"]
# Named services, plus selectors resolved when the fault fires.
TARGETS = ("redis", "postgres", "api", "fixtures", "worker", "busy-worker", "workers")
FIXTURE_ROUTES = ("images", "slow", "flaky")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Load(Strict):
    users: int = Field(8, ge=1, le=500)
    spawn_rate: float = Field(8, gt=0)
    jobs: int | None = Field(None, ge=1, description="stop after this many submissions")
    duration: float = Field(20, gt=0, le=3600, description="seconds of load at most")
    rate: float | None = Field(None, gt=0, description="submissions per second, all users")
    timeout: float = Field(3.0, gt=0, le=60, description="client timeout per request")
    retries: int = Field(5, ge=0, le=20, description="retries of an unknown submission")
    images: tuple[str, ...] = ("images/photo.jpg", "images/small.jpg")

    @field_validator("images")
    @classmethod
    def known_images(cls, images: tuple[str, ...]) -> tuple[str, ...]:
        if not images:
            raise ValueError("at least one image is needed")
        for image in images:
            parts = image.split("/")
            if parts[0] not in FIXTURE_ROUTES or parts[-1] not in CATALOG:
                raise ValueError(
                    f"{image!r} is not a fixture path: use images/<name>, slow/<s>/<name> or "
                    f"flaky/<n>/<name> with a name from {sorted(CATALOG)}"
                )
        return images


class Fault(Strict):
    at: float = Field(ge=0, description="seconds after the load started")
    action: Action
    target: str = "worker"
    duration: float = Field(0, ge=0, le=600, description="seconds before the heal")
    count: int | None = Field(None, ge=0, le=32, description="workers, for scale")

    @field_validator("target")
    @classmethod
    def known_target(cls, target: str) -> str:
        if target in TARGETS or (target.startswith("worker-") and target[7:].isdigit()):
            return target
        raise ValueError(
            f"{target!r} is not a target; use one of {', '.join(TARGETS)} or worker-<n>"
        )

    @model_validator(mode="after")
    def scale_needs_count(self) -> Fault:
        if self.action == "scale" and self.count is None:
            raise ValueError("a scale fault needs count (the number of workers)")
        if self.action != "scale" and self.count is not None:
            raise ValueError(f"count applies to scale faults only, not {self.action!r}")
        return self


class RandomFaults(Strict):
    """A seeded random schedule: ``faults`` faults, spaced ``between`` seconds apart."""

    faults: int = Field(4, ge=1, le=100)
    start: float = Field(3, ge=0)
    between: tuple[float, float] = (3.0, 6.0)
    duration: tuple[float, float] = (0.0, 3.0)
    actions: tuple[Action, ...] = ("kill", "restart", "pause")
    targets: tuple[str, ...] = ("redis", "postgres", "worker", "api")

    @field_validator("targets")
    @classmethod
    def known_targets(cls, targets: tuple[str, ...]) -> tuple[str, ...]:
        for target in targets:
            Fault.known_target(target)
        return targets

    @model_validator(mode="after")
    def ordered_ranges(self) -> RandomFaults:
        for name in ("between", "duration"):
            low, high = getattr(self, name)
            if low < 0 or high < low:
                raise ValueError(f"{name} must be [low, high] with 0 <= low <= high")
        if "scale" in self.actions:
            raise ValueError("scale is not a random action; schedule it explicitly")
        return self

    def schedule(self, seed: int) -> list[Fault]:
        rng = random.Random(seed)
        at, faults = self.start, []
        for _ in range(self.faults):
            faults.append(
                Fault(
                    at=round(at, 2),
                    action=rng.choice(self.actions),
                    target=rng.choice(self.targets),
                    duration=round(rng.uniform(*self.duration), 2),
                )
            )
            at += rng.uniform(*self.between)
        return faults


class Expect(Strict):
    max_lost: int = Field(0, ge=0)
    max_duplicated: int = Field(0, ge=0)
    max_unexpected: int = Field(0, ge=0)
    max_stuck: int = Field(0, ge=0)
    max_failed: int = Field(0, ge=0)
    max_wrong_output: int = Field(0, ge=0)
    min_completed: int = Field(1, ge=0)
    drain_within: float = Field(60, gt=0, description="seconds after load for all jobs")
    recovery_within: float | None = Field(
        None, gt=0, description="seconds from a fault's heal to the next completion"
    )
    killed_jobs_done_within: float | None = Field(
        None, gt=0, description="seconds from a worker kill to DONE for the jobs it held"
    )


class Scenario(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    workers: int = Field(2, ge=0, le=32)
    system: dict[str, str] = Field(default_factory=dict, description="extra system settings")
    load: Load = Load()
    faults: tuple[Fault, ...] = ()
    random: RandomFaults | None = None
    expect: Expect = Expect()
    path: str | None = None

    @field_validator("system")
    @classmethod
    def known_settings(cls, env: dict[str, str]) -> dict[str, str]:
        from system.settings import ENV_VARS

        for variable in env:
            if variable not in ENV_VARS.values():
                raise ValueError(f"{variable!r} is not a system setting")
        return env

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def fault_schedule(self, seed: int) -> list[Fault]:
        """The fixed faults plus the seeded random ones, in time order."""
        faults = list(self.faults)
        if self.random is not None:
            faults += self.random.schedule(seed)
        return sorted(faults, key=lambda f: f.at)


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override (``--set load.duration=60``) and validate one scenario file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping, got {type(data).__name__}")
    data.setdefault("name", path.stem)
    for override in overrides:
        apply_override(data, override)
    try:
        return Scenario(**data, path=str(path))
    except ValidationError as exc:
        lines = describe_all(exc.errors(), text, str(path), vocabulary())
        count = f"{len(lines)} problems" if len(lines) > 1 else "1 problem"
        after = f" after --set {' '.join(overrides)}" if overrides else ""
        raise ScenarioError(
            f"invalid scenario{after} ({count}):\n  " + "\n  ".join(lines)
        ) from None


def apply_override(data: dict, override: str) -> None:
    """``load.duration=60`` or ``faults.0.at=3``: the value is read as YAML, then validated."""
    key, sep, raw = override.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ScenarioError(f"--set {override!r}: expected KEY.PATH=VALUE, e.g. load.duration=60")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"--set {override!r}: the value is not valid YAML: {exc}") from None
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"--set {override!r}: {part!r} is not an index of {key}")
            index: Any = int(part)
        elif isinstance(node, dict):
            index = part
            if not last and part not in node:
                node[part] = {}  # e.g. --set expect.max_lost=0 on a file without expect
        else:
            raise ScenarioError(f"--set {override!r}: {'.'.join(parts[:i])} is not a mapping")
        if last:
            node[index] = value
        else:
            node = node[index]


def vocabulary() -> dict[str, set[str]]:
    """The words a scenario may use, for "did you mean": keys, and values such as targets."""
    keys = set().union(*(m.model_fields for m in (Scenario, Load, Fault, RandomFaults, Expect)))
    return {"keys": keys - {"path"}, "values": set(TARGETS)}


def find_scenarios(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))
