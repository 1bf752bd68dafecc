"""The wire: one error shape, protocol errors, and services added by registering handlers."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.auth import SigV4QueryAuth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from batchyard.api import App, AwsError, RequestContext, ServerConfig, Service
from tests.api.conftest import JSON11, RunningServer, free_port, send, serve_app, target


def test_error_shape_is_pinned(server: RunningServer) -> None:
    status, headers, body = server.raw('{"logGroupName": "missing"}', target("DeleteLogGroup"))
    assert status == 400
    assert body == {
        "__type": "ResourceNotFoundException",
        "message": "The specified log group does not exist.",
    }
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-requestid"]


def test_boto3_raises_the_modelled_exception(logs: Any) -> None:
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as caught:
        logs.delete_log_group(logGroupName="never-created")
    error = caught.value.response["Error"]
    assert error["Message"] == "The specified log group does not exist."
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_target_is_unknown_operation(server: RunningServer) -> None:
    status, _, body = server.raw("{}", target("NoSuchOperation"))
    assert (status, body) == (400, {"__type": "UnknownOperationException"})
    status, _, body = server.raw("{}", {**JSON11, "X-Amz-Target": "Nope_2020.List"})
    assert (status, body) == (400, {"__type": "UnknownOperationException"})


def test_malformed_json_is_a_serialization_exception(server: RunningServer) -> None:
    status, _, body = server.raw("{not json", target("DescribeLogGroups"))
    assert status == 400
    assert body["__type"] == "SerializationException"
    status, _, body = server.raw("[1, 2]", target("DescribeLogGroups"))
    assert (status, body["__type"]) == (400, "SerializationException")


def test_wrong_json_type_is_a_serialization_exception(server: RunningServer) -> None:
    status, _, body = server.raw('{"limit": "ten"}', target("DescribeLogGroups"))
    assert (status, body["__type"]) == (400, "SerializationException")


def test_unsupported_operation_names_itself(logs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        logs.describe_metric_filters()
    error = caught.value.response["Error"]
    assert error["Code"] == "NotImplementedException"
    assert "DescribeMetricFilters" in error["Message"]


# --------------------------------------------------------------------------- a second service


def _states_service() -> Service:
    """Step Functions (AWS JSON 1.0) with two toy handlers: registration is all it takes."""
    service = Service("stepfunctions")

    def describe_activity(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        arn = params["activityArn"]
        if arn.endswith(":boom"):
            raise RuntimeError("secret internals")
        if arn.endswith(":missing"):
            raise AwsError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
        return {
            "activityArn": arn,
            "name": arn.rsplit(":", 1)[1],
            "creationDate": dt.datetime(2024, 5, 1, 12, 0, 0, 500_000, tzinfo=dt.UTC),
        }

    async def list_activities(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"activities": [], "nextToken": None}

    service.register("DescribeActivity", describe_activity)
    service.register("ListActivities", list_activities)
    return service


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    port = free_port()
    config = ServerConfig(port=port, data_dir=Path(tmp_path_factory.mktemp("sfn")))
    app = App(config)
    app.add_service(_states_service())
    app.add_service(_scheduler_service())
    yield from serve_app(app, port)


def _client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


ARN = "arn:aws:states:us-east-1:123456789012:activity"


def test_json10_service_timestamps_and_async_handlers(states: str) -> None:
    sfn = _client(states, "stepfunctions")
    described = sfn.describe_activity(activityArn=f"{ARN}:work")
    assert described["name"] == "work"
    assert described["creationDate"] == dt.datetime(2024, 5, 1, 12, 0, 0, 500_000, tzinfo=dt.UTC)
    assert described["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/x-amz-json-1.0"
    )
    assert sfn.list_activities()["activities"] == []


def test_modelled_error_of_another_service(states: str) -> None:
    sfn = _client(states, "stepfunctions")
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist) as caught:
        sfn.describe_activity(activityArn=f"{ARN}:missing")
    assert caught.value.response["Error"]["Message"] == (
        f"Activity Does Not Exist: '{ARN}:missing'"
    )


def test_unexpected_exception_is_internal_failure_without_traceback(states: str) -> None:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AWSStepFunctions.DescribeActivity",
    }
    status, _, body = send(states, f'{{"activityArn": "{ARN}:boom"}}', headers, service="states")
    assert status == 500
    assert body == {"__type": "InternalFailure", "message": "An internal error occurred."}
    assert "secret internals" not in json.dumps(body)


def test_validation_error_code_follows_the_service(states: str) -> None:
    sfn = _client(states, "stepfunctions")
    with pytest.raises(ClientError) as caught:
        sfn.describe_activity(activityArn="x" * 300)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"1 validation error detected: Value '{'x' * 300}' at 'activityArn' failed to satisfy "
        "constraint: Member must have length less than or equal to 256"
    )


# --------------------------------------------------------------------------- rest-json


def _scheduler_service() -> Service:
    service = Service("scheduler")
    schedules: dict[str, dict[str, Any]] = {}

    def create_schedule(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        schedules[params["Name"]] = params
        return {
            "ScheduleArn": f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{params['Name']}"
        }

    def get_schedule(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        found = schedules.get(params["Name"])
        if found is None:
            raise AwsError(
                "ResourceNotFoundException", f"Schedule {params['Name']} does not exist."
            )
        return {
            "Name": found["Name"],
            "GroupName": params.get("GroupName") or "default",
            "ScheduleExpression": found["ScheduleExpression"],
            "FlexibleTimeWindow": found["FlexibleTimeWindow"],
            "Target": found["Target"],
            "StartDate": found.get("StartDate"),
        }

    service.register("CreateSchedule", create_schedule)
    service.register("GetSchedule", get_schedule)
    return service


def test_rest_json_routes_labels_query_body_and_errors(states: str) -> None:
    scheduler = _client(states, "scheduler")
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    created = scheduler.create_schedule(
        Name="nightly",
        ScheduleExpression="cron(0 3 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
        StartDate=start,
    )
    assert created["ScheduleArn"].endswith("/nightly")
    got = scheduler.get_schedule(Name="nightly", GroupName="batch")
    assert got["GroupName"] == "batch"
    assert got["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert got["StartDate"] == start
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as caught:
        scheduler.get_schedule(Name="other")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert caught.value.response["Error"]["Message"] == "Schedule other does not exist."


def test_rest_json_authentication_failure_is_403(states: str) -> None:
    scheduler = boto3.client(
        "scheduler",
        endpoint_url=states,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="wrong",
    )
    with pytest.raises(ClientError) as caught:
        scheduler.get_schedule(Name="nightly")
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


class _Recorder:
    def __init__(self, name: str, journal: list[str]) -> None:
        self.name, self.journal = name, journal

    def start(self) -> None:
        self.journal.append(f"start {self.name}")

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


def test_workers_live_with_the_server(tmp_path: Path) -> None:
    journal: list[str] = []
    port = free_port()
    app = App(ServerConfig(port=port, data_dir=tmp_path))
    app.add_worker(_Recorder("engine", journal))
    app.add_worker(_Recorder("scheduler", journal))
    app.on_shutdown(lambda: journal.append("close store"))
    for url in serve_app(app, port):
        assert journal == ["start engine", "start scheduler"]
        status, _, body = send(url, b"", {}, method="GET", path="/healthz", sign=False)
        assert (status, body) == (200, {"status": "ok", "services": []})
    assert journal == [
        "start engine",
        "start scheduler",
        "stop scheduler",
        "stop engine",
        "close store",
    ]


def test_presigned_url_through_the_server(states: str) -> None:
    scheduler = _client(states, "scheduler")
    scheduler.create_schedule(
        Name="presigned",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
    )
    request = AWSRequest(method="GET", url=f"{states}/schedules/presigned", headers={})
    SigV4QueryAuth(Credentials("test", "test"), "scheduler", "us-east-1", expires=60).add_auth(
        request
    )
    with urllib.request.urlopen(request.url) as response:
        assert json.loads(response.read())["Name"] == "presigned"
    tampered = request.url.replace("X-Amz-Expires=60", "X-Amz-Expires=3600")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(tampered)
    assert caught.value.code == 403
    assert json.loads(caught.value.read())["__type"] == "InvalidSignatureException"
