"""Versions and aliases: publish, list, delete, route, and AWS's validation texts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from batchyard.api.stepfunctions.versions import route
from batchyard.store import StateMachineAlias
from tests.api.stepfunctions.conftest import PASS, ROLE, definition, error_of


def _machine(sfn: Any, **extra: Any) -> str:
    name = f"ver-{uuid.uuid4().hex[:10]}"
    arn: str = sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE, **extra)[
        "stateMachineArn"
    ]
    return arn


def _new_revision(sfn: Any, arn: str, comment: str) -> str:
    revision: str = sfn.update_state_machine(
        stateMachineArn=arn, definition=definition(dict(PASS, Comment=comment))
    )["revisionId"]
    return revision


def test_publish_list_and_delete_versions(sfn: Any) -> None:
    arn = _machine(sfn, publish=True, versionDescription="first")
    assert sfn.describe_state_machine(stateMachineArn=f"{arn}:1")["description"] == "first"
    # Publishing an unchanged revision returns the latest version instead of a new one.
    again = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert again["stateMachineVersionArn"] == f"{arn}:1"
    revision = _new_revision(sfn, arn, "r2")
    second = sfn.publish_state_machine_version(
        stateMachineArn=arn, revisionId=revision, description="second"
    )
    assert second["stateMachineVersionArn"] == f"{arn}:2"
    _new_revision(sfn, arn, "r3")
    with pytest.raises(sfn.exceptions.ConflictException) as caught:
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=revision)
    current = sfn.describe_state_machine(stateMachineArn=arn)["revisionId"]
    assert error_of(caught)[1] == (
        f"Failed to publish the State Machine version for revision {revision}. "
        f"The current State Machine revision is {current}."
    )
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:2", f"{arn}:1"]
    page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
    assert len(page["stateMachineVersions"]) == 1
    rest = sfn.list_state_machine_versions(stateMachineArn=arn, nextToken=page["nextToken"])
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [f"{arn}:1"]
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:2")
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:2")  # gone: still 200
    # Numbers are never reused after a delete.
    _new_revision(sfn, arn, "r4")
    third = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert third["stateMachineVersionArn"] == f"{arn}:3"


def test_alias_lifecycle(sfn: Any) -> None:
    arn = _machine(sfn, publish=True)
    _new_revision(sfn, arn, "r2")
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    routing = [{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
    created = sfn.create_state_machine_alias(
        name="live", routingConfiguration=routing, description="prod"
    )
    alias = created["stateMachineAliasArn"]
    assert alias == f"{arn}:live"
    same = sfn.create_state_machine_alias(
        name="live", routingConfiguration=routing, description="prod"
    )
    assert same["creationDate"] == created["creationDate"]
    with pytest.raises(sfn.exceptions.ConflictException) as caught:
        sfn.create_state_machine_alias(
            name="live", routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}]
        )
    assert error_of(caught)[1] == (
        "Failed to create alias because an alias with the same name and a different routing "
        "configuration already exists."
    )
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 50},
            {"stateMachineVersionArn": v2, "weight": 50},
        ],
    )
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert described["name"] == "live"
    assert described["description"] == "prod"
    assert [r["weight"] for r in described["routingConfiguration"]] == [50, 50]
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [alias]
    routed = sfn.list_state_machine_aliases(stateMachineArn=v2)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in routed] == [alias]
    with pytest.raises(sfn.exceptions.ConflictException) as referenced:
        sfn.delete_state_machine_version(stateMachineVersionArn=v2)
    assert error_of(referenced)[1] == (
        "Version to be deleted must not be referenced by an alias. "
        "Current list of aliases referencing this version: [live]"
    )
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []
    with pytest.raises(sfn.exceptions.ResourceNotFound) as missing:
        sfn.update_state_machine_alias(stateMachineAliasArn=alias, description="x")
    assert error_of(missing)[1] == "Request references a resource that does not exist."


def test_alias_routing_rules(sfn: Any) -> None:
    arn = _machine(sfn, publish=True)
    _new_revision(sfn, arn, "r2")
    sfn.publish_state_machine_version(stateMachineArn=arn)
    cases = [
        (
            [{"stateMachineVersionArn": arn, "weight": 100}],
            f"Routing configuration must contain state machine version ARNs. Received: [{arn}]",
        ),
        (
            [
                {"stateMachineVersionArn": f"{arn}:1", "weight": 50},
                {"stateMachineVersionArn": f"{arn}:1", "weight": 50},
            ],
            "Routing configuration must contain distinct state machine version ARNs. "
            f"Received: [{arn}:1, {arn}:1]",
        ),
        (
            [
                {"stateMachineVersionArn": f"{arn}:1", "weight": 70},
                {"stateMachineVersionArn": f"{arn}:2", "weight": 29},
            ],
            "Sum of routing configuration weights must equal 100. Received: [70, 29]",
        ),
        (
            [{"stateMachineVersionArn": f"{arn}:1", "weight": 101}],
            "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' "
            "failed to satisfy constraint: Member must have value less than or equal to 100",
        ),
    ]
    _new_revision(sfn, arn, "r3")
    sfn.publish_state_machine_version(stateMachineArn=arn)
    three = [
        {"stateMachineVersionArn": f"{arn}:{n}", "weight": w}
        for n, w in ((1, 50), (2, 30), (3, 20))
    ]
    cases.append(
        (
            three,
            "1 validation error detected: Value '["
            + ", ".join(
                f"RoutingConfigurationListItem(stateMachineVersionArn={arn}:{n}, weight={w})"
                for n, w in ((1, 50), (2, 30), (3, 20))
            )
            + "]' at 'routingConfiguration' failed to satisfy constraint: Member must have "
            "length less than or equal to 2",
        )
    )
    for routing, message in cases:
        with pytest.raises(sfn.exceptions.ValidationException) as caught:
            sfn.create_state_machine_alias(name="a", routingConfiguration=routing)
        assert error_of(caught)[1] == message
    with pytest.raises(sfn.exceptions.ValidationException) as named:
        sfn.create_state_machine_alias(
            name="123", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}]
        )
    assert "Value '123' at 'name' failed to satisfy constraint" in error_of(named)[1]


def test_route_is_deterministic_and_follows_weights() -> None:
    now = __import__("datetime").datetime.now()
    alias = StateMachineAlias(
        arn="arn:aws:states:us-east-1:123456789012:stateMachine:m:live",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        name="live",
        routing_configuration=[
            {"stateMachineVersionArn": "v1", "weight": 80},
            {"stateMachineVersionArn": "v2", "weight": 20},
        ],
        created=now,
        updated=now,
    )
    picks = [route(alias, f"run-{i}") for i in range(2000)]
    assert picks == [route(alias, f"run-{i}") for i in range(2000)]
    share = picks.count("v2") / len(picks)
    assert 0.15 < share < 0.25


def test_publishing_update_without_changes(sfn: Any) -> None:
    arn = _machine(sfn)
    first = sfn.update_state_machine(stateMachineArn=arn, definition=definition(), publish=True)
    assert first["stateMachineVersionArn"] == f"{arn}:1"
    assert "revisionId" not in first  # nothing changed: still the creation revision
    again = sfn.update_state_machine(stateMachineArn=arn, definition=definition(), publish=True)
    assert again["stateMachineVersionArn"] == f"{arn}:1"
