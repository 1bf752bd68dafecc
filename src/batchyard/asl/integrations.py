"""Task integrations: a registry keyed by resource pattern, each integration a small object.

The interpreter only asks :func:`resolve` which integration serves a ``Resource`` and what to
call it in history events; running the task is the driver's business (in memory for
``execute``; the durable engine later). New integrations — ECS, nested executions, activities,
callbacks — are added with :func:`register` and need no change to the interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from batchyard.asl.interpreter import TaskOutcome, TaskRequest

Family = Literal["Task", "LambdaFunction"]


@dataclass(slots=True)
class InvokeEnv:
    """What an in-memory invocation may use: the caller's Lambda handlers and the time."""

    functions: Mapping[str, Callable[[Any, Any], Any]]
    now: datetime
    region: str = "us-east-1"
    account: str = "123456789012"
    extras: dict[str, Any] = field(default_factory=dict)


class Integration(Protocol):
    """One kind of Task resource."""

    #: ``Task`` events (TaskScheduled …) or the legacy ``LambdaFunction`` events.
    family: Family

    def describe(self, resource: str) -> tuple[str, str]:
        """``(resourceType, resource)`` as history events name them (``("lambda", "invoke")``)."""
        ...

    def invoke(self, request: TaskRequest, env: InvokeEnv) -> TaskOutcome:
        """Run the task to completion in memory."""
        ...


_REGISTRY: list[tuple[re.Pattern[str], Integration]] = []


def register(pattern: str, integration: Integration) -> None:
    """Serve resources matching ``pattern`` (a regex, full match) with ``integration``.

    Later registrations win, so a caller can override a built-in one.
    """
    _REGISTRY.insert(0, (re.compile(pattern), integration))


def resolve(resource: str) -> Integration | None:
    for pattern, integration in _REGISTRY:
        if pattern.fullmatch(resource):
            return integration
    return None


# ``aws-sdk:s3:getObject`` is resourceType ``aws-sdk:s3``; everything else is ``service:action``.
_SERVICE_RESOURCE = re.compile(
    r"arn:aws[\w-]*:states:[^:]*:[^:]*:(?P<service>aws-sdk:[\w-]+|[\w-]+):(?P<action>.+)"
)


def describe_service_resource(resource: str) -> tuple[str, str]:
    """``arn:aws:states:::ecs:runTask.sync`` → ``("ecs", "runTask.sync")``."""
    match = _SERVICE_RESOURCE.fullmatch(resource)
    if match is None:
        return "", resource
    return match.group("service"), match.group("action")


def unsupported_cause(resource: str) -> str:
    return (
        f"The resource '{resource}' is not supported by batchyard's in-memory interpreter yet "
        "(callbacks, activities, ECS and nested executions run in the durable engine)."
    )
