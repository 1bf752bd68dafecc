"""Variables (Assign, scoping, assignedVariables) and the JSONata query language."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchyard.asl import execute


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def _exited(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(
        e["stateExitedEventDetails"]
        for e in events
        if e.get("stateExitedEventDetails", {}).get("name") == name
    )


def echo(event: Any, context: Any) -> Any:
    return event


def test_jsonpath_assign_reads_values_held_on_entry_and_is_recorded_on_exit() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1, "name.$": "$.name"}, "Next": "B"},
            "B": {
                "Type": "Pass",
                "Assign": {"x.$": "States.MathAdd($x, 1)", "before.$": "$x"},
                "Next": "C",
            },
            "C": {
                "Type": "Pass",
                "Parameters": {"x.$": "$x", "before.$": "$before", "name.$": "$name"},
                "End": True,
            },
        },
    }
    result = execute(definition, {"name": "n"})
    assert result.output == {"x": 2, "before": 1, "name": "n"}
    a = _exited(result.events, "A")
    assert a["assignedVariables"] == {"x": "1", "name": '"n"'}
    assert a["assignedVariablesDetails"] == {"truncated": False}
    assert "assignedVariables" not in _exited(result.events, "C")


def test_inner_scopes_read_outer_variables_but_keep_their_own() -> None:
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemsPath": "$.xs",
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {
                            "Type": "Pass",
                            "Assign": {"inner": 1},
                            "Parameters": {"o.$": "$outer", "v.$": "$"},
                            "End": True,
                        }
                    },
                },
                "Next": "After",
            },
            "After": {"Type": "Pass", "Parameters": {"inner.$": "$inner"}, "End": True},
        },
    }
    result = execute(definition, {"xs": [1]})
    # The inner assignment never reaches the outer scope: reading it fails like any unknown path.
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert _exited(result.events, "M")["output"] == '[{"o":"o","v":1}]'


def test_catcher_assign_and_choice_rule_assign() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.go",
                        "BooleanEquals": True,
                        "Assign": {"via": "rule"},
                        "Next": "T",
                    }
                ],
                "Default": "T",
            },
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:absent",
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Assign": {"err.$": "$.Error"},
                        "ResultPath": None,
                        "Next": "E",
                    }
                ],
                "End": True,
            },
            "E": {"Type": "Pass", "Parameters": {"via.$": "$via", "err.$": "$err"}, "End": True},
        },
    }
    result = execute(definition, {"go": True})
    assert result.output == {"via": "rule", "err": "Lambda.ResourceNotFoundException"}
    assert _exited(result.events, "C")["assignedVariables"] == {"via": '"rule"'}
    assert _exited(result.events, "T")["assignedVariables"] == {
        "err": '"Lambda.ResourceNotFoundException"'
    }


JSONATA_TASK = {
    "QueryLanguage": "JSONata",
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "echo", "Payload": {"n": "{% $states.input.n + 1 %}"}},
            "Assign": {"seen": "{% $states.result.Payload.n %}"},
            "Output": "{% $states.result.Payload %}",
            "Next": "P",
        },
        "P": {
            "Type": "Pass",
            "Output": {"seen": "{% $seen %}", "input": "{% $states.input %}"},
            "End": True,
        },
    },
}


def test_jsonata_task_arguments_output_and_assign() -> None:
    result = execute(JSONATA_TASK, {"n": 1}, functions={"echo": echo})
    assert result.output == {"seen": 2, "input": {"n": 2}}
    scheduled = result.events[2]["taskScheduledEventDetails"]
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "echo", "Payload": {"n": 2}}


def test_jsonata_default_output_is_the_result_and_catch_error_output() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "missing"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    result = execute(definition, {})
    assert result.output["Error"] == "Lambda.ResourceNotFoundException"
    assert set(result.output) == {"Error", "Cause"}


def test_jsonata_choice_condition_and_map_items() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $count($states.input.xs) > 1 %}", "Next": "M"}],
                "Default": "Few",
            },
            "Few": {"Type": "Succeed"},
            "M": {
                "Type": "Map",
                "Items": "{% $states.input.xs %}",
                "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 10 %}"},
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {
                        "I": {"Type": "Pass", "Output": "{% $states.input.v %}", "End": True}
                    },
                },
                "End": True,
            },
        },
    }
    assert execute(definition, {"xs": [1, 2]}).output == [10, 20]
    assert execute(definition, {"xs": [1]}).output == {"xs": [1]}


def test_jsonata_evaluation_failure_records_evaluation_failed() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": "{% $states.input.absent %}", "End": True}},
    }
    result = execute(definition, {})
    assert result.error == "States.QueryEvaluationError"
    assert _types(result.events) == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    details = result.events[2]["evaluationFailedEventDetails"]
    assert details["state"] == "P"
    assert details["error"] == "States.QueryEvaluationError"
    assert details["cause"] == result.cause
    assert result.cause is not None
    assert result.cause.startswith(
        "An error occurred while executing the state 'P' (entered at the event id #2). "
    )


@pytest.mark.parametrize(("seconds", "expected_seconds"), [("{% $states.input.s %}", 7), (3, 3)])
def test_jsonata_wait_seconds(seconds: Any, expected_seconds: int) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}},
    }
    result = execute(definition, {"s": 7})
    waited = result.events[2]["timestamp"] - result.events[1]["timestamp"]
    assert waited.total_seconds() == expected_seconds


@pytest.mark.parametrize(
    ("go", "expected"), [(True, {"via": '"rule"'}), (False, {"via": '"default"'})]
)
def test_choice_state_assign_applies_only_when_default_is_taken(go: bool, expected: Any) -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.go",
                        "BooleanEquals": True,
                        "Assign": {"via": "rule"},
                        "Next": "E",
                    }
                ],
                "Assign": {"via": "default"},
                "Default": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {"go": go})
    assert _exited(result.events, "C")["assignedVariables"] == expected


def test_jsonata_output_failure_is_beyond_catch() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "echo", "Payload": {}},
                "Output": "{% $states.result.Payload.absent %}",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {}, functions={"echo": echo})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert _types(result.events)[-3:] == ["TaskSucceeded", "EvaluationFailed", "ExecutionFailed"]
