"""Task states with Python Lambda handlers: results, events, errors, Retry and Catch."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchyard.asl import VirtualClock, execute

LEGACY = "arn:aws:lambda:us-east-1:123456789012:function:{}"
INVOKE = "arn:aws:states:::lambda:invoke"


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": resource, **fields, "End": True}},
    }


def double(event: Any, context: Any) -> Any:
    return {"doubled": event["n"] * 2, "fn": context.function_name}


class BadInput(Exception):
    pass


def explode(event: Any, context: Any) -> Any:
    raise BadInput(f"cannot handle {event['n']}")


def test_legacy_lambda_result_is_the_payload() -> None:
    result = execute(_task(LEGACY.format("double")), {"n": 2}, functions={"double": double})
    assert result.output == {"doubled": 4, "fn": "double"}
    assert _types(result.events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["previousEventId"] for e in result.events] == [0, 0, 2, 3, 4, 5, 6]
    scheduled = result.events[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled == {
        "resource": LEGACY.format("double"),
        "input": '{"n":2}',
        "inputDetails": {"truncated": False},
    }
    assert "lambdaFunctionStartedEventDetails" not in result.events[3]
    assert result.events[4]["lambdaFunctionSucceededEventDetails"] == {
        "output": '{"doubled":4,"fn":"double"}',
        "outputDetails": {"truncated": False},
    }


@pytest.mark.parametrize(
    "function_name",
    [
        "double",
        "arn:aws:lambda:us-east-1:123456789012:function:double",
        "123456789012:function:double",
        "arn:aws:lambda:us-east-1:123456789012:function:double:$LATEST",
    ],
)
def test_lambda_invoke_result_wraps_the_payload(function_name: str) -> None:
    definition = _task(INVOKE, Parameters={"FunctionName": function_name, "Payload.$": "$"})
    result = execute(definition, {"n": 3}, functions={"double": double})
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert output["Payload"] == {"doubled": 6, "fn": "double"}
    assert output["StatusCode"] == 200
    assert output["ExecutedVersion"] == "$LATEST"
    request_id = output["SdkResponseMetadata"]["RequestId"]
    http = output["SdkHttpMetadata"]
    assert http["HttpStatusCode"] == 200
    assert http["HttpHeaders"]["x-amzn-RequestId"] == request_id
    assert http["AllHttpHeaders"]["Content-Length"] == [
        str(len(json.dumps({"doubled": 6, "fn": "double"})))
    ]
    assert list(output) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert _types(result.events)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = result.events[2]["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "lambda"
    assert scheduled["resource"] == "invoke"
    assert scheduled["region"] == "us-east-1"
    assert json.loads(scheduled["parameters"]) == {
        "FunctionName": function_name,
        "Payload": {"n": 3},
    }
    assert result.events[3]["taskStartedEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
    }


def test_handler_exception_becomes_error_and_runtime_json_cause() -> None:
    result = execute(_task(LEGACY.format("explode")), {"n": 1}, functions={"explode": explode})
    assert result.status == "FAILED"
    assert result.error == "BadInput"
    assert result.cause is not None
    cause = json.loads(result.cause)
    assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert cause["errorMessage"] == "cannot handle 1"
    assert cause["errorType"] == "BadInput"
    assert cause["stackTrace"][0].startswith('  File "')
    assert "in explode\n" in cause["stackTrace"][0]
    # Lambda's Python runtime prints the document with json.dumps' default separators.
    assert result.cause == json.dumps(cause)
    assert _types(result.events)[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]
    assert result.events[-2]["lambdaFunctionFailedEventDetails"] == {
        "error": "BadInput",
        "cause": result.cause,
    }


def test_missing_function_is_resource_not_found() -> None:
    definition = _task(INVOKE, Parameters={"FunctionName": "nope", "Payload": {}})
    result = execute(definition, {})
    assert result.error == "Lambda.ResourceNotFoundException"
    assert result.cause is not None
    assert result.cause.startswith(
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope "
        "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "
    )
    failed = result.events[-2]["taskFailedEventDetails"]
    assert failed["resourceType"] == "lambda" and failed["error"] == result.error


def test_retry_backoff_uses_virtual_time_and_per_retrier_counters() -> None:
    attempts: list[int] = []

    def flaky(event: Any, context: Any) -> Any:
        attempts.append(context.get_remaining_time_in_millis())
        if len(attempts) < 4:
            raise (TimeoutError if len(attempts) == 1 else ValueError)("try again")
        return "ok"

    retry = [
        {"ErrorEquals": ["TimeoutError"], "IntervalSeconds": 1, "MaxAttempts": 1},
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "BackoffRate": 2, "MaxAttempts": 2},
    ]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    result = execute(
        _task(LEGACY.format("flaky"), Retry=retry),
        {},
        functions={"flaky": flaky},
        clock=VirtualClock(start),
    )
    assert result.status == "SUCCEEDED" and result.output == "ok"
    scheduled = [
        e["timestamp"] - start for e in result.events if e["type"] == "LambdaFunctionScheduled"
    ]
    # 1 s for the first retrier; then 3 s and 6 s for the second, which counts on its own.
    assert scheduled == [
        timedelta(0),
        timedelta(seconds=1),
        timedelta(seconds=4),
        timedelta(seconds=10),
    ]


def test_max_delay_caps_backoff_and_max_attempts_zero_never_retries() -> None:
    def fails(event: Any, context: Any) -> Any:
        raise ValueError("no")

    start = datetime(2024, 1, 1, tzinfo=UTC)
    retry = [
        {"ErrorEquals": ["KeyError"], "MaxAttempts": 0},
        {
            "ErrorEquals": ["ValueError"],
            "IntervalSeconds": 10,
            "BackoffRate": 10,
            "MaxAttempts": 3,
            "MaxDelaySeconds": 50,
        },
    ]
    result = execute(
        _task(LEGACY.format("fails"), Retry=retry),
        {},
        functions={"fails": fails},
        clock=VirtualClock(start),
    )
    scheduled = [
        e["timestamp"] - start for e in result.events if e["type"] == "LambdaFunctionScheduled"
    ]
    assert scheduled == [
        timedelta(0),
        timedelta(seconds=10),
        timedelta(seconds=60),
        timedelta(seconds=110),
    ]
    once = execute(
        _task(LEGACY.format("fails"), Retry=[{"ErrorEquals": ["ValueError"], "MaxAttempts": 0}]),
        {},
        functions={"fails": fails},
    )
    assert _types(once.events).count("LambdaFunctionScheduled") == 1


def test_retry_count_is_in_the_context_object() -> None:
    seen: list[Any] = []

    def record(event: Any, context: Any) -> Any:
        seen.append(event["retry"])
        if len(seen) < 3:
            raise ValueError("again")
        return event

    definition = _task(
        INVOKE,
        Parameters={"FunctionName": "record", "Payload": {"retry.$": "$$.State.RetryCount"}},
        Retry=[{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1}],
    )
    result = execute(definition, {}, functions={"record": record})
    assert result.status == "SUCCEEDED"
    assert seen == [0, 1, 2]


def test_catch_puts_error_output_at_result_path_and_goes_on() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": LEGACY.format("explode"),
                "Catch": [
                    {"ErrorEquals": ["KeyError"], "Next": "Wrong"},
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.err",
                        "Next": "Handled",
                    },
                ],
                "End": True,
            },
            "Wrong": {"Type": "Fail"},
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    result = execute(definition, {"n": 5}, functions={"explode": explode})
    assert result.status == "SUCCEEDED"
    assert result.output["n"] == 5
    assert result.output["err"]["Error"] == "BadInput"
    assert json.loads(result.output["err"]["Cause"])["errorMessage"] == "cannot handle 5"
    assert _types(result.events)[4:7] == [
        "LambdaFunctionFailed",
        "TaskStateExited",
        "PassStateEntered",
    ]
    exited = result.events[5]
    assert exited["previousEventId"] == result.events[4]["id"]


def test_states_all_does_not_catch_runtime_errors() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": LEGACY.format("double"),
                "InputPath": "$.missing",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
                "End": True,
            },
            "C": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {}, functions={"double": double})
    assert result.error == "States.Runtime"
    assert _types(result.events) == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::ecs:runTask.sync",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:us-east-1:123456789012:activity:work",
        "arn:aws:states:::states:startExecution.sync:2",
    ],
)
def test_unsupported_resources_fail_naming_the_resource(resource: str) -> None:
    result = execute(_task(resource, Parameters={"FunctionName": "double"}), {})
    assert result.error == "States.Runtime"
    assert result.cause is not None and f"'{resource}'" in result.cause


def test_handler_gets_a_copy_and_a_lambda_context() -> None:
    received: list[Any] = []

    def inspect(event: Any, context: Any) -> Any:
        event["mutated"] = True
        received.append(
            (context.function_name, context.aws_request_id, context.invoked_function_arn)
        )
        return None

    given = {"a": 1}
    result = execute(
        _task(LEGACY.format("inspect"), ResultPath="$.r"), given, functions={"inspect": inspect}
    )
    assert result.output == {"a": 1, "r": None}
    assert given == {"a": 1}
    name, request_id, arn = received[0]
    assert name == "inspect" and len(request_id) == 36
    assert arn == LEGACY.format("inspect")


def test_task_timeout_and_heartbeat_appear_in_scheduled_event() -> None:
    definition = _task(
        INVOKE,
        Parameters={"FunctionName": "double", "Payload": {"n": 1}},
        TimeoutSecondsPath="$.t",
        HeartbeatSeconds=5,
    )
    result = execute(definition, {"t": 30}, functions={"double": double})
    details = result.events[2]["taskScheduledEventDetails"]
    assert details["timeoutInSeconds"] == 30
    assert details["heartbeatInSeconds"] == 5


@pytest.mark.parametrize(
    ("resource", "timed_out"),
    [(LEGACY.format("slow"), "LambdaFunctionTimedOut"), (INVOKE, "TaskTimedOut")],
)
def test_handler_running_past_timeout_seconds_is_states_timeout(
    resource: str, timed_out: str
) -> None:
    def slow(event: Any, context: Any) -> Any:
        time.sleep(1.05)
        return "late"

    definition = _task(
        resource,
        Parameters={"FunctionName": "slow"},
        TimeoutSeconds=1,
        Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}],
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    result = execute(definition, {}, functions={"slow": slow})
    assert result.output == {"Error": "States.Timeout", "Cause": ""}
    assert timed_out in _types(result.events)
