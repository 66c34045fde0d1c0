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


def test_a_dry_run_prints_the_resolved_plan_with_the_overrides_and_starts_nothing(capsys, tmp_path):
    out = tmp_path / "runs"
    argv = [
        "run",
        "worker-kill-mid-job",
        "--dry-run",
        "--set",
        "load.duration=7",
        "--out",
        str(out),
    ]
    assert cli.main([*argv, "--set", "workers=5"]) == 0
    text = capsys.readouterr().out
    assert "== worker-kill-mid-job (dry run: nothing is started)" in text
    assert "workers=5" in text and ", 7 s," in text
    assert "kill worker-0" in text or "kill busy-worker" in text
    assert not out.exists()


def test_a_bad_override_is_a_usage_error_naming_it(capsys):
    assert cli.main(["run", "db-restart", "--dry-run", "--set", "load.users=many"]) == 4
    err = capsys.readouterr().err
    assert "after --set load.users=many" in err and "load.users" in err and "'many'" in err


def test_status_of_a_finished_run_shows_its_stored_final_state(tmp_path, capsys):
    import json

    run = tmp_path / "run"
    run.mkdir()
    meta = {"scenario": "db-restart", "finished": 1.0, "exit_code": 1}
    (run / "meta.json").write_text(json.dumps(meta))
    (run / "endpoints.json").write_text(json.dumps({"database_url": "postgresql://gone:1/x"}))
    jobs = [
        {"id": 1, "status": "DONE", "image_url": "http://f/images/a.jpg"},
        {"id": 2, "status": "PENDING", "image_url": "http://f/images/b.jpg"},
        {"id": 3, "status": "DONE", "image_url": "http://f/images/c.jpg"},
    ]
    (run / "jobs.jsonl").write_text("".join(json.dumps(j) + "\n" for j in jobs))
    assert cli.main(["status", str(run)]) == 0
    out = capsys.readouterr().out
    assert "finished run of db-restart: exit 1 (an invariant failed)" in out
    assert "DONE        2" in out and "PENDING     1" in out
    assert out.index("       3 DONE") < out.index("       1 DONE")
    assert "cannot reach" not in out
