"""Target recognition, execution names, the ECS RunTask request and the Lambda invoke."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from batchyard.scheduler import Delivery, TargetError, Targets
from batchyard.scheduler.policies import policy, validate_tags
from batchyard.scheduler.targets import ecs_request, execution_name, target_kind

SLOT = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


def _delivery(target: dict[str, Any], text: str | None = None) -> Delivery:
    return Delivery("0123abcd" * 4, "arn:aws:scheduler:us-east-1:1:schedule/default/n", "n",
                    SLOT, 1, "e-1", target, text)  # fmt: skip


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        ("arn:aws:states:us-east-1:123456789012:stateMachine:report", "states"),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:report:prod", "states"),
        ("arn:aws:ecs:us-east-1:123456789012:cluster/default", "ecs"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", "lambda"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:live", "lambda"),
        ("arn:aws:sqs:us-east-1:123456789012:queue", "unsupported"),
        ("arn:aws:scheduler:::aws-sdk:sfn:startExecution", "unsupported"),
        ("not an arn", "unsupported"),
    ],
)
def test_the_target_kind_comes_from_the_arn(arn: str, kind: str) -> None:
    assert target_kind(arn) == kind


def test_execution_names_are_valid_aws_names_unique_per_slot() -> None:
    long_name = "n" * 64
    name = execution_name("id-1", long_name, SLOT)
    assert len(name) <= 80 and ":" not in name and " " not in name
    assert name.endswith("-20260301T030000Z")
    assert name == execution_name("id-1", long_name, SLOT)
    assert name != execution_name("id-2", long_name, SLOT)
    assert name != execution_name("id-1", long_name, SLOT.replace(minute=1))


def test_ecs_parameters_become_a_run_task_request_with_the_slot_as_client_token() -> None:
    delivery = _delivery(
        {
            "Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/batch",
            "RoleArn": "r",
            "EcsParameters": {
                "TaskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/job:3",
                "TaskCount": 2,
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {
                    "awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "DISABLED"}
                },
                "Tags": [{"key": "team", "value": "data"}],
            },
        },
        json.dumps({"containerOverrides": [{"name": "app", "command": ["run"]}]}),
    )
    request = ecs_request(delivery)
    assert request == {
        "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/batch",
        "clientToken": delivery.slot_key,
        "startedBy": "batchyard-scheduler",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/job:3",
        "count": 2,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}
        },
        "tags": [{"key": "team", "value": "data"}],
        "overrides": {"containerOverrides": [{"name": "app", "command": ["run"]}]},
    }
    assert len(delivery.slot_key) <= 64


class _Ecs:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []

    def run_task(self, request: dict[str, Any], *, waiter: Any = None) -> dict[str, Any]:
        self.requests.append(request)
        return self.answer


class _Functions:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str]] = []

    def invoke(self, name_or_arn: str, payload: bytes, invocation_type: str) -> Any:
        self.calls.append((name_or_arn, payload, invocation_type))
        return {"RequestId": "req-1"}


def test_ecs_and_lambda_deliveries() -> None:
    ecs = _Ecs({"tasks": [{"taskArn": "arn:aws:ecs:us-east-1:1:task/batch/t1"}], "failures": []})
    functions = _Functions()
    targets = Targets(ecs=ecs, functions=functions)
    cluster = {
        "Arn": "arn:aws:ecs:us-east-1:1:cluster/batch",
        "EcsParameters": {"TaskDefinitionArn": "td"},
    }
    assert targets.deliver(_delivery(cluster)) == "arn:aws:ecs:us-east-1:1:task/batch/t1"
    function = {"Arn": "arn:aws:lambda:us-east-1:1:function:fn"}
    assert targets.deliver(_delivery(function, '{"a": 1}')) == "req-1"
    assert functions.calls == [("arn:aws:lambda:us-east-1:1:function:fn", b'{"a": 1}', "Event")]
    ecs.answer = {"tasks": [], "failures": [{"reason": "RESOURCE:MEMORY"}]}
    with pytest.raises(TargetError, match="RESOURCE:MEMORY") as excinfo:
        targets.deliver(_delivery(cluster))
    assert excinfo.value.retryable


def test_missing_services_and_unsupported_targets() -> None:
    targets = Targets()
    with pytest.raises(TargetError) as excinfo:
        targets.deliver(_delivery({"Arn": "arn:aws:sqs:us-east-1:1:q"}))
    assert excinfo.value.code == "UnsupportedTarget" and not excinfo.value.retryable
    with pytest.raises(TargetError) as excinfo:
        targets.deliver(_delivery({"Arn": "arn:aws:lambda:us-east-1:1:function:fn"}))
    assert excinfo.value.retryable  # the service may come back


def test_policy_tags() -> None:
    assert validate_tags({"batchyard:overlap": "queue", "team": "x"}) is None
    assert "batchyard:catch-up" in (validate_tags({"batchyard:catch-up": "some"}) or "")
    assert "positive integer" in (validate_tags({"batchyard:starting-deadline": "-1"}) or "")
    rules = policy({"batchyard:overlap": "forbid"}, {"batchyard:overlap": "replace",
                                                      "batchyard:max-concurrency": "3"})  # fmt: skip
    assert (rules.overlap, rules.max_concurrency, rules.catch_up) == ("forbid", 3, "latest")
    assert policy({}, {"batchyard:overlap": "queue"}).overlap == "queue"
    assert not policy({}).needs_lock
