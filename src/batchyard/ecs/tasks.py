"""RunTask, DescribeTasks, ListTasks, StopTask: task records and their API shapes.

RunTask only records: in one transaction it stores the tasks (``PROVISIONING``), the
``clientToken`` and one leased work item per task; the supervisor (``supervisor.py``) then
starts them. A repeated ``clientToken`` on the same cluster answers the tasks of its first call,
whatever else the repeated request says, so a retried launch can never start a task twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from batchyard.ecs import documents, egress, errors, injection
from batchyard.ecs.arns import new_task_id, task_id_of
from batchyard.ecs.context import TASK_WORK, EcsContext
from batchyard.ecs.definitions import tags_of
from batchyard.ecs.records import TaskDefinitionRecord, TaskRecord
from batchyard.ecs.repository import RunRequests, Tasks
from batchyard.store.repository import decode_token, encode_token
from batchyard.store.schema import from_millis

Params = dict[str, Any]
MAX_COUNT = 10
STOPPED_BY_USER = "Task stopped by user"


def _launch_type(params: Params) -> tuple[str, str | None]:
    strategy = params.get("capacityProviderStrategy") or []
    if strategy:
        provider = str(strategy[0].get("capacityProvider", ""))
        return ("FARGATE" if provider.startswith("FARGATE") else "EC2"), provider
    return params.get("launchType") or "EC2", None


def _subnets(params: Params) -> list[str] | None:
    """The ``awsvpc`` subnets of the request, or ``None`` without ``networkConfiguration``."""
    awsvpc = (params.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    return None if awsvpc is None else list(awsvpc.get("subnets") or [])


def _check_overrides(definition: TaskDefinitionRecord, overrides: Params) -> None:
    names = {c["name"] for c in definition.body["containerDefinitions"]}
    for override in overrides.get("containerOverrides") or []:
        name = override.get("name")
        if name not in names:
            raise errors.invalid(
                f"Override for container named {name} is not a container in the TaskDefinition."
            )


def _run_tags(ctx: EcsContext, params: Params, definition: TaskDefinitionRecord) -> dict[str, str]:
    tags = tags_of(params.get("tags"))
    if params.get("propagateTags") == "TASK_DEFINITION":
        tags = {**ctx.tags(definition.arn), **tags}
    return tags


def _check_identifiers(params: Params) -> None:
    """``clientToken``: up to 64 characters of ASCII 33-126; ``startedBy``: up to 128."""
    token = params.get("clientToken")
    if token is not None and not (0 < len(token) <= 64 and all(33 <= ord(c) <= 126 for c in token)):
        raise errors.invalid("clientToken must be 1 to 64 characters in the ASCII range 33-126.")
    started_by = params.get("startedBy")
    if started_by is not None and len(started_by) > 128:
        raise errors.invalid("startedBy can be up to 128 characters.")


def run_task(ctx: EcsContext, params: Params, *, waiter: str | None = None) -> dict[str, Any]:
    _check_identifiers(params)
    cluster = ctx.active_cluster(params.get("cluster"))
    token = params.get("clientToken")
    if token:
        earlier = ctx.run_requests.get(cluster.name, token)
        if earlier is not None:
            return _described(ctx, earlier)
    count = params.get("count")
    count = 1 if count is None else count
    if not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise errors.invalid(f"count must be between 1 and {MAX_COUNT}, got {count}.")
    definition = ctx.definition(params["taskDefinition"], errors.task_definition_not_found)
    if definition.status != "ACTIVE":
        raise errors.invalid("TaskDefinition is inactive")
    overrides = params.get("overrides") or {}
    _check_overrides(definition, overrides)
    tags = _run_tags(ctx, params, definition)
    injection.check_tags(tags)
    profile = egress.choose(ctx.egress_profiles, ctx.tags(definition.arn), tags)
    if profile is not None:
        tags[egress.RECORD_TAG] = profile[0]
    launch_type, provider = _launch_type(params)
    now = ctx.now()
    records = []
    for _ in range(count):
        task_id = new_task_id()
        arn = ctx.scope.task_arn(cluster.name, task_id)
        body = documents.new_task(
            task_arn=arn,
            cluster_arn=cluster.arn,
            definition=definition.body,
            container_arns=[
                ctx.scope.container_arn(cluster.name, task_id)
                for _ in definition.body["containerDefinitions"]
            ],
            overrides=overrides,
            launch_type=launch_type,
            group=params.get("group") or f"family:{definition.family}",
            started_by=params.get("startedBy"),
            tags=[{"key": k, "value": v} for k, v in tags.items()],
            availability_zone=f"{ctx.scope.region}a",
            now=now,
            subnets=_subnets(params),
        )
        if provider:
            body["capacityProviderName"] = provider
        records.append(
            TaskRecord(
                arn=arn,
                task_id=task_id,
                cluster=cluster.name,
                family=definition.family,
                started_by=params.get("startedBy"),
                desired_status="RUNNING",
                last_status="PROVISIONING",
                created=now,
                body=body,
                version=1,
                launch_number=None,
                waiter=waiter,
                delivered=False,
            )
        )
    arns = [r.arn for r in records]
    with ctx.store.transaction() as tx:
        if token and not RunRequests(ctx.store.db, tx.connection).claim(
            cluster.name, token, arns, now
        ):
            records = []  # another call with this token won; answer its tasks below
        else:
            Tasks(ctx.store.db, tx.connection).add(records)
            for record in records:
                tx.work.enqueue(TASK_WORK, record.arn, now=now)
    if not records and token:
        return _described(ctx, ctx.run_requests.get(cluster.name, token) or [])
    ctx.bell.set()
    return {"tasks": [documents.to_wire(r.body) for r in records], "failures": []}


def _described(ctx: EcsContext, arns: list[str]) -> dict[str, Any]:
    found = ctx.tasks.get_many([task_id_of(a) for a in arns])
    tasks = [documents.to_wire(found[task_id_of(a)].body) for a in arns if task_id_of(a) in found]
    return {"tasks": tasks, "failures": []}


def describe_tasks(ctx: EcsContext, params: Params) -> dict[str, Any]:
    cluster = ctx.active_cluster(params.get("cluster"))
    with_tags = "TAGS" in (params.get("include") or [])
    identifiers = params["tasks"]
    if len(identifiers) > 100:
        raise errors.invalid("Tasks cannot have more than 100 elements.")
    found = ctx.tasks.get_many([task_id_of(i) for i in identifiers])
    tasks, failures = [], []
    for identifier in identifiers:
        record = found.get(task_id_of(identifier))
        if record is None or record.cluster != cluster.name:
            arn = identifier
            if not identifier.startswith("arn:"):
                arn = ctx.scope.task_arn(cluster.name, identifier)
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            tasks.append(documents.to_wire(record.body, with_tags=with_tags))
    return {"tasks": tasks, "failures": failures}


def list_tasks(ctx: EcsContext, params: Params) -> dict[str, Any]:
    cluster = ctx.active_cluster(params.get("cluster"))
    limit = params.get("maxResults") or 100
    if not 1 <= limit <= 100:
        raise errors.invalid("maxResults must be between 1 and 100.")
    after: tuple[datetime, str] | None = None
    if params.get("nextToken"):
        try:
            created, arn = decode_token(params["nextToken"])
            after = (from_millis(int(created)), str(arn))
        except (ValueError, TypeError) as exc:
            raise errors.invalid("Invalid nextToken.") from exc
    rows = ctx.tasks.list_arns(
        cluster.name,
        family=params.get("family"),
        started_by=params.get("startedBy"),
        desired_status=params.get("desiredStatus") or "RUNNING",
        after=after,
        limit=limit + 1,
    )
    result: dict[str, Any] = {"taskArns": [arn for arn, _ in rows[:limit]]}
    if len(rows) > limit:
        arn, created = rows[limit - 1]
        result["nextToken"] = encode_token(documents.millis(created), arn)
    return result


def stop_task(ctx: EcsContext, params: Params) -> dict[str, Any]:
    cluster = ctx.active_cluster(params.get("cluster"))
    record = ctx.tasks.get(task_id_of(params["task"]))
    if record is None or record.cluster != cluster.name:
        raise errors.task_not_found()
    reason = params.get("reason") or STOPPED_BY_USER
    while record.last_status != "STOPPED" and record.desired_status != "STOPPED":
        updated = ctx.tasks.replace(record, documents.stopping(record.body, reason, ctx.now()))
        if updated is not None:
            record = updated
            ctx.wake(record.arn)
            break
        fresh = ctx.tasks.get(record.task_id)
        assert fresh is not None
        record = fresh
    return {"task": documents.to_wire(record.body)}


def tags_of_task(record: TaskRecord) -> Mapping[str, str]:
    return {t["key"]: t["value"] for t in record.body.get("tags", [])}


HANDLERS = {
    "RunTask": run_task,
    "DescribeTasks": describe_tasks,
    "ListTasks": list_tasks,
    "StopTask": stop_task,
}
