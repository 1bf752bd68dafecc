"""The start-failure story, end to end through boto3 against a real server.

A team ran Fargate tasks from Step Functions; some failed to start (``StopCode:
TaskFailedToStart``). AWS has no error name for that, so they wrote a Lambda function
``error_handler`` that raises ``TaskFailedToStartException`` when the stopped task's
``StopCode`` is ``TaskFailedToStart``, and a Catch on it that waits and loops back. Their state
machine runs here unchanged. batchyard's extension makes the same retry three lines:
``Retry: [{"ErrorEquals": ["ECS.TaskFailedToStart"], ...}]``.

Both run on the local runner and on the docker runner (a local busybox image), with a task
definition tagged ``batchyard:inject-start-failures = 2``: launches 1 and 2 fail to start with
ECS's own reasons, launch 3 succeeds. Each test asserts the exact history.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.api import ServerConfig
from batchyard.api import server as server_module
from batchyard.ecs.injection import injected_reason
from tests.api.conftest import RunningServer, free_port, serve_app
from tests.support.images import busybox_image, require_docker

HANDLER = """
class TaskFailedToStartException(Exception):
    pass


def error_handler(event, context):
    if event["result"]["StopCode"] == "TaskFailedToStart":
        raise TaskFailedToStartException(event["result"]["StoppedReason"])
    return event
"""

FAILURES = 2
WAIT_SECONDS = 1
EXECUTION_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("story")
    port = free_port()
    config = ServerConfig(port=port, data_dir=data_dir, strict_output=True)
    app = server_module.build_app(config)  # looked up here: the server exactly as it ships
    for url in serve_app(app, port):
        yield RunningServer(app, url, data_dir)


@pytest.fixture(scope="module")
def handler_arn(server: RunningServer) -> str:
    """The team's ``error_handler``, created through the Lambda API."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    created = server.client("lambda").create_function(
        FunctionName="error_handler",
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/lambda",
        Handler="handler.error_handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=30,
    )
    return str(created["FunctionArn"])


def _cluster_and_definition(
    server: RunningServer, runner: str, story: str, image: str
) -> tuple[str, str]:
    """A cluster run by ``runner`` and a task definition whose first launches fail to start."""
    ecs = server.client("ecs")
    cluster = ecs.create_cluster(
        clusterName=f"{story}-{runner}", tags=[{"key": "batchyard:runner", "value": runner}]
    )["cluster"]["clusterArn"]
    family = f"{story}-{runner}"
    ecs.register_task_definition(
        family=family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "job", "image": image, "command": ["true"], "essential": True}
        ],
        tags=[{"key": "batchyard:inject-start-failures", "value": str(FAILURES)}],
    )
    return cluster, family


def _run_task_state(cluster: str, family: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::ecs:runTask.sync",
        "Parameters": {
            "Cluster": cluster,
            "TaskDefinition": family,
            "LaunchType": "FARGATE",
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": ["subnet-0123456789abcdef0"],
                    "AssignPublicIp": "DISABLED",
                }
            },
            "Overrides": {"ContainerOverrides": [{"Name": "job", "Command": ["true"]}]},
        },
        **fields,
    }


NEXT_STEP = {
    "Type": "Pass",
    "Parameters": {"TaskArn.$": "$.TaskArn", "ExitCode.$": "$.Containers[0].ExitCode"},
    "End": True,
}


def lambda_loop_definition(cluster: str, family: str, handler: str) -> dict[str, Any]:
    """The team's definition as they wrote it on AWS."""
    return {
        "StartAt": "Run Fargate Task",
        "States": {
            "Run Fargate Task": _run_task_state(
                cluster,
                family,
                Catch=[
                    {
                        "ErrorEquals": ["States.ALL"],
                        "ResultPath": "$.result",
                        "Next": "Error Handler",
                    }
                ],
                Next="Next Step",
            ),
            "Error Handler": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": handler,
                    "Payload": {"result.$": "States.StringToJson($.result.Cause)"},
                },
                "Catch": [
                    {
                        "ErrorEquals": ["TaskFailedToStartException"],
                        "ResultPath": "$.handler",
                        "Next": "Wait Before Retry",
                    }
                ],
                "Next": "Job Failed",
            },
            "Wait Before Retry": {
                "Type": "Wait",
                "Seconds": WAIT_SECONDS,
                "Next": "Run Fargate Task",
            },
            "Job Failed": {"Type": "Fail", "Error": "JobFailed", "Cause": "the task failed"},
            "Next Step": NEXT_STEP,
        },
    }


def retry_definition(cluster: str, family: str) -> dict[str, Any]:
    """The same, with batchyard's three-line Retry."""
    retry = [{"ErrorEquals": ["ECS.TaskFailedToStart"], "IntervalSeconds": 1, "MaxAttempts": 3}]
    return {
        "StartAt": "Run Fargate Task",
        "States": {
            "Run Fargate Task": _run_task_state(cluster, family, Retry=retry, Next="Next Step"),
            "Next Step": NEXT_STEP,
        },
    }


def _run(server: RunningServer, name: str, definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Create the state machine, run it to its end; its whole history."""
    execution = _start(server, name, definition, "{}")
    described = _wait(server, execution)
    sfn = server.client("stepfunctions")
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution):
        events.extend(page["events"])
    assert described["status"] == "SUCCEEDED", (described, [e["type"] for e in events])
    return events


def _start(server: RunningServer, name: str, definition: dict[str, Any], text: str) -> str:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=name,
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/StepFunctions",
    )["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=machine, input=text)["executionArn"])


def _wait(server: RunningServer, execution: str) -> dict[str, Any]:
    sfn = server.client("stepfunctions")
    deadline = time.monotonic() + EXECUTION_TIMEOUT_S
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution} still RUNNING"
        time.sleep(0.1)
    return dict(described)


RUN_TASK_FAILED = [
    "TaskStateEntered",
    "TaskScheduled",
    "TaskStarted",
    "TaskSubmitted",
    "TaskFailed",
    "TaskStateExited",
]
HANDLER_RAISED = [
    "TaskStateEntered",
    "TaskScheduled",
    "TaskStarted",
    "TaskFailed",
    "TaskStateExited",
]
WAITED = ["WaitStateEntered", "WaitStateExited"]
RUN_TASK_SUCCEEDED = [
    "TaskStateEntered",
    "TaskScheduled",
    "TaskStarted",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskStateExited",
]
FINISHED = ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def _check_launches(server: RunningServer, events: list[dict[str, Any]], cluster: str) -> None:
    """Two start failures with ECS's reasons (as AWS records them), then a clean run."""
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    ecs_failures = [f for f in failed if f["resourceType"] == "ecs"]
    assert [f["error"] for f in ecs_failures] == ["States.TaskFailed"] * FAILURES
    stopped = [json.loads(f["cause"]) for f in ecs_failures]
    assert [t["StopCode"] for t in stopped] == ["TaskFailedToStart"] * FAILURES
    assert [t["StoppedReason"] for t in stopped] == [
        injected_reason(n + 1) for n in range(FAILURES)
    ]
    assert all(t["StartedBy"] == "AWS Step Functions" for t in stopped)
    succeeded = [e for e in events if e["type"] == "TaskSucceeded"][-1]
    task = json.loads(succeeded["taskSucceededEventDetails"]["output"])
    assert task["LastStatus"] == "STOPPED" and task["StopCode"] == "EssentialContainerExited"
    assert task["Containers"][0]["ExitCode"] == 0
    output = json.loads(events[-1]["executionSucceededEventDetails"]["output"])
    assert output == {"TaskArn": task["TaskArn"], "ExitCode": 0}
    # The ECS API shows the same three launches.
    ecs = server.client("ecs")
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    described = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    assert sorted(t["stopCode"] for t in described) == sorted(
        ["TaskFailedToStart"] * FAILURES + ["EssentialContainerExited"]
    )
    assert {t["startedBy"] for t in described} == {"AWS Step Functions"}


def _image(runner: str) -> str:
    if runner == "docker":
        require_docker()
        return busybox_image()
    return "busybox"  # the local runner runs the command on the host


@pytest.mark.parametrize("runner", ["local", "docker"])
def test_lambda_catch_loop(server: RunningServer, handler_arn: str, runner: str) -> None:
    cluster, family = _cluster_and_definition(server, runner, "loop", _image(runner))
    events = _run(server, f"loop-{runner}", lambda_loop_definition(cluster, family, handler_arn))
    expected = ["ExecutionStarted"]
    expected += (RUN_TASK_FAILED + HANDLER_RAISED + WAITED) * FAILURES
    expected += RUN_TASK_SUCCEEDED + FINISHED
    assert [e["type"] for e in events] == expected
    handled = [
        e["taskFailedEventDetails"]
        for e in events
        if e["type"] == "TaskFailed" and e["taskFailedEventDetails"]["resourceType"] == "lambda"
    ]
    assert [h["error"] for h in handled] == ["TaskFailedToStartException"] * FAILURES
    assert [json.loads(h["cause"])["errorMessage"] for h in handled] == [
        injected_reason(n + 1) for n in range(FAILURES)
    ]
    _check_launches(server, events, cluster)


@pytest.mark.parametrize("runner", ["local", "docker"])
def test_three_line_retry(server: RunningServer, runner: str) -> None:
    cluster, family = _cluster_and_definition(server, runner, "retry", _image(runner))
    events = _run(server, f"retry-{runner}", retry_definition(cluster, family))
    attempt_failed = ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskFailed"]
    expected = ["ExecutionStarted", "TaskStateEntered"]
    expected += attempt_failed * FAILURES
    expected += [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    expected += FINISHED
    assert [e["type"] for e in events] == expected
    _check_launches(server, events, cluster)


def test_story_data_dir_is_used(server: RunningServer) -> None:
    """The server under test keeps its state where it was told (not in a shared default)."""
    assert Path(server.data_dir, "state.db").exists()


# --- the other patterns, end to end ------------------------------------------------------------

CALL_BACK = (
    "import json, os, boto3\n"
    "sfn = boto3.client('stepfunctions', endpoint_url=os.environ['ENDPOINT'],\n"
    "    region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n"
    "sfn.send_task_success(taskToken=os.environ['TASK_TOKEN'],\n"
    "    output=json.dumps({'from': 'container', 'job': os.environ['JOB']}))\n"
)


def _plain_definition(server: RunningServer, name: str, command: list[str]) -> str:
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=name, tags=[{"key": "batchyard:runner", "value": "local"}])
    ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": "job", "image": "busybox", "command": command}],
    )
    return name


def test_wait_for_task_token_from_the_container(server: RunningServer) -> None:
    """The token reaches the container through an Environment override; the container answers
    with SendTaskSuccess through boto3, as it would on Fargate."""
    import sys

    family = _plain_definition(server, "callback", [sys.executable, "-c", CALL_BACK])
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.waitForTaskToken",
                "Parameters": {
                    "Cluster": family,
                    "TaskDefinition": family,
                    "Overrides": {
                        "ContainerOverrides": [
                            {
                                "Name": "job",
                                "Environment": [
                                    {"Name": "TASK_TOKEN", "Value.$": "$$.Task.Token"},
                                    {"Name": "ENDPOINT", "Value": server.url},
                                    {"Name": "JOB", "Value.$": "$.job"},
                                ],
                            }
                        ]
                    },
                },
                "TimeoutSeconds": 60,
                "End": True,
            }
        },
    }
    execution = _start(server, "callback", definition, '{"job": "nightly"}')
    described = _wait(server, execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"from": "container", "job": "nightly"}
    history = server.client("stepfunctions").get_execution_history(executionArn=execution)
    assert [e["type"] for e in history["events"]] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_stop_execution_stops_the_ecs_task(server: RunningServer) -> None:
    family = _plain_definition(server, "stopped", ["sleep", "60"])
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {"Cluster": family, "TaskDefinition": family},
                "End": True,
            }
        },
    }
    execution = _start(server, "stopped", definition, "{}")
    sfn = server.client("stepfunctions")
    ecs = server.client("ecs")
    deadline = time.monotonic() + EXECUTION_TIMEOUT_S
    while not ecs.list_tasks(cluster=family, desiredStatus="RUNNING")["taskArns"]:
        assert time.monotonic() < deadline, "the task never ran"
        time.sleep(0.1)
    sfn.stop_execution(executionArn=execution, error="Halt", cause="operator")
    task_arn = ecs.list_tasks(cluster=family, desiredStatus="STOPPED")["taskArns"][0]
    while (task := ecs.describe_tasks(cluster=family, tasks=[task_arn])["tasks"][0])[
        "lastStatus"
    ] != "STOPPED":
        assert time.monotonic() < deadline, "the task was not stopped"
        time.sleep(0.1)
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == f"Step Functions execution {execution} was stopped"
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"


def test_request_response_answers_at_once(server: RunningServer) -> None:
    family = _plain_definition(server, "fire", ["true"])
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask",
                "Parameters": {"Cluster": family, "TaskDefinition": family},
                "End": True,
            }
        },
    }
    described = _wait(server, _start(server, "fire", definition, "{}"))
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["Failures"] == [] and output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    (task,) = output["Tasks"]
    assert task["TaskDefinitionArn"].endswith(f":task-definition/{family}:1")
    assert "StartedBy" not in task


def test_sync_task_survives_a_server_kill(tmp_path: Path) -> None:
    """SIGKILL the server while a ``.sync`` task runs: the restarted server re-attaches to the
    same task (no second launch) and the execution ends with its result."""
    from tests.proof.servers import ServerProcess

    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        ecs = server.client("ecs")
        ecs.create_cluster(clusterName="k", tags=[{"key": "batchyard:runner", "value": "local"}])
        ecs.register_task_definition(
            family="k",
            containerDefinitions=[
                {"name": "job", "image": "busybox", "command": ["sh", "-c", "sleep 3"]}
            ],
        )
        definition = {
            "StartAt": "Run",
            "States": {
                "Run": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::ecs:runTask.sync",
                    "Parameters": {"Cluster": "k", "TaskDefinition": "k"},
                    "End": True,
                }
            },
        }
        sfn = server.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="k", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        deadline = time.monotonic() + EXECUTION_TIMEOUT_S
        while not ecs.list_tasks(cluster="k", desiredStatus="RUNNING")["taskArns"]:
            assert time.monotonic() < deadline, "the task never ran"
            time.sleep(0.05)
        server.kill9()
        server.start()
        sfn = server.client("stepfunctions")
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.1)
        assert described["status"] == "SUCCEEDED", described
        output = json.loads(described["output"])
        assert output["StopCode"] == "EssentialContainerExited"
        assert output["Containers"][0]["ExitCode"] == 0
        ecs = server.client("ecs")
        stopped = ecs.list_tasks(cluster="k", desiredStatus="STOPPED")["taskArns"]
        assert stopped == [output["TaskArn"]]  # launched once
        types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
        assert types.count("TaskSubmitted") == 1 and types[-1] == "ExecutionSucceeded"
    finally:
        server.stop()
