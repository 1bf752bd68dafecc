"""ECS clusters (with their tags) and task definitions (a new revision when a field the file
sets differs from the latest active revision; every revision deregistered on delete)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from batchyard.deploy.changes import Change, Context, differences, tag_list, tags_of


def clusters(ctx: Context) -> Iterator[Change]:
    needed = bool(ctx.project.clusters)
    listed = ctx.call("ECS", "ListClusters", needed, lambda: ctx.c.ecs.list_clusters())
    if listed is None:
        return
    ecs = ctx.c.ecs
    arns = listed.get("clusterArns", [])
    described = ecs.describe_clusters(clusters=arns, include=["TAGS"])["clusters"] if arns else []
    existing = {c["clusterName"]: c for c in described if c.get("status") == "ACTIVE"}
    for name, extra in ctx.project.clusters.items():
        desired = {**extra, **ctx.tags}
        current = existing.get(name)
        if current is None:
            yield Change(
                "create",
                "cluster",
                name,
                run=partial(ecs.create_cluster, clusterName=name, tags=tag_list(desired)),
            )
            continue
        tags = tags_of(current.get("tags"))
        if tags == desired:
            yield Change("unchanged", "cluster", name)
            continue
        yield Change(
            "update",
            "cluster",
            name,
            ["tags"],
            run=partial(_retag_cluster, ecs, current["clusterArn"], tags, desired),
        )
    for name, cluster in existing.items():
        if name not in ctx.project.clusters and ctx.owned(tags_of(cluster.get("tags"))):
            yield Change("delete", "cluster", name, run=partial(ecs.delete_cluster, cluster=name))


def task_definitions(ctx: Context) -> Iterator[Change]:
    needed = bool(ctx.project.task_definitions)
    listed = ctx.call(
        "ECS",
        "ListTaskDefinitionFamilies",
        needed,
        lambda: [
            family
            for page in ctx.c.ecs.get_paginator("list_task_definition_families").paginate(
                status="ACTIVE"
            )
            for family in page["families"]
        ],
    )
    if listed is None:
        return
    ecs = ctx.c.ecs
    current: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    for family in listed:
        try:
            answer = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
        except ClientError:
            continue
        current[family] = (answer["taskDefinition"], tags_of(answer.get("tags")))
    for family, request in ctx.project.task_definitions.items():
        desired = {**request, "tags": tag_list({**tags_of(request.get("tags")), **ctx.tags})}
        register = partial(ecs.register_task_definition, **desired)
        if family not in current:
            yield Change("create", "task definition", family, run=register)
            continue
        definition, tags = current[family]
        changed = differences(
            {k: v for k, v in request.items() if k not in ("tags", "family")}, definition
        )
        if tags_of(desired["tags"]) != tags:
            changed.append("tags")
        if changed:
            yield Change(
                "update",
                "task definition",
                family,
                [f"new revision; changed: {', '.join(changed)}"],
                run=register,
            )
        else:
            yield Change("unchanged", "task definition", family)
    for family, (_definition, tags) in current.items():
        if family not in ctx.project.task_definitions and ctx.owned(tags):
            yield Change(
                "delete",
                "task definition",
                family,
                run=partial(_deregister_family, ecs, family),
            )


def _retag_cluster(ecs: Any, arn: str, current: dict[str, str], desired: dict[str, str]) -> None:
    stale = [key for key in current if key not in desired]
    if stale:
        ecs.untag_resource(resourceArn=arn, tagKeys=stale)
    ecs.tag_resource(resourceArn=arn, tags=tag_list(desired))


def _deregister_family(ecs: Any, family: str) -> None:
    for page in ecs.get_paginator("list_task_definitions").paginate(
        familyPrefix=family, status="ACTIVE"
    ):
        for arn in page["taskDefinitionArns"]:
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
                ecs.deregister_task_definition(taskDefinition=arn)
