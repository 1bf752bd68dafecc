"""RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions,
ListTaskDefinitionFamilies, DeregisterTaskDefinition.

Revisions of a family are numbered 1, 2, ...; the number is taken by the primary key
``(family, revision)``, so two replicas registering at once get two different revisions.
"""

from __future__ import annotations

from typing import Any

from batchyard.ecs import definitions, errors, injection
from batchyard.ecs.arns import task_definition_parts
from batchyard.ecs.context import EcsContext, paged
from batchyard.ecs.definitions import tag_list, tags_of
from batchyard.ecs.egress import choose
from batchyard.ecs.records import TaskDefinitionRecord

Params = dict[str, Any]


def register_task_definition(ctx: EcsContext, params: Params) -> dict[str, Any]:
    definitions.check(params)
    tags = tags_of(params.get("tags"))
    injection.check_tags(tags)
    choose(ctx.egress_profiles, tags, {})  # an unknown profile is refused now, by name
    family = params["family"]
    while True:
        revision = ctx.definitions.last_revision(family) + 1
        arn = ctx.scope.task_definition_arn(family, revision)
        now = ctx.now()
        body = definitions.body(
            params, arn=arn, revision=revision, account=ctx.scope.account, now=now
        )
        record = TaskDefinitionRecord(family, revision, arn, "ACTIVE", body, 0, now)
        if ctx.definitions.add(record):
            break
    ctx.store.tags.put(arn, tags)
    return {"taskDefinition": definitions.to_wire(body), "tags": tag_list(tags)}


def describe_task_definition(ctx: EcsContext, params: Params) -> dict[str, Any]:
    record = ctx.definition(params["taskDefinition"], errors.cannot_describe_task_definition)
    result: dict[str, Any] = {"taskDefinition": definitions.to_wire(record.body)}
    if "TAGS" in (params.get("include") or []):
        result["tags"] = tag_list(ctx.tags(record.arn))
    return result


def deregister_task_definition(ctx: EcsContext, params: Params) -> dict[str, Any]:
    family, revision = task_definition_parts(params["taskDefinition"])
    if revision is None:
        raise errors.client(f"Invalid revision number. Number: {family}")
    record = ctx.definitions.get(family, revision)
    if record is None:
        raise errors.cannot_describe_task_definition()
    body = dict(record.body)
    if record.status == "ACTIVE":
        body["status"] = "INACTIVE"
        body["deregisteredAt"] = round(ctx.now().timestamp() * 1000)
        ctx.definitions.deregister(family, revision, body)
    return {"taskDefinition": definitions.to_wire(body)}


def list_task_definitions(ctx: EcsContext, params: Params) -> dict[str, Any]:
    arns = ctx.definitions.list_arns(
        family_prefix=params.get("familyPrefix"),
        status=params.get("status") or "ACTIVE",
        descending=params.get("sort") == "DESC",
    )
    page, token = paged(arns, params)
    result: dict[str, Any] = {"taskDefinitionArns": page}
    if token:
        result["nextToken"] = token
    return result


def list_task_definition_families(ctx: EcsContext, params: Params) -> dict[str, Any]:
    families = ctx.definitions.families(
        prefix=params.get("familyPrefix"), status=params.get("status") or "ACTIVE"
    )
    page, token = paged(families, params)
    result: dict[str, Any] = {"families": page}
    if token:
        result["nextToken"] = token
    return result


HANDLERS = {
    "RegisterTaskDefinition": register_task_definition,
    "DescribeTaskDefinition": describe_task_definition,
    "DeregisterTaskDefinition": deregister_task_definition,
    "ListTaskDefinitions": list_task_definitions,
    "ListTaskDefinitionFamilies": list_task_definition_families,
}
