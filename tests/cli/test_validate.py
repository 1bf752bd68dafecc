"""``batchyard validate``: exit 0 valid, 1 invalid, 2 unreadable; every diagnostic shown."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli, write

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
INVALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}


def test_valid_definition(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "ok.asl.json", json.dumps(VALID))
    result = cli("validate", str(path))
    assert result.exit_code == 0
    assert "valid" in result.stdout and "invalid" not in result.stdout


def test_invalid_definition_lists_diagnostics(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.asl.json", json.dumps(INVALID))
    result = cli("validate", str(path), "-o", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["result"] == "FAIL"
    assert {d["code"] for d in document["diagnostics"]} >= {"MISSING_TRANSITION_TARGET"}
    table = cli("validate", str(path))
    assert table.exit_code == 1
    assert "MISSING_TRANSITION_TARGET" in table.stdout and "/States/A/Next" in table.stdout


def test_not_json_is_invalid(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "text.asl.json", "{not json")
    result = cli("validate", str(path))
    assert result.exit_code == 1


def test_express_refuses_sync_integrations(cli: Cli, tmp_path: Path) -> None:
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {"TaskDefinition": "x"},
                "End": True,
            }
        },
    }
    path = write(tmp_path / "sync.asl.json", json.dumps(definition))
    assert cli("validate", str(path)).exit_code == 0
    assert cli("validate", str(path), "--type", "EXPRESS").exit_code == 1


def test_missing_file_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot read ")


def test_diagnostics_carry_the_line_of_their_pointer(cli: Cli, tmp_path: Path) -> None:
    text = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "Next": "Missing"}\n  }\n}\n'
    path = write(tmp_path / "lines.asl.json", text)
    result = cli("validate", str(path), "-o", "json")
    by_code = {d["code"]: d for d in json.loads(result.stdout)["diagnostics"]}
    assert by_code["MISSING_TRANSITION_TARGET"]["line"] == 4
    table = cli("validate", str(path))
    assert f"{path}:4" in table.stdout
    assert "\x1b[" not in table.output  # no colours when stdout is not a terminal


def test_a_project_file_is_checked_offline(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "flow.asl.json", json.dumps(VALID))
    good = write(
        tmp_path / "batchyard.yaml",
        "project: p\nstate_machines:\n  flow:\n    definition: flow.asl.json\n",
    )
    result = cli("validate", str(good))
    assert result.exit_code == 0, result.output
    assert "valid project p (1 state machine)" in result.stdout
    bad = write(
        tmp_path / "bad.yml", "project: p\nschedules:\n  s:\n    expression: rate(1 hours)\n"
    )
    result = cli("validate", str(bad))
    assert result.exit_code == 1
    assert (
        f"{bad}:4:17: schedules.s.expression: Invalid Schedule Expression rate(1 hours)."
        in result.stderr
    )
    assert cli("validate", str(tmp_path / "none.yaml")).exit_code == 2
