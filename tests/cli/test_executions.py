"""``batchyard executions`` against a real server: listings, describe, history, graph, errors."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import pytest

from tests.api.conftest import RunningServer
from tests.cli.conftest import Cli

ROLE = "arn:aws:iam::123456789012:role/cli"
CAUGHT = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Call"},
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "cli-missing-function"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "Done",
        },
        "Recover": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Never": {"Type": "Fail", "Error": "X", "Cause": "unreachable on purpose"},
    },
}


def _wait_done(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


@pytest.fixture(scope="module")
def executions(server: RunningServer) -> dict[str, str]:
    sfn = server.client("stepfunctions")
    definition = dict(CAUGHT)
    definition["States"] = {k: v for k, v in CAUGHT["States"].items() if k != "Never"}
    caught = sfn.create_state_machine(
        name="cli-caught", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    failing = sfn.create_state_machine(
        name="cli-failing",
        definition=json.dumps(
            {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E", "Cause": "c"}}}
        ),
        roleArn=ROLE,
    )["stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=caught, name="first")["executionArn"]
    failed = sfn.start_execution(stateMachineArn=failing, name="broken")["executionArn"]
    _wait_done(sfn, first)
    _wait_done(sfn, failed)
    return {"caught": first, "failed": failed, "machine": caught}


def test_list_all_and_filtered(cli: Cli, executions: dict[str, str]) -> None:
    everything = cli("executions", "list", "--output", "json")
    assert everything.exit_code == 0, everything.output
    rows = json.loads(everything.stdout)
    by_name = {row["name"]: row for row in rows}
    assert by_name["first"]["status"] == "SUCCEEDED"
    assert by_name["broken"]["status"] == "FAILED"
    assert by_name["broken"]["arn"] == executions["failed"]

    only_failed = cli("executions", "list", "--status", "FAILED", "--output", "csv")
    assert only_failed.exit_code == 0
    table = list(csv.DictReader(io.StringIO(only_failed.stdout)))
    assert {row["name"] for row in table} == {"broken"}

    by_machine = cli("executions", "list", "--state-machine", "cli-caught")
    assert by_machine.exit_code == 0
    assert "first" in by_machine.stdout and "broken" not in by_machine.stdout


def test_list_unknown_state_machine_is_exit_1(cli: Cli, executions: dict[str, str]) -> None:
    result = cli("executions", "list", "--state-machine", "no-such-machine")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: StateMachineDoesNotExist: ")


def test_bad_status_is_a_usage_error(cli: Cli) -> None:
    result = cli("executions", "list", "--status", "DONE")
    assert result.exit_code == 2


def test_describe_shows_status_and_output(cli: Cli, executions: dict[str, str]) -> None:
    result = cli("executions", "describe", executions["failed"])
    assert result.exit_code == 0, result.output
    assert "FAILED" in result.stdout and "broken" in result.stdout
    as_json = json.loads(cli("executions", "describe", executions["failed"], "-o", "json").stdout)
    assert as_json["error"] == "E" and as_json["cause"] == "c"


def test_describe_missing_execution_prints_aws_error(cli: Cli, executions: dict[str, str]) -> None:
    missing = executions["caught"] + "-gone"
    result = cli("executions", "describe", missing)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: ExecutionDoesNotExist: Execution Does Not Exist: '{missing}'"
    )
    assert "Traceback" not in result.output


def test_history_lists_events_in_order(cli: Cli, executions: dict[str, str]) -> None:
    result = cli("executions", "history", executions["caught"], "-o", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    types = [row["type"] for row in rows]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert [int(row["id"]) for row in rows] == list(range(1, len(rows) + 1))
    assert "TaskFailed" in types


def test_graph_colours_states_by_status(cli: Cli, executions: dict[str, str]) -> None:
    result = cli("executions", "graph", executions["caught"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "(" in line}
    assert "SUCCEEDED" in lines["Prepare"]
    assert "CAUGHT ERROR" in lines["Call"]
    assert "Lambda.ResourceNotFoundException" in lines["Call"]
    assert "SUCCEEDED" in lines["Recover"] and "SUCCEEDED" in lines["Done"]


def test_graph_of_failed_execution(cli: Cli, executions: dict[str, str]) -> None:
    result = cli("executions", "graph", executions["failed"])
    assert result.exit_code == 0
    assert "FAILED" in result.stdout.splitlines()[0]
    assert "Boom (Fail) FAILED" in result.stdout


NESTED = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
            "ResultPath": None,
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
            "ResultPath": None,
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.skip", "BooleanEquals": True, "Next": "Skipped"}],
            "Default": "Finish",
        },
        "Skipped": {"Type": "Pass", "Next": "Finish"},
        "Finish": {"Type": "Succeed"},
    },
}


def test_graph_of_parallel_map_and_a_branch_not_taken(cli: Cli, server: RunningServer) -> None:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="cli-nested", definition=json.dumps(NESTED), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"items": [1, 2, 3], "skip": False})
    )["executionArn"]
    _wait_done(sfn, arn)
    result = cli("executions", "graph", arn)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Fan (Parallel) SUCCEEDED" in text
    assert (
        "branch 1" in text and "Left (Pass) SUCCEEDED" in text and "Right (Pass) SUCCEEDED" in text
    )
    assert "each item" in text and "Item (Pass) SUCCEEDED (entered 3 times)" in text
    assert "Skipped (Pass) NOT RUN" in text
    assert "Route (Choice) SUCCEEDED → Skipped, Finish" in text
    # Depth first from StartAt: the order an execution meets the states.
    order = [name for name in ("Fan", "Each", "Route", "Skipped", "Finish") if name in text]
    assert sorted(order, key=text.index) == ["Fan", "Each", "Route", "Skipped", "Finish"]
