"""RegisterTaskDefinition: checking a request and building the ``TaskDefinition`` ECS returns.

The stored body is the response's ``taskDefinition`` with ECS's defaults filled in (``cpu: 0``,
``essential: true``, empty ``portMappings``/``environment``/``mountPoints``/``volumesFrom``/
``systemControls`` per container), ``registeredAt`` in epoch milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from batchyard.ecs import errors
from batchyard.ecs.arns import valid_name
from batchyard.ecs.documents import Body, millis

_CONTAINER_DEFAULTS: dict[str, Any] = {
    "cpu": 0,
    "portMappings": [],
    "essential": True,
    "environment": [],
    "mountPoints": [],
    "volumesFrom": [],
    "systemControls": [],
}
# Members of the request that are not part of the TaskDefinition it creates.
_NOT_IN_BODY = ("tags",)


def check(request: dict[str, Any]) -> None:
    """Refuse what ECS refuses at registration, with ECS's texts where they are known."""
    family = request["family"]
    if not valid_name(family):
        raise errors.client(
            "Family contains invalid characters: up to 255 letters (uppercase and lowercase), "
            "numbers, underscores, and hyphens are allowed."
        )
    containers = request.get("containerDefinitions") or []
    if not containers:
        raise errors.client("Container list cannot be empty.")
    seen: set[str] = set()
    for container in containers:
        name = container.get("name")
        if not name:
            raise errors.client("Container.name should not be null or empty.")
        if not container.get("image"):
            raise errors.client("Container.image should not be null or empty.")
        if name in seen:
            raise errors.client(f"Duplicate container name: {name}")
        seen.add(name)
        logging = container.get("logConfiguration")
        awslogs = bool(logging) and logging.get("logDriver") == "awslogs"
        if awslogs and not (logging.get("options") or {}).get("awslogs-group"):
            raise errors.client(
                "Log driver awslogs option 'awslogs-group' should not be null or empty."
            )
    if not any(c.get("essential", True) for c in containers):
        raise errors.client("Task definition does not have any essential container.")


def body(request: dict[str, Any], *, arn: str, revision: int, account: str, now: datetime) -> Body:
    """The ``taskDefinition`` of a registration."""
    definition: Body = {k: v for k, v in request.items() if k not in _NOT_IN_BODY}
    definition["containerDefinitions"] = [
        {**_CONTAINER_DEFAULTS, **c} for c in request["containerDefinitions"]
    ]
    compat = request.get("requiresCompatibilities") or []
    definition.update(
        taskDefinitionArn=arn,
        revision=revision,
        status="ACTIVE",
        volumes=request.get("volumes", []),
        placementConstraints=request.get("placementConstraints", []),
        compatibilities=sorted({"EC2", *compat}),
        requiresAttributes=[],
        registeredAt=millis(now),
        registeredBy=f"arn:aws:iam::{account}:root",
    )
    return definition


def to_wire(definition: Body) -> Body:
    """The stored body with its instants as ``datetime``."""
    wire = dict(definition)
    for key in ("registeredAt", "deregisteredAt"):
        if key in wire:
            wire[key] = datetime.fromtimestamp(wire[key] / 1000, UTC)
    return wire


def tags_of(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in tags or []}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]
