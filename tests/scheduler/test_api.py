"""The EventBridge Scheduler API through boto3 against a real server (rest-json)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from batchyard.api import App, ServerConfig
from batchyard.api.scheduler import install as install_scheduler
from batchyard.api.scheduler.wiring import SchedulerInstall
from batchyard.api.stepfunctions.wiring import install as install_stepfunctions
from batchyard.scheduler import next_fire_times, slot_history
from tests.api.conftest import free_port, serve_app

ROLE = "arn:aws:iam::123456789012:role/scheduler"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


class Server:
    def __init__(self, url: str, installed: SchedulerInstall) -> None:
        self.url = url
        self.installed = installed

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    config = ServerConfig(port=port, data_dir=tmp_path_factory.mktemp("sched"), strict_output=True)
    app = App(config)
    backend = install_stepfunctions(app, config)
    installed = install_scheduler(app, config, backend)
    for url in serve_app(app, port):
        yield Server(url, installed)


@pytest.fixture
def scheduler(server: Server) -> Any:
    return server.client("scheduler")


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def _create(client: Any, name: str, expression: str = "rate(5 minutes)", **extra: Any) -> str:
    target = extra.pop(
        "Target", {"Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:x", "RoleArn": ROLE}
    )
    arn: str = client.create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        **extra,
    )["ScheduleArn"]
    return arn


def test_create_get_update_delete(scheduler: Any) -> None:
    arn = _create(
        scheduler, "crud", "cron(0 9 ? * MON-FRI *)", ScheduleExpressionTimezone="Europe/Paris"
    )
    assert arn == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/crud"
    got = scheduler.get_schedule(Name="crud")
    assert got["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert got["State"] == "ENABLED"
    assert got["GroupName"] == "default"
    assert got["ActionAfterCompletion"] == "NONE"
    assert got["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400,
        "MaximumRetryAttempts": 185,
    }
    scheduler.update_schedule(
        Name="crud",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target=got["Target"],
        State="DISABLED",
    )
    updated = scheduler.get_schedule(Name="crud")
    assert updated["ScheduleExpression"] == "rate(1 hour)"
    assert updated["State"] == "DISABLED"
    assert updated["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert updated["CreationDate"] == got["CreationDate"]
    scheduler.delete_schedule(Name="crud")
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name="crud")
    assert _error(excinfo) == ("ResourceNotFoundException", "Schedule crud does not exist.", 404)


def test_a_retried_create_with_its_client_token_is_not_a_conflict(scheduler: Any) -> None:
    first = _create(scheduler, "retried", ClientToken="token-1")
    assert _create(scheduler, "retried", ClientToken="token-1") == first
    with pytest.raises(ClientError) as excinfo:
        _create(scheduler, "retried", ClientToken="token-2")
    assert _error(excinfo) == ("ConflictException", "Schedule retried already exists.", 409)


def test_conflict_and_missing_group(scheduler: Any) -> None:
    _create(scheduler, "twice")
    with pytest.raises(ClientError) as excinfo:
        _create(scheduler, "twice")
    assert _error(excinfo) == ("ConflictException", "Schedule twice already exists.", 409)
    with pytest.raises(ClientError) as excinfo:
        _create(scheduler, "orphan", GroupName="nope")
    assert _error(excinfo) == (
        "ResourceNotFoundException",
        "Schedule group nope does not exist.",
        404,
    )


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 1 * * * *)",
        "cron(7 20 * * NOT *)",
        "cron(71 8 1 * ? *)",
        "rate(10 seconds)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(-10 minutes)",
        " rate(10 minutes)",
        "at(2021-12-31T23:59:59Z)",
    ],
)
def test_invalid_expressions_are_aws_validation_errors(scheduler: Any, expression: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        _create(scheduler, "bad", expression)
    assert _error(excinfo) == (
        "ValidationException",
        f"Invalid Schedule Expression {expression}.",
        400,
    )


def test_model_constraints_are_validated(scheduler: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        _create(scheduler, "bad name!")
    code, message, status = _error(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "Name" in message


def test_start_date_in_the_past(scheduler: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        _create(scheduler, "old", StartDate=datetime.now(UTC) - timedelta(hours=1))
    assert _error(excinfo)[1] == "The StartDate you specify cannot be earlier than 5 minutes ago."


def test_list_schedules_filters_and_pages(scheduler: Any) -> None:
    scheduler.create_schedule_group(Name="listing")
    for i in range(5):
        _create(scheduler, f"page-{i}", GroupName="listing")
    _create(scheduler, "other-1", GroupName="listing", State="DISABLED")
    page = scheduler.list_schedules(GroupName="listing", NamePrefix="page-", MaxResults=2)
    names = [s["Name"] for s in page["Schedules"]]
    while "NextToken" in page:
        page = scheduler.list_schedules(
            GroupName="listing", NamePrefix="page-", MaxResults=2, NextToken=page["NextToken"]
        )
        names += [s["Name"] for s in page["Schedules"]]
    assert names == [f"page-{i}" for i in range(5)]
    disabled = scheduler.list_schedules(GroupName="listing", State="DISABLED")["Schedules"]
    assert [s["Name"] for s in disabled] == ["other-1"]
    assert disabled[0]["Target"] == {"Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"}


def test_groups_and_tags(scheduler: Any) -> None:
    arn = scheduler.create_schedule_group(
        Name="tagged",
        Tags=[{"Key": "team", "Value": "data"}, {"Key": "batchyard:overlap", "Value": "forbid"}],
    )["ScheduleGroupArn"]
    assert arn == "arn:aws:scheduler:us-east-1:123456789012:schedule-group/tagged"
    assert scheduler.get_schedule_group(Name="tagged")["State"] == "ACTIVE"
    names = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and "tagged" in names
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    tags = scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags == [
        {"Key": "batchyard:overlap", "Value": "forbid"},
        {"Key": "env", "Value": "prod"},
    ]
    with pytest.raises(ClientError) as excinfo:
        scheduler.tag_resource(
            ResourceArn=arn, Tags=[{"Key": "batchyard:overlap", "Value": "sometimes"}]
        )
    assert _error(excinfo)[0] == "ValidationException"
    assert "batchyard:overlap" in _error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule_group(Name="tagged")
    assert _error(excinfo) == ("ConflictException", "Schedule group tagged already exists.", 409)
    _create(scheduler, "in-tagged", GroupName="tagged")
    scheduler.delete_schedule_group(Name="tagged")
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule_group(Name="tagged")
    assert _error(excinfo) == (
        "ResourceNotFoundException",
        "Schedule group tagged does not exist.",
        404,
    )
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name="in-tagged", GroupName="tagged")
    assert _error(excinfo)[0] == "ResourceNotFoundException"


def test_a_schedule_starts_a_state_machine_with_context_attributes(
    server: Server, scheduler: Any
) -> None:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name="sched-target", definition=PASS, roleArn=ROLE)[
        "stateMachineArn"
    ]
    arn = _create(
        scheduler,
        "fires",
        "rate(1 minute)",
        Target={
            "Arn": machine,
            "RoleArn": ROLE,
            "Input": json.dumps(
                {
                    "time": "<aws.scheduler.scheduled-time>",
                    "arn": "<aws.scheduler.schedule-arn>",
                    "attempt": "<aws.scheduler.attempt-number>",
                }
            ),
        },
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        if executions:
            break
        time.sleep(0.1)
    assert len(executions) == 1
    execution = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    payload = json.loads(execution["input"])
    assert payload["arn"] == arn
    assert payload["attempt"] == "1"
    assert payload["time"].endswith("Z") and ":" not in execution["name"]
    store = server.installed.book.store
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        history = slot_history(store, arn, 5)
        if history and history[0].status == "STARTED":
            break
        time.sleep(0.05)
    assert history[0].status == "STARTED"
    assert history[0].target_ref == execution["executionArn"]
    record = server.installed.book.get("fires", None)
    upcoming = next_fire_times(record, 3)
    assert [b - a for a, b in itertools.pairwise(upcoming)] == [timedelta(minutes=1)] * 2
    # The CLI and the console pass GetSchedule's answer: same times.
    assert next_fire_times(scheduler.get_schedule(Name="fires"), 3, after=upcoming[0]) == (
        next_fire_times(record, 3, after=upcoming[0])
    )
