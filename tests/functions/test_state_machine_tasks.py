"""Step Functions Lambda tasks in server mode call the stored functions (through boto3)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.api.conftest import RunningServer
from tests.functions.conftest import create

SFN_ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:{}"


def run(server: RunningServer, name: str, definition: dict[str, Any], data: Any) -> Any:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=SFN_ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(data))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            history = sfn.get_execution_history(executionArn=execution["executionArn"])
            return described, history["events"]
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


def one_task(resource: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return {"StartAt": "Invoke", "States": {"Invoke": {**task, **extra}}}


INVOKE = "arn:aws:states:::lambda:invoke"


def test_lambda_invoke_runs_the_stored_function(server: RunningServer, lam: Any) -> None:
    create(lam, "sfn-echo")
    definition = {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "sfn-echo", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Next": "Legacy",
            },
            "Legacy": {"Type": "Task", "Resource": FUNCTION.format("sfn-echo"), "End": True},
        },
    }
    described, _ = run(server, "echo-machine", definition, {"n": 7})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    # The legacy task got the first task's payload as its event.
    assert output["echo"]["echo"] == {"n": 7}


def test_a_failing_function_is_caught_by_its_error_type(server: RunningServer, lam: Any) -> None:
    create(lam, "sfn-fails")
    catch = [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}]
    definition = one_task(
        INVOKE, {"FunctionName": FUNCTION.format("sfn-fails"), "Payload.$": "$"}, Catch=catch
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    described, events = run(server, "fails-machine", definition, {"action": "fail", "why": "y"})
    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "ValueError"
    cause = json.loads(error["Cause"])
    assert cause["errorMessage"] == "bad input: y"
    assert cause["errorType"] == "ValueError"
    assert cause["stackTrace"] and cause["stackTrace"][0].startswith('  File "')
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert failed and failed[0]["taskFailedEventDetails"]["error"] == "ValueError"


def test_a_missing_function_is_lambdas_resource_not_found(server: RunningServer, lam: Any) -> None:
    definition = one_task(INVOKE, {"FunctionName": "sfn-missing", "Payload": {}})
    described, _ = run(server, "missing-machine", definition, {})
    assert described["status"] == "FAILED"
    assert described["error"] == "Lambda.ResourceNotFoundException"
    assert described["cause"].startswith(
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:sfn-missing"
    )


def test_a_timed_out_function_fails_the_task_as_sandbox_timedout(
    server: RunningServer, lam: Any
) -> None:
    create(lam, "sfn-slow", Timeout=1)
    definition = one_task(INVOKE, {"FunctionName": "sfn-slow", "Payload.$": "$"})
    described, _ = run(server, "slow-machine", definition, {"action": "sleep", "seconds": 5})
    assert described["status"] == "FAILED"
    assert described["error"] == "Sandbox.Timedout"
    cause = json.loads(described["cause"])
    assert cause["errorType"] == "Sandbox.Timedout"
    assert cause["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")


CALLBACK = """
import json
import boto3

def handler(event, context):
    sfn = boto3.client("stepfunctions")  # endpoint and credentials: the server's, via env
    sfn.send_task_success(taskToken=event["token"], output=json.dumps({"done": event["n"]}))
    return "sent"
"""


def test_wait_for_task_token_with_a_function_that_calls_back(
    server: RunningServer, lam: Any
) -> None:
    create(lam, "sfn-callback", source=CALLBACK, Timeout=20)
    definition = one_task(
        INVOKE + ".waitForTaskToken",
        {"FunctionName": "sfn-callback", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
    )
    described, _ = run(server, "callback-machine", definition, {"n": 3})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"done": 3}
