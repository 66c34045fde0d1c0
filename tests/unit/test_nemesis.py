"""Faults against the in-memory platform: verified, healed, recorded."""

from __future__ import annotations

import time

import pytest

from chaos.faults import Nemesis, can_run
from chaos.history import HistoryWriter, load_faults
from chaos.platforms.base import SystemOptions
from chaos.platforms.fake import FakePlatform
from chaos.scenario import Fault


class NoProbe:
    def jobs_held_by(self, worker):
        return [7] if worker == "worker-1" else []

    def busy_workers(self):
        return {"worker-1": 1}


def play(platform, faults, tmp_path, seed=1):
    platform.start(2, SystemOptions())
    nemesis = Nemesis(platform, NoProbe(), faults, seed, HistoryWriter(tmp_path / "f.jsonl"))
    nemesis.start(time.time())
    nemesis.wait(10)
    nemesis.heal_all()
    return nemesis.records, load_faults(tmp_path / "f.jsonl")


def test_a_kill_is_verified_healed_and_recorded(tmp_path):
    platform = FakePlatform()
    records, logged = play(
        platform, [Fault(at=0, action="kill", target="redis", duration=0.05)], tmp_path
    )
    (record,) = records
    assert record.ok and record.error is None
    assert record.identity_before != record.identity_after
    assert record.started <= record.effective <= record.healed
    assert ("kill", "redis") in platform.calls and ("start_service", "redis") in platform.calls
    assert logged[0]["action"] == "kill" and logged[0]["ok"] is True


def test_a_kill_that_did_not_take_effect_is_reported_not_trusted(tmp_path):
    records, _ = play(
        FakePlatform(broken={"kill"}), [Fault(at=0, action="kill", target="postgres")], tmp_path
    )
    assert not records[0].ok
    assert "still answers" in records[0].error


def test_a_restart_that_keeps_the_same_process_is_reported(tmp_path):
    records, _ = play(
        FakePlatform(broken={"start_service"}),
        [Fault(at=0, action="restart", target="api")],
        tmp_path,
    )
    assert not records[0].ok
    assert "did not come back" in records[0].error


def test_busy_worker_targets_the_worker_holding_jobs_and_records_them(tmp_path):
    records, _ = play(FakePlatform(), [Fault(at=0, action="kill", target="busy-worker")], tmp_path)
    assert records[0].service == "worker-1"
    assert records[0].jobs_in_flight == [7]


def test_a_pause_is_resumed_by_heal_all_when_interrupted(tmp_path):
    platform = FakePlatform()
    platform.start(1, SystemOptions())
    nemesis = Nemesis(
        platform,
        NoProbe(),
        [Fault(at=0, action="pause", target="redis", duration=60)],
        1,
        HistoryWriter(tmp_path / "f.jsonl"),
    )
    nemesis.start(time.time())
    time.sleep(0.2)
    assert not platform.is_up("redis")
    nemesis.stop()
    nemesis.heal_all()
    assert platform.is_up("redis")
    assert platform.calls[-1] == ("resume", "redis")


def test_scale_changes_the_worker_count(tmp_path):
    platform = FakePlatform()
    play(platform, [Fault(at=0, action="scale", target="workers", count=5)], tmp_path)
    assert len([s for s in platform.services() if s.startswith("worker-")]) == 5


def test_unsupported_faults_are_refused_before_the_run():
    problems = can_run(FakePlatform(), [Fault(at=1, action="partition", target="redis")])
    assert problems == ["faults[0]: partition is not supported on fake"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_schedules_replay_from_their_seed(seed):
    from chaos.scenario import RandomFaults

    schedule = RandomFaults(faults=5)
    assert schedule.schedule(seed) == schedule.schedule(seed)
    assert schedule.schedule(seed) != schedule.schedule(seed + 100)
