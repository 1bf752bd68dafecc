"""Pass, Choice, Wait, Succeed, Fail: outputs, history events and AWS's error texts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from batchyard.asl import VirtualClock, execute


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def _chain(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in states]
    built: dict[str, Any] = {}
    for index, (name, state) in enumerate(states):
        state = dict(state)
        if state["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in state:
            if index + 1 < len(states):
                state["Next"] = names[index + 1]
            else:
                state["End"] = True
        built[name] = state
    return {"StartAt": names[0], "States": built}


def test_pass_chain_history_has_aws_shape_and_previous_ids() -> None:
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = execute(
        _chain(("A", {"Type": "Pass"}), ("B", {"Type": "Pass", "Result": {"x": "é"}})),
        {"in": 1},
        name="run-1",
        clock=VirtualClock(start),
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"x": "é"}
    assert result.execution_arn.endswith(":execution:StateMachine:run-1")
    events = result.events
    assert _types(events) == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5, 6]
    # AWS: the first state entered points at 0, every later event at the one before it.
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5]
    assert all(e["timestamp"] == start for e in events)
    assert events[0]["executionStartedEventDetails"]["input"] == '{"in":1}'
    assert events[0]["executionStartedEventDetails"]["inputDetails"] == {"truncated": False}
    assert events[1]["stateEnteredEventDetails"] == {
        "name": "A",
        "input": '{"in":1}',
        "inputDetails": {"truncated": False},
    }
    # Compact JSON, non-ASCII kept as is.
    assert events[4]["stateExitedEventDetails"]["output"] == '{"x":"é"}'
    assert events[5]["executionSucceededEventDetails"] == {
        "output": '{"x":"é"}',
        "outputDetails": {"truncated": False},
    }


@pytest.mark.parametrize(
    ("state", "given", "expected"),
    [
        ({"Type": "Pass", "InputPath": "$.a"}, {"a": {"b": 1}}, {"b": 1}),
        ({"Type": "Pass", "InputPath": None}, {"a": 1}, {}),
        ({"Type": "Pass", "OutputPath": None}, {"a": 1}, {}),
        ({"Type": "Pass", "Result": 5, "ResultPath": "$.r"}, {"a": 1}, {"a": 1, "r": 5}),
        ({"Type": "Pass", "Result": 5, "ResultPath": None}, {"a": 1}, {"a": 1}),
        ({"Type": "Pass", "Result": {"k.$": "$.a"}}, {"a": 1}, {"k.$": "$.a"}),
        ({"Type": "Pass", "Parameters": {"k.$": "$.a", "l": 2}}, {"a": 1}, {"k": 1, "l": 2}),
        (
            {"Type": "Pass", "Parameters": {"n.$": "$$.State.Name"}, "OutputPath": "$.n"},
            {},
            "S",
        ),
        (
            {"Type": "Pass", "Parameters": {"f.$": "States.Format('x{}', $.a)"}},
            {"a": 7},
            {"f": "x7"},
        ),
        (
            {"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.b", "OutputPath": "$.b"},
            {"a": {"c": 1}},
            {"c": 1},
        ),
    ],
)
def test_pass_data_flow(state: dict[str, Any], given: Any, expected: Any) -> None:
    result = execute({"StartAt": "S", "States": {"S": {**state, "End": True}}}, given)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == expected


@pytest.mark.parametrize(
    ("state", "given", "error", "cause"),
    [
        (
            {"Type": "Pass", "InputPath": "$.missing"},
            {"a": 1},
            "States.Runtime",
            "An error occurred while executing the state 'S' (entered at the event id #2). "
            "Invalid path '$.missing' : No results for path: $['missing']",
        ),
        (
            {"Type": "Pass", "Parameters": {"x.$": "$.nope"}},
            {"a": 1},
            "States.Runtime",
            "An error occurred while executing the state 'S' (entered at the event id #2). "
            "The JSONPath '$.nope' specified for the field 'x.$' could not be found in the "
            "input '{\"a\":1}'",
        ),
        (
            {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b"},
            {"a": "text"},
            "States.ResultPathMatchFailure",
            "An error occurred while executing the state 'S' (entered at the event id #2). "
            'Unable to apply ReferencePath $.a.b to input {"a":"text"}',
        ),
    ],
)
def test_data_flow_failures(state: dict[str, Any], given: Any, error: str, cause: str) -> None:
    result = execute({"StartAt": "S", "States": {"S": {**state, "End": True}}}, given)
    assert (result.status, result.error, result.cause) == ("FAILED", error, cause)
    assert _types(result.events) == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    assert result.events[-1]["previousEventId"] == 2
    assert result.events[-1]["executionFailedEventDetails"] == {"error": error, "cause": cause}


CHOICE = {
    "StartAt": "C",
    "States": {
        "C": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                {
                    "And": [
                        {"Variable": "$.s", "IsPresent": True},
                        {"Variable": "$.s", "StringMatches": "a*"},
                    ],
                    "Next": "A",
                },
            ],
            "Default": "Other",
        },
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "A": {"Type": "Pass", "Result": "a", "End": True},
        "Other": {"Type": "Pass", "Result": "other", "End": True},
    },
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [({"n": 11}, "big"), ({"n": 1, "s": "abc"}, "a"), ({"n": 1}, "other")],
)
def test_choice_picks_first_matching_rule(given: Any, expected: str) -> None:
    result = execute(CHOICE, given)
    assert result.output == expected
    assert _types(result.events)[1:3] == ["ChoiceStateEntered", "ChoiceStateExited"]
    assert (
        result.events[2]["stateExitedEventDetails"]["output"]
        == result.events[1]["stateEnteredEventDetails"]["input"]
    )


def test_choice_missing_variable_is_runtime_error() -> None:
    result = execute(CHOICE, {"s": "x"})
    assert result.error == "States.Runtime"
    assert result.cause == (
        "An error occurred while executing the state 'C' (entered at the event id #2). "
        "Invalid path '$.n': The choice state's condition path references an invalid value."
    )


def test_choice_without_match_or_default_fails() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "E"}],
            },
            "E": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {"n": 2})
    assert result.status == "FAILED"
    assert result.error == "States.NoChoiceMatched"
    assert _types(result.events) == ["ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"]


def test_wait_advances_virtual_time_only() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    definition = _chain(
        ("W1", {"Type": "Wait", "Seconds": 30}),
        ("W2", {"Type": "Wait", "SecondsPath": "$.s"}),
        ("W3", {"Type": "Wait", "Timestamp": "2024-01-01T01:00:00Z"}),
        ("W4", {"Type": "Wait", "TimestampPath": "$.t"}),
    )
    result = execute(
        definition, {"s": 15, "t": "2023-01-01T00:00:00.5Z"}, clock=VirtualClock(start)
    )
    assert result.status == "SUCCEEDED"
    stamps = {
        (e["type"], e.get("stateExitedEventDetails", {}).get("name")): e["timestamp"]
        for e in result.events
    }
    assert stamps[("WaitStateExited", "W1")] == datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert stamps[("WaitStateExited", "W2")] == datetime(2024, 1, 1, 0, 0, 45, tzinfo=UTC)
    assert stamps[("WaitStateExited", "W3")] == datetime(2024, 1, 1, 1, tzinfo=UTC)
    # A timestamp in the past continues at once.
    assert stamps[("WaitStateExited", "W4")] == datetime(2024, 1, 1, 1, tzinfo=UTC)


def test_wait_timestamp_path_must_be_iso_with_offset() -> None:
    definition = _chain(("W", {"Type": "Wait", "TimestampPath": "$.t"}))
    result = execute(definition, {"t": "2016-12-05T21:29:29"})
    assert result.error == "States.Runtime"
    assert result.cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). "
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        "date-time format string: $.t == 2016-12-05T21:29:29"
    )


@pytest.mark.parametrize(
    ("fail", "given", "error", "cause"),
    [
        ({"Error": "E", "Cause": "C"}, {}, "E", "C"),
        ({"Error": "E"}, {}, "E", None),
        ({}, {}, None, None),
        ({"ErrorPath": "$.e", "CausePath": "$.c"}, {"e": "E1", "c": "C1"}, "E1", "C1"),
        (
            {"Error": "E", "CausePath": "States.Format('n={}', $.n)"},
            {"n": 3},
            "E",
            "n=3",
        ),
    ],
)
def test_fail_state(fail: dict[str, Any], given: Any, error: Any, cause: Any) -> None:
    result = execute({"StartAt": "F", "States": {"F": {"Type": "Fail", **fail}}}, given)
    assert (result.status, result.error, result.cause) == ("FAILED", error, cause)
    assert _types(result.events) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    details = result.events[-1]["executionFailedEventDetails"]
    assert details == {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}


def test_succeed_applies_input_and_output_path() -> None:
    definition = {
        "StartAt": "S",
        "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}},
    }
    result = execute(definition, {"a": {"b": [1]}})
    assert result.output == [1]
    assert _types(result.events) == [
        "ExecutionStarted",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_state_output_over_256_kib_is_terminal() -> None:
    definition = _chain(("Big", {"Type": "Pass", "Parameters": {"v.$": "$.v"}}))
    result = execute(definition, {"v": "x" * 262_144})
    assert result.error == "States.DataLimitExceeded"
    assert result.cause == (
        "The state/task 'Big' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )


def test_context_object_fields() -> None:
    start = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    definition = _chain(("S", {"Type": "Pass", "Parameters": {"c.$": "$$"}}))
    result = execute(definition, {"k": 1}, name="exec", clock=VirtualClock(start))
    ctx = result.output["c"]
    assert ctx["Execution"]["Name"] == "exec"
    assert ctx["Execution"]["Input"] == {"k": 1}
    assert ctx["Execution"]["StartTime"] == "2024-05-06T07:08:09.123Z"
    assert ctx["Execution"]["Id"] == result.execution_arn
    assert ctx["State"] == {"Name": "S", "EnteredTime": "2024-05-06T07:08:09.123Z", "RetryCount": 0}
    assert ctx["StateMachine"]["Name"] == "StateMachine"
