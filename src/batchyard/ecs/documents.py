"""ECS ``Task`` documents: built at RunTask, moved through their lifecycle, shown on the wire.

A task's body is the ``Task`` structure exactly as ECS returns it (camelCase), except that its
instants are epoch milliseconds so that the body is plain JSON; :func:`to_wire` turns them into
aware ``datetime`` values, which the API serialises as ECS's epoch seconds (and boto3 returns as
``datetime``). Every function here is pure: it takes a body and returns a new one.

Lifecycle, as ECS reports it: ``PROVISIONING`` (created) → ``PENDING`` (image pull, the start)
→ ``RUNNING`` → ``STOPPED`` (with ``stopCode``/``stoppedReason``; the containers' ``exitCode``).
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

Body = dict[str, Any]

TIMESTAMPS = (
    "createdAt",
    "connectivityAt",
    "pullStartedAt",
    "pullStoppedAt",
    "startedAt",
    "stoppingAt",
    "executionStoppedAt",
    "stoppedAt",
)
ESSENTIAL_EXITED = ("EssentialContainerExited", "Essential container in task exited")
TASK_FAILED_TO_START = "TaskFailedToStart"
# The task's attribute naming the runner it was launched on (local, docker, ecs).
RUNNER_ATTRIBUTE = "batchyard.runner"


def millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def to_wire(body: Body, *, with_tags: bool = True) -> Body:
    """The task as the API returns it: instants as ``datetime``; ``tags`` only when asked
    (DescribeTasks shows them with ``include=["TAGS"]``, RunTask always)."""
    wire = copy.deepcopy(body)
    for key in TIMESTAMPS:
        if key in wire:
            wire[key] = datetime.fromtimestamp(wire[key] / 1000, UTC)
    if not with_tags:
        wire.pop("tags", None)
    return wire


def new_task(
    *,
    task_arn: str,
    cluster_arn: str,
    definition: Body,
    container_arns: list[str],
    overrides: Body,
    launch_type: str,
    group: str,
    started_by: str | None,
    tags: list[dict[str, str]],
    availability_zone: str,
    now: datetime,
    subnets: list[str] | None = None,
) -> Body:
    """A task just created by RunTask (``lastStatus: PROVISIONING``)."""
    containers = []
    container_overrides = {o.get("name"): o for o in overrides.get("containerOverrides", [])}
    for arn, spec in zip(container_arns, definition["containerDefinitions"], strict=True):
        override = container_overrides.get(spec["name"], {})
        container: Body = {
            "containerArn": arn,
            "taskArn": task_arn,
            "name": spec["name"],
            "image": spec["image"],
            "lastStatus": "PENDING",
            "networkInterfaces": [],
            "networkBindings": [],
            "cpu": str(override.get("cpu", spec.get("cpu", 0))),
        }
        memory = override.get("memory", spec.get("memory"))
        if memory is not None:
            container["memory"] = str(memory)
        reservation = override.get("memoryReservation", spec.get("memoryReservation"))
        if reservation is not None:
            container["memoryReservation"] = str(reservation)
        containers.append(container)
    body: Body = {
        "attachments": _eni(subnets) if subnets is not None else [],
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "availabilityZone": availability_zone,
        "clusterArn": cluster_arn,
        "containers": containers,
        "createdAt": millis(now),
        "desiredStatus": "RUNNING",
        "enableExecuteCommand": False,
        "group": group,
        "lastStatus": "PROVISIONING",
        "launchType": launch_type,
        "overrides": _echoed_overrides(
            overrides, [c["name"] for c in definition["containerDefinitions"]]
        ),
        "tags": tags,
        "taskArn": task_arn,
        "taskDefinitionArn": definition["taskDefinitionArn"],
        "version": 1,
    }
    cpu = overrides.get("cpu") or definition.get("cpu")
    memory = overrides.get("memory") or definition.get("memory")
    if cpu is not None:
        body["cpu"] = str(cpu)
    if memory is not None:
        body["memory"] = str(memory)
    if started_by:
        body["startedBy"] = started_by
    if launch_type == "FARGATE":
        body["platformVersion"] = "1.4.0"
        body["platformFamily"] = "Linux"
        body["ephemeralStorage"] = {"sizeInGiB": 20}
        body["fargateEphemeralStorage"] = {"sizeInGiB": 20}
    return body


def _eni(subnets: list[str]) -> list[Body]:
    """The task's network interface as ECS lists it for ``awsvpc`` tasks; batchyard creates no
    ENI, so only its lifecycle (PRECREATED → ATTACHED → DELETED) and subnet are shown."""
    details = [{"name": "subnetId", "value": subnets[0]}] if subnets else []
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "ElasticNetworkInterface",
            "status": "PRECREATED",
            "details": details,
        }
    ]


def _attachments(task: Body, status: str) -> None:
    for attachment in task.get("attachments", []):
        attachment["status"] = status


def _echoed_overrides(overrides: Body, names: list[str]) -> Body:
    """``overrides`` as ECS echoes them: one ``containerOverrides`` entry per container of the
    task definition (just its ``name`` when it has no override), in definition order."""
    given = {o.get("name"): o for o in overrides.get("containerOverrides", [])}
    result: Body = {
        k: v
        for k, v in overrides.items()
        if k not in ("containerOverrides", "inferenceAcceleratorOverrides")
    }
    result["containerOverrides"] = [{**given.get(name, {}), "name": name} for name in names]
    result["inferenceAcceleratorOverrides"] = overrides.get("inferenceAcceleratorOverrides", [])
    return result


def pending(body: Body, now: datetime, *, runner: str) -> Body:
    """The start has begun on ``runner``: ENI/connectivity ready, image pull under way."""
    task = copy.deepcopy(body)
    task["attributes"] = [a for a in task.get("attributes", []) if a["name"] != RUNNER_ATTRIBUTE]
    task["attributes"].append({"name": RUNNER_ATTRIBUTE, "value": runner})
    task["lastStatus"] = "PENDING"
    task["connectivity"] = "CONNECTED"
    task["connectivityAt"] = millis(now)
    task["pullStartedAt"] = millis(now)
    return task


def runner_of(body: Body) -> str | None:
    """The runner a task was launched on, once it has been."""
    for attribute in body.get("attributes", []):
        if attribute["name"] == RUNNER_ATTRIBUTE:
            return str(attribute.get("value"))
    return None


def running(body: Body, started_at: datetime, now: datetime) -> Body:
    task = copy.deepcopy(body)
    task["lastStatus"] = "RUNNING"
    _attachments(task, "ATTACHED")
    task["pullStoppedAt"] = min(millis(started_at), millis(now))
    task["startedAt"] = millis(started_at)
    for container in task["containers"]:
        container["lastStatus"] = "RUNNING"
    return task


def stopping(body: Body, reason: str, now: datetime) -> Body:
    """StopTask: the desired status becomes STOPPED; the task reports UserInitiated."""
    task = copy.deepcopy(body)
    task["desiredStatus"] = "STOPPED"
    task.setdefault("stoppingAt", millis(now))
    task["stopCode"] = "UserInitiated"
    task["stoppedReason"] = reason
    return task


def stopped(
    body: Body,
    *,
    now: datetime,
    stop_code: str,
    reason: str,
    exits: dict[str, tuple[int | None, str | None]] | None = None,
    container_reason: str | None = None,
    execution_stopped_at: datetime | None = None,
) -> Body:
    """The task's end. ``exits``: per container ``(exitCode, reason)``; a start failure has
    none and gives every container ``container_reason`` instead."""
    task = copy.deepcopy(body)
    task["lastStatus"] = "STOPPED"
    task["desiredStatus"] = "STOPPED"
    _attachments(task, "DELETED")
    task["stopCode"] = stop_code
    task["stoppedReason"] = reason
    task.setdefault("stoppingAt", millis(now))
    task["executionStoppedAt"] = millis(execution_stopped_at or now)
    task["stoppedAt"] = max(millis(now), task["executionStoppedAt"])
    if "pullStartedAt" in task and "pullStoppedAt" not in task:
        task["pullStoppedAt"] = task["stoppingAt"]
    for container in task["containers"]:
        container["lastStatus"] = "STOPPED"
        code, why = (exits or {}).get(container["name"], (None, container_reason))
        if code is not None:
            container["exitCode"] = code
        if why:
            container["reason"] = why[:1024]
    return task


def with_tag(body: Body, key: str, value: str) -> Body:
    task = copy.deepcopy(body)
    task["tags"] = [t for t in task.get("tags", []) if t["key"] != key]
    task["tags"].append({"key": key, "value": value})
    return task
