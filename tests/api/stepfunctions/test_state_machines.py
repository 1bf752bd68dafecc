"""CreateStateMachine, Describe, Update, Delete and List through boto3, with AWS's errors."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest

from tests.api.stepfunctions.conftest import PASS, ROLE, SfnServer, definition, error_of

PREFIX = "arn:aws:states:us-east-1:123456789012"


def _name() -> str:
    return f"sm-{uuid.uuid4().hex[:10]}"


def test_create_describe_and_idempotent_create(sfn: Any) -> None:
    name = _name()
    created = sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE)
    assert created["stateMachineArn"] == f"{PREFIX}:stateMachine:{name}"
    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    assert described["name"] == name
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert json.loads(described["definition"]) == PASS
    assert described["roleArn"] == ROLE
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert "revisionId" not in described  # only revisions made by an update show one
    again = sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE)
    assert again["stateMachineArn"] == created["stateMachineArn"]
    assert again["creationDate"] == created["creationDate"]
    other = dict(PASS, Comment="changed")
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists) as caught:
        sfn.create_state_machine(name=name, definition=definition(other), roleArn=ROLE)
    assert error_of(caught) == (
        "StateMachineAlreadyExists",
        f"State Machine Already Exists: '{created['stateMachineArn']}'",
    )


def test_create_refuses_invalid_definitions_names_and_logging(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidDefinition) as caught:
        sfn.create_state_machine(name=_name(), definition='{"StartAt": "A"}', roleArn=ROLE)
    assert error_of(caught)[1] == (
        "Invalid State Machine Definition: "
        "'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    )
    with pytest.raises(sfn.exceptions.InvalidName) as named:
        sfn.create_state_machine(name="bad name$", definition=definition(), roleArn=ROLE)
    assert error_of(named) == ("InvalidName", "Invalid Name: 'bad name$'")
    with pytest.raises(sfn.exceptions.InvalidLoggingConfiguration) as logged:
        sfn.create_state_machine(
            name=_name(),
            definition=definition(),
            roleArn=ROLE,
            loggingConfiguration={"level": "ALL"},
        )
    assert error_of(logged)[1] == (
        "Invalid Logging Configuration: Must specify exactly one Log Destination."
    )
    with pytest.raises(sfn.exceptions.ValidationException) as described:
        sfn.create_state_machine(
            name=_name(), definition=definition(), roleArn=ROLE, versionDescription="v"
        )
    assert error_of(described)[1] == "Version description can only be set when publish is true"


def test_create_and_update_refuse_a_malformed_role_arn(sfn: Any) -> None:
    # The role is not assumed here (no IAM), but its ARN is checked as AWS checks it.
    with pytest.raises(sfn.exceptions.InvalidArn) as created:
        sfn.create_state_machine(name=_name(), definition=definition(), roleArn="not-an-arn")
    assert error_of(created) == ("InvalidArn", "Invalid Role Arn: 'not-an-arn'")
    arn = sfn.create_state_machine(name=_name(), definition=definition(), roleArn=ROLE)[
        "stateMachineArn"
    ]
    lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    with pytest.raises(sfn.exceptions.InvalidArn) as updated:
        sfn.update_state_machine(stateMachineArn=arn, roleArn=lambda_arn)
    assert error_of(updated) == ("InvalidArn", f"Invalid Role Arn: '{lambda_arn}'")
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == ROLE  # nothing lost


def test_missing_and_malformed_arns(sfn: Any) -> None:
    missing = f"{PREFIX}:stateMachine:nothing-here"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as caught:
        sfn.describe_state_machine(stateMachineArn=missing)
    assert error_of(caught)[1] == f"State Machine Does Not Exist: '{missing}'"
    with pytest.raises(sfn.exceptions.InvalidArn) as invalid:
        sfn.describe_state_machine(stateMachineArn="not_a_valid_arn")
    assert error_of(invalid)[1] == "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"
    with pytest.raises(sfn.exceptions.InvalidArn) as wrong:
        sfn.describe_state_machine(stateMachineArn=f"{PREFIX}:activity:act")
    assert error_of(wrong)[1] == "Invalid Arn: 'Resource type not valid in this context: activity'"
    # Deleting what does not exist is a success on AWS.
    sfn.delete_state_machine(stateMachineArn=missing)


def test_update_makes_revisions_and_publishes(sfn: Any) -> None:
    arn = sfn.create_state_machine(name=_name(), definition=definition(), roleArn=ROLE)[
        "stateMachineArn"
    ]
    with pytest.raises(sfn.exceptions.MissingRequiredParameter) as caught:
        sfn.update_state_machine(stateMachineArn=arn)
    assert error_of(caught)[1] == (
        "Either the definition, the role ARN, the LoggingConfiguration, or the "
        "TracingConfiguration must be specified"
    )
    first = sfn.update_state_machine(stateMachineArn=arn, roleArn=ROLE + "2")
    same = sfn.update_state_machine(stateMachineArn=arn, roleArn=ROLE + "2")
    assert same["revisionId"] == first["revisionId"]  # nothing changed: same revision
    changed = dict(PASS, Comment="v2")
    published = sfn.update_state_machine(
        stateMachineArn=arn, definition=definition(changed), publish=True, versionDescription="d"
    )
    assert published["revisionId"] != first["revisionId"]
    assert published["stateMachineVersionArn"] == f"{arn}:1"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["revisionId"] == published["revisionId"]
    assert json.loads(described["definition"])["Comment"] == "v2"
    version = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert version["stateMachineArn"] == f"{arn}:1"
    assert version["description"] == "d"
    assert version["revisionId"] == published["revisionId"]
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as missing:
        sfn.describe_state_machine(stateMachineArn=f"{arn}:7")
    assert error_of(missing)[1] == f"State Machine Does Not Exist: '{arn}:7'"
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.update_state_machine(stateMachineArn=arn, definition="{}")


def test_list_sorted_by_name_with_pagination_and_delete(sfn: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [f"list-{tag}-{i}" for i in range(13)]
    for name in names:
        sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE)
    seen: list[str] = []
    kwargs: dict[str, Any] = {"maxResults": 5}
    while True:
        page = sfn.list_state_machines(**kwargs)
        assert len(page["stateMachines"]) <= 5
        seen += [m["name"] for m in page["stateMachines"]]
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    mine = [n for n in seen if n.startswith(f"list-{tag}")]
    assert mine == sorted(names)
    item = next(m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == names[0])
    assert set(item) == {"stateMachineArn", "name", "type", "creationDate"}
    with pytest.raises(sfn.exceptions.ValidationException) as caught:
        sfn.list_state_machines(maxResults=1001)
    assert error_of(caught)[1] == (
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000"
    )
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machines(nextToken="garbage")
    for name in names:
        sfn.delete_state_machine(stateMachineArn=f"{PREFIX}:stateMachine:{name}")
    left = [m["name"] for m in sfn.list_state_machines(maxResults=1000)["stateMachines"]]
    assert not [n for n in left if n.startswith(f"list-{tag}")]


def test_express_machine_and_encryption(sfn: Any) -> None:
    name = _name()
    arn = sfn.create_state_machine(
        name=name,
        definition=definition(),
        roleArn=ROLE,
        type="EXPRESS",
        encryptionConfiguration={"type": "AWS_OWNED_KEY"},
        tags=[{"key": "team", "value": "batch"}],
    )["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["type"] == "EXPRESS"
    assert described["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "team", "value": "batch"}
    ]


def test_concurrent_updates_all_land(sfn_server: SfnServer) -> None:
    sfn = sfn_server.client()
    arn = sfn.create_state_machine(name=_name(), definition=definition(), roleArn=ROLE)[
        "stateMachineArn"
    ]
    errors: list[BaseException] = []

    def update(i: int) -> None:
        try:
            sfn_server.client().update_state_machine(stateMachineArn=arn, roleArn=f"{ROLE}-{i}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=update, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"].startswith(f"{ROLE}-")
