"""TagResource, UntagResource, ListTagsForResource on clusters, task definitions and tasks.

Cluster and task-definition tags live in the store's ``tags`` table; a task's tags live in its
document (``tags`` is a member of the ECS ``Task``), so DescribeTasks and the tag operations
always agree. Tag values are checked where batchyard gives them a meaning (runner, injection).
"""

from __future__ import annotations

from typing import Any

from batchyard.ecs import backends, documents, errors, injection
from batchyard.ecs.arns import task_definition_parts, task_id_of
from batchyard.ecs.context import EcsContext
from batchyard.ecs.definitions import tag_list, tags_of
from batchyard.ecs.records import TaskRecord

Params = dict[str, Any]


def _kind(arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "ecs":
        raise errors.invalid(f"Invalid resource ARN: {arn}")
    return parts[5].split("/", 1)[0]


def _task(ctx: EcsContext, arn: str) -> TaskRecord:
    record = ctx.tasks.get(task_id_of(arn))
    if record is None:
        raise errors.invalid("The referenced task was not found.")
    return record


def _check_stored(ctx: EcsContext, arn: str) -> None:
    kind = _kind(arn)
    if kind == "cluster":
        ctx.active_cluster(arn)
    elif kind == "task-definition":
        family, revision = task_definition_parts(arn)
        if revision is None or ctx.definitions.get(family, revision) is None:
            raise errors.cannot_describe_task_definition()
    else:
        raise errors.invalid(f"Tagging is not supported for resource {arn}")


def _change_task(ctx: EcsContext, arn: str, change: Any) -> None:
    record = _task(ctx, arn)
    while True:
        tags = {t["key"]: t["value"] for t in record.body.get("tags", [])}
        change(tags)
        body = {**record.body, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
        body["version"] = record.body.get("version", 1)
        if ctx.tasks.replace(record, body) is not None:
            return
        record = _task(ctx, arn)


def tag_resource(ctx: EcsContext, params: Params) -> dict[str, Any]:
    arn = params["resourceArn"]
    tags = tags_of(params["tags"])
    backends.check_tags(tags)
    injection.check_tags(tags)
    if _kind(arn) == "task":
        _change_task(ctx, arn, lambda current: current.update(tags))
    else:
        _check_stored(ctx, arn)
        ctx.store.tags.put(arn, tags)
    return {}


def untag_resource(ctx: EcsContext, params: Params) -> dict[str, Any]:
    arn = params["resourceArn"]
    keys = list(params["tagKeys"])
    if _kind(arn) == "task":

        def drop(current: dict[str, str]) -> None:
            for key in keys:
                current.pop(key, None)

        _change_task(ctx, arn, drop)
    else:
        _check_stored(ctx, arn)
        ctx.store.tags.remove(arn, keys)
    return {}


def list_tags_for_resource(ctx: EcsContext, params: Params) -> dict[str, Any]:
    arn = params["resourceArn"]
    if _kind(arn) == "task":
        wire = documents.to_wire(_task(ctx, arn).body)
        return {"tags": wire.get("tags", [])}
    _check_stored(ctx, arn)
    return {"tags": tag_list(ctx.tags(arn))}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
