"""ValidateStateMachineDefinition and TestState."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.stepfunctions.conftest import PASS, ROLE, definition, error_of


def test_validate_ok_and_fail(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=definition())
    assert ok["result"] == "OK"
    assert ok["diagnostics"] == []
    assert ok["truncated"] is False
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Nope"}}}
    failed = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert failed["result"] == "FAIL"
    assert failed["diagnostics"]
    assert {d["severity"] for d in failed["diagnostics"]} == {"ERROR"}
    assert all(d["code"] and d["message"] for d in failed["diagnostics"])
    one = sfn.validate_state_machine_definition(definition=json.dumps(bad), maxResults=1)
    assert len(one["diagnostics"]) == 1
    assert one["truncated"] is (len(failed["diagnostics"]) > 1)
    broken = sfn.validate_state_machine_definition(definition="not a definition")
    assert broken["result"] == "FAIL"
    assert broken["diagnostics"] == [
        {
            "code": "INVALID_JSON_DESCRIPTION",
            "location": '[Source: (String)"not a definition"; line: 1, column: 4]',
            "message": "Unrecognized token 'not': was expecting (JSON String, Number, Array, "
            "Object or token 'null', 'true' or 'false')\n at "
            '[Source: (String)"not a definition"; line: 1, column: 4]',
            "severity": "ERROR",
        }
    ]
    # No location at all for a definition that is not an object (AWS omits the member).
    listed = sfn.validate_state_machine_definition(definition="[]")
    assert listed["diagnostics"] == [
        {
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Definition must be a valid JSON object",
            "severity": "ERROR",
        }
    ]
    express = {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "End": True,
            }
        },
    }
    refused = sfn.validate_state_machine_definition(definition=json.dumps(express), type="EXPRESS")
    assert refused["diagnostics"] == [
        {
            "code": "SCHEMA_VALIDATION_FAILED",
            "location": "/States/S/Resource",
            "message": "Express state machine does not support '.waitForTaskToken' service "
            "integration ",
            "severity": "ERROR",
        }
    ]


def test_test_state_pass_with_next_and_debug(sfn: Any) -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.in",
        "Parameters": {"doubled.$": "States.MathAdd($.v, $.v)"},
        "ResultPath": "$.out",
        "Next": "After",
    }
    answer = sfn.test_state(
        definition=json.dumps(state),
        roleArn=ROLE,
        input=json.dumps({"in": {"v": 4}}),
        inspectionLevel="DEBUG",
    )
    assert answer["status"] == "SUCCEEDED"
    assert answer["nextState"] == "After"
    assert json.loads(answer["output"]) == {"in": {"v": 4}, "out": {"doubled": 8}}
    data = answer["inspectionData"]
    assert json.loads(data["input"]) == {"in": {"v": 4}}
    assert json.loads(data["afterInputPath"]) == {"v": 4}
    assert json.loads(data["afterParameters"]) == {"doubled": 8}
    assert json.loads(data["afterResultPath"]) == {"in": {"v": 4}, "out": {"doubled": 8}}
    info = sfn.test_state(definition=json.dumps(state), input=json.dumps({"in": {"v": 1}}))
    assert "inspectionData" not in info


def test_test_state_choice_fail_and_named_state(sfn: Any) -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
        "Default": "Small",
    }
    big = sfn.test_state(definition=json.dumps(choice), input='{"n": 9}')
    assert (big["status"], big["nextState"]) == ("SUCCEEDED", "Big")
    small = sfn.test_state(definition=json.dumps(choice), input='{"n": 1}')
    assert small["nextState"] == "Small"
    fail = sfn.test_state(definition=json.dumps({"Type": "Fail", "Error": "E", "Cause": "C"}))
    assert (fail["status"], fail["error"], fail["cause"]) == ("FAILED", "E", "C")
    named = sfn.test_state(definition=definition(), stateName="State_1")
    assert json.loads(named["output"]) == PASS["States"]["State_1"]["Result"]  # type: ignore[index]
    with pytest.raises(sfn.exceptions.ValidationException) as caught:
        sfn.test_state(definition=definition(), stateName="Missing")
    assert error_of(caught)[1] == "State not found in definition"
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition=json.dumps({"Type": "Bogus"}))


IO_INPUT = {
    "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
    "unrelatedData": {"someOtherField": 1234},
}


def _debug(sfn: Any, state: dict[str, Any], data: Any) -> dict[str, Any]:
    answer: dict[str, Any] = sfn.test_state(
        definition=json.dumps(state), input=json.dumps(data), inspectionLevel="DEBUG"
    )
    answer.pop("ResponseMetadata")
    answer["output"] = json.loads(answer["output"]) if "output" in answer else None
    answer["inspectionData"] = {
        k: json.loads(v) if isinstance(v, str) else v for k, v in answer["inspectionData"].items()
    }
    return answer


def test_test_state_inspection_as_recorded_on_aws(sfn: Any) -> None:
    io_pass = {
        "Type": "Pass",
        "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData",
        "End": True,
    }
    modified = {"staticValue": "some value", "inputValue": "value from input"}
    expected = dict(IO_INPUT, modifiedData=modified)
    assert _debug(sfn, io_pass, IO_INPUT) == {
        "status": "SUCCEEDED",
        "output": expected,
        "inspectionData": {
            "input": IO_INPUT,
            "afterInputPath": IO_INPUT["initialData"],
            "afterParameters": modified,
            "afterResultSelector": modified,
            "afterResultPath": expected,
        },
    }
    io_result = {
        "Type": "Pass",
        "Result": {"resultKey": "result value"},
        "ResultPath": "$.modifiedData",
        "End": True,
    }
    with_result = dict(IO_INPUT, modifiedData={"resultKey": "result value"})
    assert _debug(sfn, io_result, IO_INPUT)["inspectionData"] == {
        "input": IO_INPUT,
        "result": {"resultKey": "result value"},
        "afterResultSelector": {"resultKey": "result value"},
        "afterResultPath": with_result,
    }
    failure = {"Type": "Fail", "Error": "SomeFailure", "Cause": "why"}
    assert _debug(sfn, failure, {"Value": "HelloWorld"}) == {
        "status": "FAILED",
        "error": "SomeFailure",
        "cause": "why",
        "output": None,
        "inspectionData": {
            "input": {"Value": "HelloWorld"},
            "afterInputPath": {"Value": "HelloWorld"},
        },
    }
    mapped = {
        "Type": "Map",
        "MaxConcurrency": 1,
        "ItemsPath": "$.Values",
        "ItemProcessor": {
            "StartAt": "I",
            "States": {"I": {"Type": "Pass", "Result": 1, "End": True}},
        },
        "ResultPath": "$.result",
        "End": True,
    }
    mapped_answer = _debug(sfn, mapped, {"Values": [1, 2, 3]})
    assert mapped_answer["inspectionData"] == {"input": {"Values": [1, 2, 3]}, "maxConcurrency": 1}
    assert mapped_answer["output"] == {"Values": [1, 2, 3], "result": [1, 1, 1]}


def test_test_state_task_outcomes(sfn: Any) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "missing-function"},
        "End": True,
    }
    failed = sfn.test_state(definition=json.dumps(task), roleArn=ROLE)
    assert (failed["status"], failed["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    retried = dict(task, Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}])
    retriable = sfn.test_state(definition=json.dumps(retried), roleArn=ROLE)
    assert (retriable["status"], retriable["error"]) == (
        "RETRIABLE",
        "Lambda.ResourceNotFoundException",
    )
    assert "output" not in retriable
    caught = dict(
        task,
        Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}],
    )
    handled = sfn.test_state(definition=json.dumps(caught), roleArn=ROLE, input='{"a": 1}')
    assert (handled["status"], handled["nextState"]) == ("CAUGHT_ERROR", "Handle")
    assert handled["error"] == "Lambda.ResourceNotFoundException"
    output = json.loads(handled["output"])
    assert output["a"] == 1 and output["err"]["Error"] == "Lambda.ResourceNotFoundException"
