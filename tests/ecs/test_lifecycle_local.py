"""Tasks on the real local runner, through boto3: lifecycle, logs, stop, idempotency, egress."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from tests.api.conftest import RunningServer
from tests.ecs.conftest import exit_code, shell_definition, wait_for, wait_stopped

TASK_ARN = re.compile(r"^arn:aws:ecs:us-east-1:123456789012:task/[\w-]+/[0-9a-f]{32}$")


def test_task_exit_code_and_logs(ecs: Any, logs: Any, local_cluster: str) -> None:
    arn = shell_definition(ecs, "exit3", "echo hi; echo oops >&2; exit 3")
    response = ecs.run_task(cluster=local_cluster, taskDefinition=arn, startedBy="tester")
    assert response["failures"] == []
    (task,) = response["tasks"]
    assert TASK_ARN.match(task["taskArn"])
    assert task["lastStatus"] == "PROVISIONING" and task["desiredStatus"] == "RUNNING"
    assert task["group"] == "family:exit3" and task["startedBy"] == "tester"
    assert task["launchType"] == "EC2" and task["version"] == 1
    assert task["containers"][0]["lastStatus"] == "PENDING"

    stopped = wait_stopped(ecs, local_cluster, task["taskArn"])
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["desiredStatus"] == "STOPPED"
    (container,) = stopped["containers"]
    assert exit_code(stopped) == 3 and container["lastStatus"] == "STOPPED"
    assert container["taskArn"] == task["taskArn"]
    order = ["createdAt", "pullStartedAt", "startedAt", "stoppingAt", "stoppedAt"]
    instants = [stopped[k] for k in order]
    assert instants == sorted(instants)
    assert stopped["version"] > task["version"]
    assert {"name": "batchyard.runner", "value": "local"} in stopped["attributes"]
    by_tester = ecs.list_tasks(cluster=local_cluster, startedBy="tester", desiredStatus="STOPPED")
    assert by_tester["taskArns"] == [task["taskArn"]]
    assert (
        ecs.list_tasks(cluster=local_cluster, startedBy="other", desiredStatus="STOPPED")[
            "taskArns"
        ]
        == []
    )

    task_id = task["taskArn"].rsplit("/", 1)[1]
    stream = f"ecs/app/{task_id}"

    def lines() -> list[str]:
        try:
            events = logs.get_log_events(logGroupName="/ecs/exit3", logStreamName=stream)
        except ClientError:
            return []
        return [e["message"] for e in events["events"]]

    assert sorted(wait_for(lambda: len(lines()) >= 2 and lines())) == ["hi", "oops"]


def test_a_stopped_task_leaves_no_runner_state(
    ecs: Any, local_cluster: str, server: RunningServer
) -> None:
    arn = shell_definition(ecs, "tidy", "exit 0")
    (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=arn)["tasks"]
    wait_stopped(ecs, local_cluster, task["taskArn"])
    task_dir = server.data_dir / "runners" / "local" / task["taskArn"].rsplit("/", 1)[1]
    # The runner's pid file and exit are dropped once STOPPED is stored (just after).
    assert wait_for(lambda: not task_dir.exists(), timeout=10)


def test_stop_task_while_running(ecs: Any, local_cluster: str) -> None:
    arn = shell_definition(ecs, "sleeper", "sleep 60")
    (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=arn)["tasks"]

    def running() -> bool:
        described = ecs.describe_tasks(cluster=local_cluster, tasks=[task["taskArn"]])
        return bool(described["tasks"][0]["lastStatus"] == "RUNNING")

    wait_for(running)
    listed = ecs.list_tasks(cluster=local_cluster, family="sleeper")["taskArns"]
    assert listed == [task["taskArn"]]
    answer = ecs.stop_task(cluster=local_cluster, task=task["taskArn"], reason="enough")["task"]
    assert answer["desiredStatus"] == "STOPPED"
    stopped = wait_stopped(ecs, local_cluster, task["taskArn"])
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "enough"
    assert exit_code(stopped) == 143  # 128 + SIGTERM, as Docker reports it
    assert ecs.list_tasks(cluster=local_cluster, family="sleeper")["taskArns"] == []
    stopped_list = ecs.list_tasks(cluster=local_cluster, desiredStatus="STOPPED")["taskArns"]
    assert task["taskArn"] in stopped_list


def test_stop_unknown_task_and_describe_missing(ecs: Any, local_cluster: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecs.stop_task(cluster=local_cluster, task="0" * 32)
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        "The referenced task was not found.",
    )
    missing = f"arn:aws:ecs:us-east-1:123456789012:task/{local_cluster}/{'f' * 32}"
    described = ecs.describe_tasks(cluster=local_cluster, tasks=[missing])
    assert described == {
        "tasks": [],
        "failures": [{"arn": missing, "reason": "MISSING"}],
        "ResponseMetadata": described["ResponseMetadata"],
    }


def test_client_token_answers_the_same_tasks(ecs: Any, local_cluster: str) -> None:
    arn = shell_definition(ecs, "once", "true")
    first = ecs.run_task(cluster=local_cluster, taskDefinition=arn, count=2, clientToken="slot-1")
    again = ecs.run_task(cluster=local_cluster, taskDefinition=arn, count=2, clientToken="slot-1")
    arns = [t["taskArn"] for t in first["tasks"]]
    assert len(set(arns)) == 2
    assert [t["taskArn"] for t in again["tasks"]] == arns
    for task_arn in arns:
        wait_stopped(ecs, local_cluster, task_arn)
    later = ecs.run_task(cluster=local_cluster, taskDefinition=arn, clientToken="slot-1")
    assert [t["taskArn"] for t in later["tasks"]] == arns
    assert all(t["lastStatus"] == "STOPPED" for t in later["tasks"])
    assert (
        len(
            ecs.list_tasks(cluster=local_cluster, family="once", desiredStatus="STOPPED")[
                "taskArns"
            ]
        )
        == 2
    )


def test_overrides_and_pagination(ecs: Any, local_cluster: str) -> None:
    arn = shell_definition(
        ecs, "echoer", "echo $GREETING", environment=[{"name": "GREETING", "value": "hello"}]
    )
    response = ecs.run_task(
        cluster=local_cluster,
        taskDefinition=arn,
        count=3,
        overrides={"containerOverrides": [
            {"name": "app", "command": ["sh", "-c", "exit 7"], "environment": [
                {"name": "GREETING", "value": "bye"}]}
        ]},
    )  # fmt: skip
    assert response["tasks"][0]["overrides"]["containerOverrides"][0]["command"] == [
        "sh", "-c", "exit 7"
    ]  # fmt: skip
    for task in response["tasks"]:
        assert exit_code(wait_stopped(ecs, local_cluster, task["taskArn"])) == 7
    page = ecs.list_tasks(cluster=local_cluster, desiredStatus="STOPPED", maxResults=2)
    assert len(page["taskArns"]) == 2 and "nextToken" in page
    rest = ecs.list_tasks(
        cluster=local_cluster, desiredStatus="STOPPED", maxResults=2, nextToken=page["nextToken"]
    )
    assert len(rest["taskArns"]) == 1 and "nextToken" not in rest
    assert set(page["taskArns"] + rest["taskArns"]) == {t["taskArn"] for t in response["tasks"]}
    with pytest.raises(ClientError) as excinfo:
        ecs.run_task(
            cluster=local_cluster,
            taskDefinition=arn,
            overrides={"containerOverrides": [{"name": "nope", "command": ["true"]}]},
        )
    assert excinfo.value.response["Error"]["Message"] == (
        "Override for container named nope is not a container in the TaskDefinition."
    )


def test_egress_profile_injects_proxy_variables(ecs: Any, logs: Any, local_cluster: str) -> None:
    arn = shell_definition(
        ecs, "egress", 'echo "$HTTP_PROXY|$https_proxy|$NO_PROXY"',
        tags=[{"key": "batchyard:egress", "value": "corp-proxy"}],
    )  # fmt: skip
    (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=arn)["tasks"]
    assert {"key": "batchyard:egress-profile", "value": "corp-proxy"} in task["tags"]
    wait_stopped(ecs, local_cluster, task["taskArn"])
    described = ecs.describe_tasks(cluster=local_cluster, tasks=[task["taskArn"]], include=["TAGS"])
    assert {"key": "batchyard:egress-profile", "value": "corp-proxy"} in described["tasks"][0][
        "tags"
    ]
    stream = f"ecs/app/{task['taskArn'].rsplit('/', 1)[1]}"
    events = wait_for(
        lambda: logs.get_log_events(logGroupName="/ecs/egress", logStreamName=stream)["events"]
    )
    assert events[0]["message"] == (
        "http://127.0.0.1:3128|http://127.0.0.1:3128|localhost,.internal"
    )
    with pytest.raises(ClientError) as excinfo:
        ecs.run_task(
            cluster=local_cluster,
            taskDefinition=arn,
            tags=[{"key": "batchyard:egress", "value": "fixed-ip"}],
        )
    error = excinfo.value.response["Error"]
    assert error["Code"] == "InvalidParameterException" and "'fixed-ip'" in error["Message"]


def test_injected_start_failures(ecs: Any, local_cluster: str) -> None:
    arn = shell_definition(
        ecs, "flaky", "true", tags=[{"key": "batchyard:inject-start-failures", "value": "2"}]
    )
    results = []
    for _ in range(3):
        (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=arn)["tasks"]
        results.append(wait_stopped(ecs, local_cluster, task["taskArn"]))
    assert [r["stopCode"] for r in results] == [
        "TaskFailedToStart", "TaskFailedToStart", "EssentialContainerExited"
    ]  # fmt: skip
    assert results[0]["stoppedReason"].startswith("ResourceInitializationError: ")
    assert results[1]["stoppedReason"] == (
        "Timeout waiting for network interface provisioning to complete."
    )
    assert "startedAt" not in results[0] and "exitCode" not in results[0]["containers"][0]
    assert results[0]["containers"][0]["reason"] == results[0]["stoppedReason"]
    assert exit_code(results[2]) == 0


def test_cluster_failure_rate(ecs: Any) -> None:
    ecs.create_cluster(clusterName="always-failing", tags=[
        {"key": "batchyard:runner", "value": "local"},
        {"key": "batchyard:start-failure-rate", "value": "1"},
    ])  # fmt: skip
    arn = shell_definition(ecs, "rated", "true")
    (task,) = ecs.run_task(cluster="always-failing", taskDefinition=arn)["tasks"]
    stopped = wait_stopped(ecs, "always-failing", task["taskArn"])
    assert stopped["stopCode"] == "TaskFailedToStart"


def test_secrets_from_file_and_environment(
    ecs: Any, logs: Any, local_cluster: str, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = server.data_dir / "db-password"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("BATCHYARD_TEST_TOKEN", "tok")
    arn = shell_definition(
        ecs, "secretive", 'echo "$DB_PASSWORD/$TOKEN"',
        secrets=[{"name": "DB_PASSWORD", "valueFrom": f"file://{secret}"},
                 {"name": "TOKEN", "valueFrom": "env:BATCHYARD_TEST_TOKEN"}],
    )  # fmt: skip
    (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=arn)["tasks"]
    assert exit_code(wait_stopped(ecs, local_cluster, task["taskArn"])) == 0
    stream = f"ecs/app/{task['taskArn'].rsplit('/', 1)[1]}"
    events = wait_for(
        lambda: logs.get_log_events(logGroupName="/ecs/secretive", logStreamName=stream)["events"]
    )
    assert events[0]["message"] == "s3cret/tok"

    broken = shell_definition(
        ecs, "no-secret", "true",
        secrets=[{"name": "X", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/x"}],
    )  # fmt: skip
    (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=broken)["tasks"]
    stopped = wait_stopped(ecs, local_cluster, task["taskArn"])
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth: "
    )


def test_delete_cluster_with_active_tasks_is_refused(ecs: Any) -> None:
    ecs.create_cluster(clusterName="busy", tags=[{"key": "batchyard:runner", "value": "local"}])
    arn = shell_definition(ecs, "busy", "sleep 30")
    (task,) = ecs.run_task(cluster="busy", taskDefinition=arn)["tasks"]
    with pytest.raises(ClientError) as excinfo:
        ecs.delete_cluster(cluster="busy")
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active.",
    )
    ecs.stop_task(cluster="busy", task=task["taskArn"])
    wait_stopped(ecs, "busy", task["taskArn"])
    assert ecs.delete_cluster(cluster="busy")["cluster"]["status"] == "INACTIVE"


def test_profiles_added_to_egress_json_apply_without_restart(
    ecs: Any, local_cluster: str, server: RunningServer
) -> None:
    path = server.data_dir / "egress.json"
    profiles = json.loads(path.read_text())
    arn = shell_definition(ecs, "late-egress", "true")
    late = [{"key": "batchyard:egress", "value": "late"}]
    with pytest.raises(ClientError):
        ecs.run_task(cluster=local_cluster, taskDefinition=arn, tags=late)
    path.write_text(json.dumps({**profiles, "late": {"proxy": "http://127.0.0.1:3129"}}))
    (task,) = ecs.run_task(cluster=local_cluster, taskDefinition=arn, tags=late)["tasks"]
    assert {"key": "batchyard:egress-profile", "value": "late"} in task["tags"]
    wait_stopped(ecs, local_cluster, task["taskArn"])


def test_fargate_task_shape(ecs: Any, local_cluster: str) -> None:
    arn = shell_definition(ecs, "fargate", "true")
    (task,) = ecs.run_task(
        cluster=local_cluster,
        taskDefinition=arn,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    )["tasks"]
    assert task["launchType"] == "FARGATE" and task["platformVersion"] == "1.4.0"
    assert task["ephemeralStorage"] == {"sizeInGiB": 20}
    (eni,) = task["attachments"]
    assert eni["type"] == "ElasticNetworkInterface" and eni["status"] == "PRECREATED"
    assert eni["details"] == [{"name": "subnetId", "value": "subnet-1"}]
    stopped = wait_stopped(ecs, local_cluster, task["taskArn"])
    assert stopped["attachments"][0]["status"] == "DELETED"
    ecs.deregister_task_definition(taskDefinition=arn)
    with pytest.raises(ClientError) as excinfo:
        ecs.run_task(cluster=local_cluster, taskDefinition=arn)
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        "TaskDefinition is inactive",
    )
