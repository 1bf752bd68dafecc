"""Clusters, task definitions and tags through boto3: shapes and AWS's error texts."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

REGION_ACCOUNT = "us-east-1:123456789012"


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_default_cluster_exists_implicitly(ecs: Any) -> None:
    described = ecs.describe_clusters()["clusters"]
    assert [c["clusterName"] for c in described] == ["default"]
    assert described[0]["clusterArn"] == f"arn:aws:ecs:{REGION_ACCOUNT}:cluster/default"
    assert described[0]["status"] == "ACTIVE"
    assert f"arn:aws:ecs:{REGION_ACCOUNT}:cluster/default" in ecs.list_clusters()["clusterArns"]


def test_create_describe_delete_cluster(ecs: Any) -> None:
    created = ecs.create_cluster(clusterName="batch", tags=[{"key": "team", "value": "data"}])[
        "cluster"
    ]
    assert created["clusterArn"] == f"arn:aws:ecs:{REGION_ACCOUNT}:cluster/batch"
    assert created["runningTasksCount"] == 0 and created["pendingTasksCount"] == 0
    assert created["tags"] == [{"key": "team", "value": "data"}]
    again = ecs.create_cluster(clusterName="batch")["cluster"]  # idempotent, as on AWS
    assert again["clusterArn"] == created["clusterArn"]

    described = ecs.describe_clusters(clusters=["batch", "nope"], include=["TAGS"])
    assert [c["clusterName"] for c in described["clusters"]] == ["batch"]
    assert described["clusters"][0]["tags"] == [{"key": "team", "value": "data"}]
    assert described["failures"] == [
        {"arn": f"arn:aws:ecs:{REGION_ACCOUNT}:cluster/nope", "reason": "MISSING"}
    ]

    deleted = ecs.delete_cluster(cluster="batch")["cluster"]
    assert deleted["status"] == "INACTIVE"
    with pytest.raises(ClientError) as excinfo:
        ecs.delete_cluster(cluster="batch")
    assert _error(excinfo) == ("ClusterNotFoundException", "Cluster not found.")
    assert created["clusterArn"] not in ecs.list_clusters()["clusterArns"]


def test_unknown_cluster_is_cluster_not_found(ecs: Any) -> None:
    for call in (
        lambda: ecs.list_tasks(cluster="ghost"),
        lambda: ecs.run_task(cluster="ghost", taskDefinition="x"),
        lambda: ecs.describe_tasks(cluster="ghost", tasks=["abc"]),
        lambda: ecs.stop_task(cluster="ghost", task="abc"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _error(excinfo) == ("ClusterNotFoundException", "Cluster not found.")


def test_register_describe_list_deregister(ecs: Any) -> None:
    first = ecs.register_task_definition(
        family="etl",
        containerDefinitions=[{"name": "app", "image": "busybox", "command": ["true"]}],
        cpu="256",
        memory="512",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        tags=[{"key": "owner", "value": "me"}],
    )
    definition = first["taskDefinition"]
    assert definition["taskDefinitionArn"] == f"arn:aws:ecs:{REGION_ACCOUNT}:task-definition/etl:1"
    assert definition["revision"] == 1 and definition["status"] == "ACTIVE"
    container = definition["containerDefinitions"][0]
    assert container["essential"] is True and container["cpu"] == 0
    assert container["portMappings"] == [] and container["environment"] == []
    assert definition["compatibilities"] == ["EC2", "FARGATE"]
    assert first["tags"] == [{"key": "owner", "value": "me"}]
    second = ecs.register_task_definition(
        family="etl", containerDefinitions=[{"name": "app", "image": "busybox"}]
    )["taskDefinition"]
    assert second["revision"] == 2

    latest = ecs.describe_task_definition(taskDefinition="etl", include=["TAGS"])
    assert latest["taskDefinition"]["revision"] == 2
    assert latest["tags"] == []
    assert ecs.describe_task_definition(taskDefinition="etl:1")["taskDefinition"]["cpu"] == "256"

    arns = ecs.list_task_definitions(familyPrefix="etl")["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in arns] == ["1", "2"]
    desc = ecs.list_task_definitions(familyPrefix="etl", sort="DESC")["taskDefinitionArns"]
    assert desc == list(reversed(arns))
    assert "etl" in ecs.list_task_definition_families(familyPrefix="et")["families"]

    gone = ecs.deregister_task_definition(taskDefinition="etl:1")["taskDefinition"]
    assert gone["status"] == "INACTIVE" and "deregisteredAt" in gone
    active = ecs.list_task_definitions(familyPrefix="etl")["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in active] == ["2"]
    inactive = ecs.list_task_definitions(familyPrefix="etl", status="INACTIVE")
    assert [a.rsplit(":", 1)[1] for a in inactive["taskDefinitionArns"]] == ["1"]


def test_task_definition_errors(ecs: Any) -> None:
    cases = [
        (lambda: ecs.describe_task_definition(taskDefinition="missing"),
         ("ClientException", "Unable to describe task definition.")),
        (lambda: ecs.deregister_task_definition(taskDefinition="missing:1"),
         ("ClientException", "Unable to describe task definition.")),
        (lambda: ecs.deregister_task_definition(taskDefinition="fake_task:foo"),
         ("ClientException", "Invalid revision number. Number: foo")),
        (lambda: ecs.register_task_definition(
            family="bad", containerDefinitions=[{"name": "app"}]),
         ("ClientException", "Container.image should not be null or empty.")),
        (lambda: ecs.register_task_definition(family="bad", containerDefinitions=[]),
         ("ClientException", "Container list cannot be empty.")),
        (lambda: ecs.run_task(taskDefinition="missing"),
         ("ClientException", "TaskDefinition not found.")),
    ]  # fmt: skip
    for call, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _error(excinfo) == expected


def test_tags_on_clusters_and_task_definitions(ecs: Any) -> None:
    cluster_arn = ecs.create_cluster(clusterName="tagged")["cluster"]["clusterArn"]
    ecs.tag_resource(resourceArn=cluster_arn, tags=[{"key": "a", "value": "1"}])
    ecs.tag_resource(resourceArn=cluster_arn, tags=[{"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=cluster_arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=cluster_arn)["tags"] == [
        {"key": "b", "value": "2"}
    ]
    arn = ecs.register_task_definition(
        family="tagged", containerDefinitions=[{"name": "app", "image": "busybox"}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]


def test_meaningless_batchyard_tags_are_refused(ecs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecs.create_cluster(clusterName="x", tags=[{"key": "batchyard:runner", "value": "k8s"}])
    code, message = _error(excinfo)
    assert code == "InvalidParameterException" and "batchyard:runner" in message
    with pytest.raises(ClientError) as excinfo:
        ecs.register_task_definition(
            family="inject",
            containerDefinitions=[{"name": "app", "image": "busybox"}],
            tags=[{"key": "batchyard:inject-start-failures", "value": "two"}],
        )
    code, message = _error(excinfo)
    assert code == "InvalidParameterException" and "'two'" in message


def test_list_task_definitions_pages(ecs: Any) -> None:
    for _ in range(3):
        ecs.register_task_definition(
            family="paged", containerDefinitions=[{"name": "app", "image": "busybox"}]
        )
    first = ecs.list_task_definitions(familyPrefix="paged", maxResults=2)
    second = ecs.list_task_definitions(
        familyPrefix="paged", maxResults=2, nextToken=first["nextToken"]
    )
    assert len(first["taskDefinitionArns"]) == 2 and "nextToken" not in second
    revisions = [a.rsplit(":", 1)[1] for a in first["taskDefinitionArns"] + second[
        "taskDefinitionArns"
    ]]  # fmt: skip
    assert revisions == ["1", "2", "3"]
    with pytest.raises(ClientError) as excinfo:
        ecs.list_clusters(nextToken="garbage")
    assert _error(excinfo) == ("InvalidParameterException", "Invalid nextToken.")


def test_run_task_identifiers_are_checked(ecs: Any) -> None:
    for arguments in ({"clientToken": "x" * 65}, {"clientToken": "has space"},
                      {"startedBy": "s" * 129}):  # fmt: skip
        with pytest.raises(ClientError) as excinfo:
            ecs.run_task(taskDefinition="anything", **arguments)
        code, message = _error(excinfo)
        assert code == "InvalidParameterException"
        assert next(iter(arguments)) in message
