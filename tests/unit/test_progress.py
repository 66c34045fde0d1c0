"""The progress line: phases, active faults, and how often it prints off a terminal."""

from __future__ import annotations

import io

from chaos.progress import PLAIN_EVERY, Progress
from chaos.scenario import Fault


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


FAULTS = [Fault(at=2, action="kill", target="redis", duration=3), Fault(at=4, action="pause")]


def test_the_line_names_the_phase_the_active_faults_and_the_counts():
    clock, out = Clock(), io.StringIO()
    progress = Progress("db-restart", 30, FAULTS, stream=out, clock=clock)
    progress.set_phase("load")
    clock.now += 4.5
    progress.update({"counts": {"DONE": 7, "PENDING": 3, "FAILED": 1}})
    line = progress.line()
    assert "db-restart: load, fault 1 and 2 of 2 active (kill redis, pause worker)" in line
    assert "4/30 s" in line and "jobs 7 done, 1 failed, 11 in all" in line
    clock.now += 5
    assert "db-restart: load |" in progress.line()


def test_off_a_terminal_it_prints_plain_lines_at_phase_changes_and_every_few_seconds():
    clock, out = Clock(), io.StringIO()
    progress = Progress("s", 20, stream=out, clock=clock)
    progress.set_phase("load")
    for _ in range(int(PLAIN_EVERY * 2) * 2):  # two samples a second for 2 * PLAIN_EVERY s
        clock.now += 0.5
        progress.update({"counts": {"DONE": 1}})
    progress.set_phase("checking")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 1 + 2 + 1  # load, two periodic lines, checking
    assert lines[-1].startswith("   s: checking")


def test_on_a_terminal_it_rewrites_one_line_and_clears_it_at_the_end():
    clock, out = Clock(), Terminal()
    progress = Progress("s", 20, stream=out, clock=clock)
    progress.set_phase("load")
    progress.update({"counts": {"DONE": 2}})
    progress.close()
    text = out.getvalue()
    assert "\n" not in text and text.count("\r\033[K") == 3 and text.endswith("\r\033[K")


def test_a_fault_starting_or_ending_prints_at_once_off_a_terminal():
    clock, out = Clock(), io.StringIO()
    progress = Progress("s", 20, FAULTS[:1], stream=out, clock=clock)
    progress.set_phase("load")
    for _ in range(12):  # 6 s at two samples a second: fault 1 runs from 2 s to 5 s
        clock.now += 0.5
        progress.update({"counts": {}})
    lines = out.getvalue().splitlines()
    assert (
        [line.split(" | ")[0] for line in lines]
        == [
            "   s: load",
            "   s: load, fault 1 of 1 active (kill redis)",
            "   s: load",
            "   s: load",  # the periodic line, PLAIN_EVERY after the last
        ][: len(lines)]
    )
    assert len(lines) >= 3
