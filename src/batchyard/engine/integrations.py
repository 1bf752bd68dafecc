"""Task integrations that only the durable engine can run, registered in the asl registry.

Each is a small marker object: the interpreter asks it for its history names
(``describe``); the engine reads ``mode`` to decide how to dispatch it:

* ``activity`` — queue the task for ``GetActivityTask`` pollers; a worker answers with a token.
* ``callback`` — ``.waitForTaskToken``: perform the request part (invoke a function, start an
  execution, or nothing), then wait for SendTaskSuccess/Failure with ``$$.Task.Token``.
* ``child`` — ``states:startExecution`` (request-response), ``.sync`` and ``.sync:2``.
* ``ecs`` — ``ecs:runTask`` (request-response) and ``.sync`` (``ecs_tasks.py``); its
  ``.waitForTaskToken`` is a ``callback`` whose request part is RunTask.

``invoke`` exists for the in-memory driver (``asl.execute``), which cannot wait for a worker.
"""

from __future__ import annotations

from typing import Any, Literal

from batchyard.asl.integrations import Family, InvokeEnv, describe_service_resource, register
from batchyard.asl.interpreter import TaskOutcome, TaskRequest
from batchyard.engine.ecs_tasks import STARTED_BY
from batchyard.engine.translate import ACTIVITY

Mode = Literal["activity", "callback", "child", "ecs"]
Request = Literal["", "lambda", "child", "ecs"]


class _EngineOnly:
    family: Family = "Task"
    mode: Mode = "callback"
    needs_token = False
    starts_child = False
    sync: Literal["", ".sync", ".sync:2"] = ""
    request: Request = ""

    def describe(self, resource: str) -> tuple[str, str]:
        return describe_service_resource(resource)

    def invoke(self, request: TaskRequest, env: InvokeEnv) -> TaskOutcome:
        return TaskOutcome(
            error="States.Runtime",
            cause=f"The resource '{request.resource}' runs in batchyard's durable engine only.",
        )


class ActivityTask(_EngineOnly):
    mode: Mode = "activity"
    needs_token = True

    def describe(self, resource: str) -> tuple[str, str]:
        return ACTIVITY, resource


class Callback(_EngineOnly):
    mode: Mode = "callback"
    needs_token = True

    def __init__(self, request: Request) -> None:
        self.request = request
        self.starts_child = request == "child"


class NestedExecution(_EngineOnly):
    mode: Mode = "child"
    starts_child = True

    def __init__(self, sync: Literal["", ".sync", ".sync:2"]) -> None:
        self.sync = sync


class EcsRunTask(_EngineOnly):
    """``ecs:runTask``: request-response, or ``.sync`` (an internal token, answered when the
    ECS service reports the task STOPPED)."""

    mode: Mode = "ecs"

    def __init__(self, sync: Literal["", ".sync"]) -> None:
        self.sync = sync
        self.needs_token = bool(sync)

    def prepare(self, parameters: Any) -> Any:
        """``.sync`` tasks are started by ``AWS Step Functions`` unless the definition says
        otherwise; AWS shows it in TaskScheduled's parameters too."""
        if self.sync and isinstance(parameters, dict) and "StartedBy" not in parameters:
            return {**parameters, "StartedBy": STARTED_BY}
        return parameters


_STATES = r"arn:aws[\w-]*:states:[^:]*:[^:]*:"

register(r".+\.waitForTaskToken", Callback(""))
register(_STATES + r"lambda:invoke\.waitForTaskToken", Callback("lambda"))
register(_STATES + r"states:startExecution\.waitForTaskToken", Callback("child"))
register(_STATES + r"states:startExecution", NestedExecution(""))
register(_STATES + r"states:startExecution\.sync", NestedExecution(".sync"))
register(_STATES + r"states:startExecution\.sync:2", NestedExecution(".sync:2"))
register(_STATES + r"ecs:runTask", EcsRunTask(""))
register(_STATES + r"ecs:runTask\.sync", EcsRunTask(".sync"))
register(_STATES + r"ecs:runTask\.waitForTaskToken", Callback("ecs"))
register(r"arn:aws[\w-]*:states:[^:]+:[^:]+:activity:[^:]+", ActivityTask())
