"""Requests are validated against the service model with AWS's message style."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import RunningServer, target

PREFIX = "1 validation error detected: "


def _message(call: Any, exception: Any) -> str:
    with pytest.raises(exception) as caught:
        call()
    return str(caught.value.response["Error"]["Message"])


def test_pattern(logs: Any) -> None:
    message = _message(
        lambda: logs.create_log_group(logGroupName="bad name!"),
        logs.exceptions.InvalidParameterException,
    )
    assert message == (
        PREFIX + "Value 'bad name!' at 'logGroupName' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"
    )


def test_enum(logs: Any) -> None:
    logs.create_log_group(logGroupName="validation-enum")
    message = _message(
        lambda: logs.describe_log_streams(logGroupName="validation-enum", orderBy="Newest"),
        logs.exceptions.InvalidParameterException,
    )
    assert message == (
        PREFIX + "Value 'Newest' at 'orderBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LogStreamName, LastEventTime]"
    )


def test_range_and_length(logs: Any) -> None:
    message = _message(
        lambda: logs.describe_log_groups(limit=51), logs.exceptions.InvalidParameterException
    )
    assert message == (
        PREFIX + "Value '51' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 50"
    )
    # Over-long names: CloudWatch Logs' own text, not the generic model message.
    message = _message(
        lambda: logs.create_log_group(logGroupName="a" * 513),
        logs.exceptions.InvalidParameterException,
    )
    assert message == (
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
    )
    message = _message(
        lambda: logs.get_log_events(logGroupName="g", logStreamName="s", limit=10001),
        logs.exceptions.InvalidParameterException,
    )
    assert message == (
        PREFIX + "Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000"
    )


def test_name_and_arn_are_mutually_exclusive(logs: Any) -> None:
    with pytest.raises(logs.exceptions.ClientError) as caught:
        logs.describe_log_streams(logGroupName="g", logGroupIdentifier="g")
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    }


def test_every_violation_in_one_message_with_member_paths(server: RunningServer) -> None:
    status, _, body = server.raw(
        '{"logGroupName": "g", "logEvents": [{"timestamp": 1, "message": "ok"}, {"message": ""}]}',
        target("PutLogEvents"),
    )
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert body["message"] == (
        "3 validation errors detected: "
        "Value null at 'logStreamName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'logEvents.2.member.timestamp' failed to satisfy constraint: "
        "Member must not be null; "
        "Value '' at 'logEvents.2.member.message' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_map_keys_are_reported_on_the_map(logs: Any) -> None:
    logs.create_log_group(logGroupName="validation-tags")
    key = "k" * 129
    message = _message(
        lambda: logs.tag_resource(
            resourceArn="arn:aws:logs:us-east-1:123456789012:log-group:validation-tags",
            tags={key: "v"},
        ),
        logs.exceptions.InvalidParameterException,
    )
    assert message == (
        PREFIX + f"Value '{{{key}=v}}' at 'tags' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must have length less than or equal to 128]"
    )
