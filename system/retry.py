"""Capped exponential backoff with jitter: for reconnects and for retrying failed jobs."""

from __future__ import annotations

import random


def backoff_delay(
    failures: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Delay before try number ``failures + 1``: full jitter over ``min(cap, base * 2**n)``.

    Half the ceiling is kept as a floor so that delays still grow visibly with ``failures``.
    """
    ceiling = min(cap, base * (2 ** max(0, failures - 1)))
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2


class Backoff:
    """Reconnect pacing: 0.1 s, 0.2 s, 0.4 s ... up to 2 s, jittered."""

    def __init__(self, base: float = 0.1, cap: float = 2.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        return backoff_delay(self.failures, self.base, self.cap)

    def reset(self) -> None:
        self.failures = 0
