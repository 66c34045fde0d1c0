"""Scenario files are validated before anything starts; errors quote the place and value."""

from __future__ import annotations

import pytest

from chaos.cli import SCENARIOS_DIR
from chaos.errors import ScenarioError
from chaos.scenario import find_scenarios, load_scenario


def write(tmp_path, text: str):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_every_shipped_scenario_is_valid():
    names = {load_scenario(p).name for p in find_scenarios(SCENARIOS_DIR)}
    assert {
        "redis-restart",
        "job-recovery",
        "db-restart",
        "scale-under-load",
        "worker-kill-mid-job",
        "api-restart",
        "random-nemesis",
    } <= names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faults:\n  - {at: 1, action: explode, target: redis}", "faults[0].action"),
        ("faults:\n  - {at: 1, action: kill, target: rediss}", "'rediss' is not a target"),
        ("faults:\n  - {at: -1, action: kill, target: redis}", "faults[0].at"),
        ("faults:\n  - {at: 1, action: scale}", "needs count"),
        ("load: {users: 0}", "load.users"),
        ("load: {images: [images/nope.png]}", "'images/nope.png' is not a fixture path"),
        ("expect: {max_lost: -1}", "expect.max_lost"),
        ("system: {NOT_A_SETTING: '1'}", "'NOT_A_SETTING' is not a system setting"),
        ("typo_field: 1", "typo_field"),
        ("random: {between: [5, 1]}", "between must be"),
        ("- just\n- a list", "a scenario is a mapping"),
        ("load: {users: [unclosed", "not valid YAML"),
    ],
)
def test_bad_scenarios_are_refused_with_the_place_and_value(tmp_path, text, message):
    with pytest.raises(ScenarioError) as error:
        load_scenario(write(tmp_path, text))
    assert message in str(error.value)
    assert str(tmp_path / "s.yaml") in str(error.value)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")


def test_the_name_defaults_to_the_file_name(tmp_path):
    path = tmp_path / "my-test.yaml"
    path.write_text("workers: 1\n")
    assert load_scenario(path).name == "my-test"


def test_fixed_and_random_faults_merge_in_time_order(tmp_path):
    scenario = load_scenario(
        write(
            tmp_path,
            """
faults:
  - {at: 9, action: restart, target: redis}
random: {faults: 3, start: 1, between: [1, 2]}
""",
        )
    )
    times = [f.at for f in scenario.fault_schedule(seed=4)]
    assert times == sorted(times) and len(times) == 4


def test_each_validation_error_is_a_line_with_file_line_column_and_a_suggestion(tmp_path):
    text = (
        "worker: 3\n"
        "load:\n"
        "  duraton: 10\n"
        "faults:\n"
        "  - {at: 1, action: kil, target: redis}\n"
        "  - {at: 2, action: kill, target: postgress}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    lines = str(error.value).splitlines()
    assert lines[0] == "invalid scenario (4 problems):"
    assert lines[1:] == [
        f"  {path}:1:1: worker: unknown key (got 3); did you mean 'workers'?",
        f"  {path}:3:3: load.duraton: unknown key (got 10); did you mean 'duration'?",
        f"  {path}:5:21: faults[0].action: Input should be 'kill', 'terminate', 'restart', "
        "'pause', 'scale' or 'partition' (got 'kil'); did you mean 'kill'?",
        f"  {path}:6:35: faults[1].target: 'postgress' is not a target; use one of redis, "
        "postgres, api, fixtures, worker, busy-worker, workers or worker-<n>; "
        "did you mean 'postgres'?",
    ]


def test_no_suggestion_when_nothing_is_close(tmp_path):
    with pytest.raises(ScenarioError) as error:
        load_scenario(write(tmp_path, "zzzzzz: 1\n"))
    assert "unknown key" in str(error.value) and "did you mean" not in str(error.value)


@pytest.mark.parametrize(
    "override, expected",
    [
        ("load.duration=60", {"load": {"duration": 60, "users": 2}, "faults": [{"at": 1}]}),
        ("faults.0.at=3.5", {"load": {"duration": 5, "users": 2}, "faults": [{"at": 3.5}]}),
        (
            "expect.max_lost=0",
            {"load": {"duration": 5, "users": 2}, "faults": [{"at": 1}], "expect": {"max_lost": 0}},
        ),
    ],
)
def test_an_override_sets_one_value_by_its_path(override, expected):
    from chaos.scenario import apply_override

    data = {"load": {"duration": 5, "users": 2}, "faults": [{"at": 1}]}
    apply_override(data, override)
    assert data == expected


@pytest.mark.parametrize(
    "override, message",
    [
        ("load.duration", "expected KEY.PATH=VALUE"),
        ("faults.4.at=1", "'4' is not an index of faults.4.at"),
        ("load.users.x=1", "load.users is not a mapping"),
    ],
)
def test_a_malformed_override_is_refused_with_its_text(override, message):
    from chaos.scenario import apply_override

    with pytest.raises(ScenarioError, match=message):
        apply_override({"load": {"users": 2}, "faults": [{"at": 1}]}, override)
