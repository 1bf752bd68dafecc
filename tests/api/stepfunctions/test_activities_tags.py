"""Activities (without the engine: create/describe/list/delete) and tags."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.stepfunctions.conftest import ROLE, definition, error_of

PREFIX = "arn:aws:states:us-east-1:123456789012"


def test_activity_lifecycle(sfn: Any) -> None:
    name = f"act-{uuid.uuid4().hex[:8]}"
    created = sfn.create_activity(name=name, tags=[{"key": "k", "value": "v"}])
    arn = created["activityArn"]
    assert arn == f"{PREFIX}:activity:{name}"
    assert sfn.create_activity(name=name)["creationDate"] == created["creationDate"]
    described = sfn.describe_activity(activityArn=arn)
    assert (described["name"], described["creationDate"]) == (name, created["creationDate"])
    assert name in [a["name"] for a in sfn.list_activities()["activities"]]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]
    page = sfn.list_activities(maxResults=1)
    assert len(page["activities"]) == 1
    sfn.delete_activity(activityArn=arn)
    sfn.delete_activity(activityArn=arn)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist) as caught:
        sfn.describe_activity(activityArn=arn)
    assert error_of(caught)[1] == f"Activity Does Not Exist: '{arn}'"
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.get_activity_task(activityArn=arn)
    with pytest.raises(sfn.exceptions.InvalidName) as named:
        sfn.create_activity(name="TestActivity InvalidName$")
    assert error_of(named)[1] == "Invalid Name: 'TestActivity InvalidName$'"


def test_tags_on_state_machines(sfn: Any) -> None:
    arn = sfn.create_state_machine(
        name=f"tag-{uuid.uuid4().hex[:8]}", definition=definition(), roleArn=ROLE, publish=True
    )["stateMachineArn"]
    sfn.tag_resource(
        resourceArn=arn, tags=[{"key": "key1", "value": "value1"}, {"key": "key2", "value": ""}]
    )
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "key2", "value": "value2"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "key1", "value": "value1"},
        {"key": "key2", "value": "value2"},
    ]
    sfn.untag_resource(resourceArn=arn, tagKeys=["key2", "absent"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "key1", "value": "value1"}
    ]
    with pytest.raises(sfn.exceptions.ResourceNotFound) as caught:
        sfn.tag_resource(resourceArn=f"{arn}:1", tags=[{"key": "a", "value": "b"}])
    assert error_of(caught)[1] == f"Resource not found: '{arn}:1'"
