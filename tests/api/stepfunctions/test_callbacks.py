"""Activity workers, .waitForTaskToken callbacks, nested executions, Express sync runs."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.config import Config  # type: ignore[import-untyped]

from tests.api.stepfunctions.conftest import SfnServer, error_of
from tests.api.stepfunctions.helpers import event_of, finished, history, machine, wait_until


def test_activity_worker_loop(sfn_server: SfnServer) -> None:
    sfn = sfn_server.client()
    activity = sfn.create_activity(name=f"work-{uuid.uuid4().hex[:6]}")["activityArn"]
    arn = machine(
        sfn,
        {"Work": {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 60, "End": True}},
        "Work",
    )
    executions = [
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": n}))["executionArn"]
        for n in range(3)
    ]
    done: list[int] = []

    def worker() -> None:
        client = sfn_server.client()
        while len(done) < 3:
            task = client.get_activity_task(activityArn=activity, workerName="w1")
            if not task.get("taskToken"):
                continue
            client.send_task_heartbeat(taskToken=task["taskToken"])
            n = json.loads(task["input"])["n"]
            client.send_task_success(taskToken=task["taskToken"], output=json.dumps({"sq": n * n}))
            done.append(n)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    outputs = [json.loads(finished(sfn, e)["output"]) for e in executions]
    thread.join(timeout=20)
    assert sorted(o["sq"] for o in outputs) == [0, 1, 4]
    events = history(sfn, executions[0])
    assert event_of(events, "ActivityStarted")["activityStartedEventDetails"] == {
        "workerName": "w1"
    }
    # Nothing queued: the long poll ends empty after its wait.
    assert "taskToken" not in sfn.get_activity_task(activityArn=activity)


def test_wait_for_task_token_callback(sfn: Any) -> None:
    arn = machine(
        sfn,
        {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                    "MessageBody": {"token.$": "$$.Task.Token"},
                },
                "Next": "Answer",
            },
            "Answer": {"Type": "Pass", "End": True},
        },
        "Ask",
    )
    ok = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    bad = sfn.start_execution(stateMachineArn=arn)["executionArn"]

    def token(execution: str) -> str | None:
        for event in history(sfn, execution):
            if event["type"] == "TaskScheduled":
                params = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return str(params["MessageBody"]["token"])
        return None

    sfn.send_task_success(taskToken=wait_until(lambda: token(ok)), output='{"approved": true}')
    assert json.loads(finished(sfn, ok)["output"]) == {"approved": True}
    bad_token = wait_until(lambda: token(bad))
    sfn.send_task_failure(taskToken=bad_token, error="Rejected", cause="no")
    failed = finished(sfn, bad)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Rejected", "no")
    # A second answer for a closed task is refused as AWS refuses it.
    with pytest.raises(sfn.exceptions.ClientError) as closed:
        sfn.send_task_success(taskToken=bad_token, output="{}")
    assert error_of(closed) == (
        "TaskTimedOut",
        "Task Timed Out: 'Provided task does not exist anymore'",
    )
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="not-a-token", output="{}")


def test_nested_sync_execution(sfn: Any) -> None:
    child = machine(sfn, {"C": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": True}}, "C")
    parent = machine(
        sfn,
        {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child, "Input": {"x.$": "$.x"}},
                "OutputPath": "$.Output",
                "End": True,
            }
        },
        "Run",
    )
    execution = sfn.start_execution(stateMachineArn=parent, input='{"x": 42}')["executionArn"]
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"got": 42}
    children = sfn.list_executions(stateMachineArn=child)["executions"]
    assert len(children) == 1 and children[0]["status"] == "SUCCEEDED"


def test_express_start_sync_execution(sfn: Any) -> None:
    arn = machine(
        sfn,
        {"E": {"Type": "Pass", "Parameters": {"echo.$": "$.v"}, "End": True}},
        "E",
        type="EXPRESS",
    )
    answer = sfn.start_sync_execution(stateMachineArn=arn, name="sync-1", input='{"v": 7}')
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"echo": 7}
    assert answer["stateMachineArn"] == arn
    assert answer["executionArn"].startswith(
        arn.replace(":stateMachine:", ":express:") + ":sync-1:"
    )
    assert answer["name"] == "sync-1"
    assert answer["inputDetails"] == answer["outputDetails"] == {"included": True}
    assert set(answer["billingDetails"]) == {"billedDurationInMilliseconds", "billedMemoryUsedInMB"}
    assert answer["stopDate"] >= answer["startDate"]
    bare = sfn.start_sync_execution(stateMachineArn=arn, input="{}", includedData="METADATA_ONLY")
    assert "input" not in bare and "output" not in bare
    assert bare["inputDetails"] == {"included": False}
    failing = machine(
        sfn, {"F": {"Type": "Fail", "Error": "E1", "Cause": "C1"}}, "F", type="EXPRESS"
    )
    failed = sfn.start_sync_execution(stateMachineArn=failing)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "E1", "C1")
    with pytest.raises(sfn.exceptions.InvalidArn) as caught:
        sfn.describe_execution(executionArn=answer["executionArn"])
    assert error_of(caught)[1] == "Invalid Arn: 'Resource type not valid in this context: express'"
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.list_executions(stateMachineArn=arn)
    started = sfn.start_execution(stateMachineArn=arn, input='{"v": 1}')
    assert ":express:" in started["executionArn"]


def test_idle_pollers_do_not_block_the_server(sfn_server: SfnServer) -> None:
    """More long polls than the server has worker threads, and other requests still pass."""
    shared = boto3.client(
        "stepfunctions",
        endpoint_url=sfn_server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(max_pool_connections=80, retries={"max_attempts": 1}, read_timeout=90),
    )
    activity = shared.create_activity(name=f"idle-{uuid.uuid4().hex[:6]}")["activityArn"]
    previous = sfn_server.backend.activity_wait_seconds
    sfn_server.backend.activity_wait_seconds = 3.0
    answers: list[dict[str, Any]] = []
    try:
        pollers = [
            threading.Thread(
                target=lambda: answers.append(shared.get_activity_task(activityArn=activity)),
                daemon=True,
            )
            for _ in range(60)
        ]
        for poller in pollers:
            poller.start()
        listed = shared.list_activities()["activities"]
        assert activity in [a["activityArn"] for a in listed]
        assert answers == []  # the listing did not wait for any poll to end
        for poller in pollers:
            poller.join(timeout=30)
    finally:
        sfn_server.backend.activity_wait_seconds = previous
    assert len(answers) == 60 and all("taskToken" not in a for a in answers)


def test_redrive_reruns_the_failed_callback(sfn: Any) -> None:
    arn = machine(
        sfn,
        {
            "First": {"Type": "Pass", "Result": {"step": 1}, "Next": "Ask"},
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"Message": {"token.$": "$$.Task.Token"}},
                "End": True,
            },
        },
        "First",
    )
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]

    def token() -> str | None:
        scheduled = [e for e in history(sfn, execution) if e["type"] == "TaskScheduled"]
        if not scheduled:
            return None
        return str(
            json.loads(scheduled[-1]["taskScheduledEventDetails"]["parameters"])["Message"]["token"]
        )

    sfn.send_task_failure(taskToken=wait_until(token), error="Nope", cause="first try")
    failed = finished(sfn, execution)
    assert (failed["status"], failed["redriveStatus"]) == ("FAILED", "REDRIVABLE")
    redriven = sfn.redrive_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["redriveDate"] == redriven["redriveDate"]
    assert history(sfn, execution)[-1]["type"] == "ExecutionRedriven"
    # The failed task is dispatched again with the token it had; answering it now succeeds.
    first_token = wait_until(token)
    wait_until(lambda: _answer(sfn, first_token))
    done = finished(sfn, execution)
    assert (done["status"], done["redriveCount"]) == ("SUCCEEDED", 1)
    assert json.loads(done["output"]) == {"ok": True}
    assert "ExecutionRedriven" in [e["type"] for e in history(sfn, execution)]
    assert [
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"]
    ] == [execution]


def _answer(sfn: Any, task_token: str) -> bool:
    """SendTaskSuccess, False while the redriven task is not waiting yet."""
    try:
        sfn.send_task_success(taskToken=task_token, output='{"ok": true}')
    except sfn.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("TaskTimedOut", "InvalidToken"):
            return False
        raise
    return True
