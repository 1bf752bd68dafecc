"""Executions through boto3 against the real engine: start, describe, list, stop, history."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.api.stepfunctions.conftest import ROLE, definition, error_of
from tests.api.stepfunctions.helpers import finished, history, machine

PASS_STATES = {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}
WAIT_STATES = {"W": {"Type": "Wait", "Seconds": 600, "End": True}}


def test_start_describe_and_list(sfn: Any) -> None:
    arn = machine(sfn, PASS_STATES, "P")
    started = sfn.start_execution(stateMachineArn=arn, name="first", input='{"a": 1}')
    execution = started["executionArn"]
    assert execution == arn.replace(":stateMachine:", ":execution:") + ":first"
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["input"]) == {"a": 1}
    assert described["inputDetails"] == {"included": True}
    assert json.loads(described["output"]) == {"Arg1": "argument1"}
    assert described["outputDetails"] == {"included": True}
    assert described["redriveCount"] == 0
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    assert described["stopDate"] >= described["startDate"]
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["executionArn"] for e in listed] == [execution]
    assert listed[0]["status"] == "SUCCEEDED"
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    for_execution = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert for_execution["stateMachineArn"] == arn
    assert json.loads(for_execution["definition"])["States"] == PASS_STATES
    # A finished name cannot be reused.
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists) as caught:
        sfn.start_execution(stateMachineArn=arn, name="first", input='{"a": 1}')
    assert error_of(caught)[1] == f"Execution Already Exists: '{execution}'"


def test_idempotent_start_and_stop(sfn: Any) -> None:
    arn = machine(sfn, WAIT_STATES, "W")
    first = sfn.start_execution(stateMachineArn=arn, name="slot-1", input="{}")
    again = sfn.start_execution(stateMachineArn=arn, name="slot-1", input="{}")
    assert again == {**first, "ResponseMetadata": again["ResponseMetadata"]}
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="slot-1", input='{"other": 1}')
    running = sfn.describe_execution(executionArn=first["executionArn"])
    assert running["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven"
    stopped = sfn.stop_execution(executionArn=first["executionArn"], error="E", cause="C")
    described = finished(sfn, first["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "E", "C")
    assert described["redriveStatus"] == "REDRIVABLE"
    assert described["stopDate"] == stopped["stopDate"]
    events = history(sfn, first["executionArn"])
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "E", "cause": "C"}


def test_errors_of_executions(sfn: Any) -> None:
    arn = machine(sfn, PASS_STATES, "P")
    with pytest.raises(sfn.exceptions.InvalidExecutionInput) as caught:
        sfn.start_execution(stateMachineArn=arn, input="not json")
    assert error_of(caught)[1] == (
        "Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting "
        "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')'"
    )
    with pytest.raises(sfn.exceptions.InvalidExecutionInput) as quoted:
        sfn.start_execution(stateMachineArn=arn, input="{'a': 1}")
    assert error_of(quoted)[1] == (
        "Invalid State Machine Execution Input: 'Unexpected character (''' (code 39)): was "
        "expecting double-quote to start field name'"
    )
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=arn, name="a b")
    missing = arn.replace(":stateMachine:", ":execution:") + ":nope"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist) as absent:
        sfn.describe_execution(executionArn=missing)
    assert error_of(absent)[1] == f"Execution Does Not Exist: '{missing}'"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn=missing)
    with pytest.raises(sfn.exceptions.InvalidArn) as invalid:
        sfn.describe_execution(executionArn="invalid_execution_arn")
    assert error_of(invalid)[1] == "Invalid Arn: 'Invalid ARN prefix: invalid_execution_arn'"
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported) as sync:
        sfn.start_sync_execution(stateMachineArn=arn)
    assert error_of(sync)[1] == "This operation is not supported by this type of state machine"
    with pytest.raises(sfn.exceptions.ValidationException) as status:
        sfn.list_executions(stateMachineArn=arn, statusFilter="succeeded")
    assert error_of(status)[1].startswith(
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: ["
    )
    gone = arn + "-gone"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=gone)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_executions(stateMachineArn=gone)


def test_list_executions_pagination_newest_first(sfn: Any) -> None:
    arn = machine(sfn, PASS_STATES, "P")
    names = [f"e{i:02d}" for i in range(13)]
    for name in names:
        sfn.start_execution(stateMachineArn=arn, name=name)
    first = sfn.list_executions(stateMachineArn=arn, maxResults=10)
    assert len(first["executions"]) == 10
    rest = sfn.list_executions(stateMachineArn=arn, maxResults=10, nextToken=first["nextToken"])
    assert "nextToken" not in rest
    listed = [e["name"] for e in first["executions"] + rest["executions"]]
    assert sorted(listed) == names
    starts = [e["startDate"] for e in first["executions"] + rest["executions"]]
    assert starts == sorted(starts, reverse=True)


def test_history_paging_reverse_and_without_data(sfn: Any) -> None:
    states: dict[str, Any] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(9)}
    states["S9"] = {"Type": "Pass", "End": True}
    arn = machine(sfn, states, "S0")
    execution = sfn.start_execution(stateMachineArn=arn, input='{"k": "v"}')["executionArn"]
    finished(sfn, execution)
    everything = sfn.get_execution_history(executionArn=execution)["events"]
    assert len(everything) == 22
    assert [e["id"] for e in everything] == list(range(1, 23))
    assert everything[0]["type"] == "ExecutionStarted"
    assert json.loads(everything[0]["executionStartedEventDetails"]["input"]) == {"k": "v"}
    assert everything[-1]["type"] == "ExecutionSucceeded"
    paged = history(sfn, execution, maxResults=5)
    assert paged == everything
    backwards = history(sfn, execution, maxResults=7, reverseOrder=True)
    assert backwards == list(reversed(everything))
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    assert "input" not in bare[0]["executionStartedEventDetails"]
    assert bare[1]["stateEnteredEventDetails"]["name"] == "S0"
    assert "input" not in bare[1]["stateEnteredEventDetails"]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(executionArn=execution, nextToken="bogus")


def test_versions_and_alias_executions(sfn: Any) -> None:
    arn = machine(sfn, PASS_STATES, "P", publish=True)
    alias = sfn.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    )["stateMachineAliasArn"]
    by_alias = sfn.start_execution(stateMachineArn=alias, name="via-alias")["executionArn"]
    by_version = sfn.start_execution(stateMachineArn=f"{arn}:1", name="via-v1")["executionArn"]
    plain = sfn.start_execution(stateMachineArn=arn, name="plain")["executionArn"]
    described = finished(sfn, by_alias)
    assert described["stateMachineAliasArn"] == alias
    assert described["stateMachineVersionArn"] == f"{arn}:1"
    assert described["stateMachineArn"] == arn
    assert finished(sfn, by_version)["stateMachineVersionArn"] == f"{arn}:1"
    finished(sfn, plain)
    versioned = sfn.list_executions(stateMachineArn=f"{arn}:1")["executions"]
    assert sorted(e["executionArn"] for e in versioned) == sorted([by_alias, by_version])
    aliased = sfn.list_executions(stateMachineArn=alias)["executions"]
    assert [e["executionArn"] for e in aliased] == [by_alias]
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 3


def test_delete_with_running_execution_is_deleting(sfn: Any) -> None:
    arn = machine(sfn, WAIT_STATES, "W")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    sfn.delete_state_machine(stateMachineArn=arn)
    assert sfn.describe_state_machine(stateMachineArn=arn)["status"] == "DELETING"
    with pytest.raises(sfn.exceptions.StateMachineDeleting):
        sfn.start_execution(stateMachineArn=arn)
    sfn.stop_execution(executionArn=execution)
    finished(sfn, execution)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)
    # The execution outlives its machine, and so does the definition it ran.
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    ran = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert json.loads(ran["definition"])["States"] == WAIT_STATES


def test_failed_execution_and_redrive_refusal(sfn: Any) -> None:
    arn = machine(sfn, {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}, "F")
    execution = sfn.start_execution(stateMachineArn=arn, name=f"r-{uuid.uuid4().hex[:6]}")[
        "executionArn"
    ]
    failed = finished(sfn, execution)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Boom", "bad")
    assert failed["redriveStatus"] == "REDRIVABLE"
    assert "redriveStatusReason" not in failed
    assert "output" not in failed
    done = machine(sfn, PASS_STATES, "P")
    succeeded = sfn.start_execution(stateMachineArn=done)["executionArn"]
    finished(sfn, succeeded)
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable) as caught:
        sfn.redrive_execution(executionArn=succeeded)
    assert error_of(caught)[1] == "Execution is SUCCEEDED and cannot be redriven"
    assert sfn.list_executions(stateMachineArn=arn, redriveFilter="NOT_REDRIVEN")["executions"]
    assert not sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"]


def test_definition_is_unchanged_text(sfn: Any) -> None:
    text = definition()
    arn = sfn.create_state_machine(name=f"t-{uuid.uuid4().hex[:6]}", definition=text, roleArn=ROLE)[
        "stateMachineArn"
    ]
    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == text


def test_history_details_shapes() -> None:
    from datetime import UTC, datetime

    from batchyard.api.stepfunctions.history import wire_event
    from batchyard.store import HistoryEvent

    now = datetime.now(UTC)
    keyed = HistoryEvent("e", 3, 2, "ExecutionAborted", now, {"executionAbortedEventDetails": {}})
    assert wire_event(keyed)["executionAbortedEventDetails"] == {}
    bare = HistoryEvent("e", 4, 3, "ParallelStateStarted", now, {})
    assert set(wire_event(bare)) == {"id", "previousEventId", "timestamp", "type"}
    plain = HistoryEvent("e", 2, 0, "WaitStateEntered", now, {"name": "W", "input": "{}"})
    assert wire_event(plain, include_data=False)["stateEnteredEventDetails"] == {"name": "W"}
