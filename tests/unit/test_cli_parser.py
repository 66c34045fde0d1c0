"""The chaos command's parser: where flags go, what a usage error exits with, how lists wrap."""

from __future__ import annotations

import pytest

from chaos import cli


def test_verbose_works_before_and_after_the_subcommand():
    parser = cli.build_parser()
    assert parser.parse_args(["run"]).verbose is False
    assert parser.parse_args(["-v", "run"]).verbose is True
    assert parser.parse_args(["run", "-v"]).verbose is True
    assert parser.parse_args(["list", "--verbose"]).verbose is True


def test_a_usage_error_exits_with_its_own_code_not_the_unknown_verdicts(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["run", "--seed", "seven"])
    assert exited.value.code == cli.EXIT_USAGE != 2
    assert "invalid int value: 'seven'" in capsys.readouterr().err


def test_every_exit_code_is_explained_in_the_help():
    for code, meaning in cli.EXIT_CODES.items():
        assert f"{code} {meaning.split(':')[0]}" in cli.__doc__.replace("\n", " ")


def test_list_prints_whole_descriptions_wrapped_to_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    assert cli.cmd_list(None) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 72 for line in lines)
    shipped = {p.stem for p in cli.SCENARIOS_DIR.glob("*.yaml")}
    named = {line.split()[0] for line in lines if not line.startswith(" ")}
    assert named == shipped
    assert len(lines) > len(shipped)  # descriptions go on past their first line


def test_each_invocation_keeps_its_own_junit_file(tmp_path):
    results = [{"scenario": "a", "result": "pass", "exit_code": 0, "violations": {}}]
    first = cli.write_suite_junit(tmp_path, results)
    second = cli.write_suite_junit(tmp_path, results)
    assert first != second and first.exists() and second.exists()
    assert (tmp_path / "junit.xml").read_bytes() == second.read_bytes()
