"""``batchyard run-local`` end to end, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from batchyard.cli.main import app

runner = CliRunner()


def test_runs_the_readme_example(repo_root: Path) -> None:
    example = repo_root / "examples" / "hello.asl.json"
    result = runner.invoke(
        app,
        [
            "run-local",
            str(example),
            "--input",
            '{"name": "world", "items": [1, 2, 3, 4]}',
            "--output",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["status"] == "SUCCEEDED"
    assert document["output"] == [{"count": 4}, "Hello, world!"]
    types = [event["type"] for event in document["events"]]
    assert types[0] == "ExecutionStarted"
    assert "WaitStateEntered" in types  # four items: the Choice takes the Wait branch
    assert types[-1] == "ExecutionSucceeded"


def test_table_output_shows_history_and_output(repo_root: Path) -> None:
    example = repo_root / "examples" / "hello.asl.json"
    result = runner.invoke(
        app,
        ["run-local", str(example), "--input", '{"name": "ada", "items": [1]}'],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Execution history" in result.output
    assert "MapIterationStarted" in result.output
    assert '"Hello, ada!"' in result.output
    assert "WaitStateEntered" not in result.output


def test_failed_execution_exits_1(tmp_path: Path) -> None:
    definition = tmp_path / "fail.asl.json"
    definition.write_text(
        json.dumps(
            {
                "StartAt": "Boom",
                "States": {"Boom": {"Type": "Fail", "Error": "Custom.Error", "Cause": "it broke"}},
            }
        )
    )
    result = runner.invoke(app, ["run-local", str(definition)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "Custom.Error" in result.output
    assert "it broke" in result.output


def test_invalid_definition_exits_2_naming_the_problem(tmp_path: Path) -> None:
    definition = tmp_path / "bad.asl.json"
    definition.write_text(
        json.dumps({"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}})
    )
    result = runner.invoke(app, ["run-local", str(definition)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "Invalid State Machine Definition" in result.output
    assert "Missing" in result.output


def test_bad_json_input_exits_2(tmp_path: Path, repo_root: Path) -> None:
    example = repo_root / "examples" / "hello.asl.json"
    result = runner.invoke(app, ["run-local", str(example), "--input", "{nope"])
    assert result.exit_code == 2
    assert "--input is not valid JSON" in result.output


def test_unreadable_definition_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run-local", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
