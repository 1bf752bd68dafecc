"""ECS tasks from Step Functions: ``ecs:runTask``, ``.sync`` and ``.waitForTaskToken``.

How each pattern runs on the durable engine (see ``dispatch.py`` for the common part):

* request-response (``ecs:runTask``): RunTask with a ``clientToken`` derived from the dispatch
  (acting again after a takeover finds the same task); the output is the RunTask response as
  Step Functions writes it — PascalCase, with the AWS SDK's ``SdkHttpMetadata`` envelope and a
  non-empty ``Failures`` returned as it is.
* ``.sync``: like a callback task. The engine records an internal token at dispatch; RunTask
  gets ``waiter=token`` and a ``clientToken`` derived from it, and the ECS service calls
  :func:`task_stopped` (durably, redelivered after restarts) once the task is STOPPED, which
  answers the token: the stopped task in PascalCase when every container exited 0, otherwise
  ``States.TaskFailed`` with that task as JSON in ``Cause``. TaskStarted and TaskSubmitted (the
  RunTask response) are recorded when RunTask returns. ``StartedBy`` defaults to
  ``AWS Step Functions`` (``EcsRunTask.prepare``, so TaskScheduled shows it as on AWS).
  StopExecution stops the running task (:func:`managed_tasks`).
* ``.waitForTaskToken``: RunTask, then wait for SendTaskSuccess/Failure with the token the
  definition passed to the container (usually an ``Environment`` override of ``$$.Task.Token``).

AWS's rules kept here: with ``.sync`` or a task token, a non-empty ``Failures`` fails the task
with ``AmazonECS.Unknown``; an error of the ECS API fails it with ``ECS.<code>`` and the AWS
SDK's cause text. Parameters are PascalCase: each name is the model's member name with its
first letter upper-cased (``NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp``,
``EnableECSManagedTags``), mapped back through botocore's ECS model, so acronyms survive.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Protocol

import botocore.session  # type: ignore[import-untyped]

from batchyard.asl.events import to_json
from batchyard.engine.errors import InvalidToken, TaskTimedOut
from batchyard.engine.journal import Input

if TYPE_CHECKING:
    from batchyard.engine.dispatch import Dispatch
    from batchyard.engine.run import Pending, Run

log = logging.getLogger("batchyard.engine")
STARTED_BY = "AWS Step Functions"
_MS_THRESHOLD = 100_000_000_000  # epoch values above this are milliseconds, below seconds


class EcsTasks(Protocol):
    """What the engine needs of the ECS service (``batchyard.ecs``)."""

    def run_task(self, request: dict[str, Any], *, waiter: str | None = None) -> dict[str, Any]:
        """RunTask (camelCase request and response); ``waiter`` is told of the task's stop."""
        ...

    def on_task_stopped(self, callback: Callable[[dict[str, Any], str], None]) -> None:
        """Call ``callback(task, waiter)`` once each task run with a waiter is STOPPED."""
        ...

    def stop_task(
        self, task_arn: str, *, reason: str | None = None, cluster: str | None = None
    ) -> dict[str, Any]:
        """StopTask."""
        ...


class ParameterError(Exception):
    """A Parameters field the ECS RunTask request does not have."""


# --- shapes: PascalCase parameters and outputs from botocore's ECS model ----------------------


@functools.cache
def _model() -> Any:
    return botocore.session.get_session().get_service_model("ecs")


def _operation() -> Any:
    return _model().operation_model("RunTask")


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def to_request(value: Any, shape: Any = None, path: str = "") -> Any:
    """Step Functions' PascalCase ``Parameters`` as the camelCase RunTask request."""
    shape = shape if shape is not None else _operation().input_shape
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = {_pascal(name): name for name in shape.members}
        request: dict[str, Any] = {}
        for key, item in value.items():
            name = members.get(key)
            if name is None:
                where = f"{path}.{key}" if path else key
                raise ParameterError(f"The field '{where}' is not supported by Step Functions")
            child = f"{path}.{key}" if path else key
            request[name] = to_request(item, shape.members[name], child)
        return request
    if kind == "list" and isinstance(value, list):
        return [to_request(item, shape.member, path) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: to_request(item, shape.value, path) for key, item in value.items()}
    return value


def to_states(value: Any, shape: Any) -> Any:
    """An ECS response value as Step Functions writes it: PascalCase members in name order,
    timestamps as epoch milliseconds, and every list member present (``[]`` when absent), as
    the AWS SDK for Java that Step Functions uses serialises it."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[_pascal(name)] = to_states(value[name], member)
            elif member.type_name == "list":
                out[_pascal(name)] = []
        return dict(sorted(out.items()))
    if kind == "list" and isinstance(value, list):
        return [to_states(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: to_states(item, shape.value) for key, item in value.items()}
    if kind == "timestamp":
        return epoch_millis(value)
    return value


def epoch_millis(value: Any) -> Any:
    """A timestamp in any form the service may hold it as epoch milliseconds."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return round(moment.timestamp() * 1000)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return int(value) if value > _MS_THRESHOLD else round(value * 1000)
    if isinstance(value, str):
        try:
            return epoch_millis(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def task_output(task: dict[str, Any]) -> dict[str, Any]:
    """A stopped task as ``.sync`` returns it (and as ``Cause`` holds it, as JSON)."""
    shape = _operation().output_shape.members["tasks"].member
    result: dict[str, Any] = to_states(task, shape)
    return result


def response_output(response: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The RunTask response as Step Functions records it: the output members in PascalCase
    beside the SDK's HTTP metadata (``SdkHttpMetadata``, ``SdkResponseMetadata``)."""
    out: dict[str, Any] = to_states(response, _operation().output_shape)
    body = json.dumps(response, default=_wire_default, separators=(",", ":"))
    request_id = str(uuid.uuid4())
    date = format_datetime(now.astimezone(UTC), usegmt=True)
    length = str(len(body.encode()))
    content_type = "application/x-amz-json-1.1"
    out["SdkHttpMetadata"] = {
        "AllHttpHeaders": {
            "x-amzn-RequestId": [request_id],
            "Content-Length": [length],
            "Date": [date],
            "Content-Type": [content_type],
        },
        "HttpHeaders": {
            "Content-Length": length,
            "Content-Type": content_type,
            "Date": date,
            "x-amzn-RequestId": request_id,
        },
        "HttpStatusCode": 200,
    }
    out["SdkResponseMetadata"] = {"RequestId": request_id}
    return dict(sorted(out.items()))


def _wire_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --- outcomes -------------------------------------------------------------------------------


def succeeded(task: dict[str, Any], optional: frozenset[str] = frozenset()) -> bool:
    """AWS's rule for ``.sync``: the task succeeded when its essential containers exited 0 (the
    stop code is ``EssentialContainerExited`` either way). A task that never started has no exit
    code. ``optional``: names of the containers its task definition marks ``essential: false``."""
    containers = [c for c in task.get("containers") or [] if c.get("name") not in optional]
    return bool(containers) and all(c.get("exitCode") == 0 for c in containers)


def optional_containers(ecs: Any, task: dict[str, Any]) -> frozenset[str]:
    """The task's non-essential containers, from its task definition (none if unknown)."""
    describe = getattr(ecs, "operation", None)
    arn = task.get("taskDefinitionArn")
    if describe is None or not arn:
        return frozenset()
    try:
        found = describe("DescribeTaskDefinition", {"taskDefinition": arn})
    except Exception:  # deregistered or unreadable: every container counts
        return frozenset()
    definitions = (found.get("taskDefinition") or {}).get("containerDefinitions") or []
    return frozenset(
        str(d.get("name"))
        for d in definitions
        if isinstance(d, dict) and d.get("essential") is False
    )


def stopped_message(
    task: dict[str, Any], optional: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], str]:
    """The token answer for a stopped ``.sync`` task, and the token status it sets."""
    output = task_output(task)
    if succeeded(task, optional):
        return {"r": output, "o": to_json(output)}, "SUCCEEDED"
    return {"e": "States.TaskFailed", "c": to_json(output)}, "FAILED"


def api_failure(exc: Exception) -> tuple[str, str]:
    """An ECS API error as Step Functions reports it (error name, AWS SDK cause)."""
    code = str(getattr(exc, "code", "") or "AmazonECSException")
    message = getattr(exc, "message", None) or str(exc)
    status = 500 if code in ("ServerException", "InternalFailure") else 400
    cause = (
        f"{message} (Service: AmazonECS; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    return f"ECS.{code}", cause


def client_token(seed: str) -> str:
    """RunTask's ``clientToken`` (at most 64 characters) for one dispatch."""
    return hashlib.sha256(seed.encode()).hexdigest()


# --- acting on a dispatched task ------------------------------------------------------------


def act(core: Dispatch, run: Run, pending: Pending, base: Input, started: Input) -> list[Input]:
    """Run the ECS task of ``pending`` (request-response or ``.sync``)."""
    sync = bool(pending.command.integration.sync)
    if sync and pending.started:
        return []  # running already: the service's stop notice answers the token
    token = pending.token
    seed = token if token is not None else f"{run.arn}#{pending.command.thread_id}#{pending.seq}"
    submitted = _submit(core, pending, seed, waiter=token if sync else None)
    if isinstance(submitted, tuple):
        return _fail(core, token, base, *submitted)
    if not sync:
        return [{**base, "r": submitted}]
    if submitted.get("Failures"):
        return _fail(core, token, base, *_unknown(submitted))
    return [{**started, "sub": submitted}]


def act_callback(core: Dispatch, pending: Pending, base: Input, started: Input) -> list[Input]:
    """``ecs:runTask.waitForTaskToken``: start the task; SendTaskSuccess/Failure answers."""
    token = pending.token
    assert token is not None
    submitted = _submit(core, pending, token, waiter=None)
    if isinstance(submitted, tuple):
        return _fail(core, token, base, *submitted)
    if submitted.get("Failures"):
        return _fail(core, token, base, *_unknown(submitted))
    return [{**started, "sub": submitted}]


def _submit(
    core: Dispatch, pending: Pending, seed: str, *, waiter: str | None
) -> dict[str, Any] | tuple[str, str]:
    """RunTask; its response as Step Functions writes it, or ``(error, cause)``."""
    ecs = core.ecs
    resource = pending.command.request.resource
    if ecs is None:
        return "States.Runtime", f"The resource '{resource}' needs batchyard's ECS service."
    parameters = pending.command.request.parameters
    try:
        request = to_request(parameters if isinstance(parameters, dict) else {})
    except ParameterError as exc:
        return "States.Runtime", str(exc)
    request.setdefault("clientToken", client_token(seed))
    try:
        response = ecs.run_task(request, waiter=waiter)
    except Exception as exc:  # the service's EcsError (code, message) or anything it raised
        if not getattr(exc, "code", None):
            log.exception("RunTask for %s failed unexpectedly", pending.command.request.state_name)
        return api_failure(exc)
    return response_output(response, core.now())


def _unknown(output: dict[str, Any]) -> tuple[str, str]:
    return "AmazonECS.Unknown", to_json({"Failures": output.get("Failures", [])})


def _fail(core: Dispatch, token: str | None, base: Input, error: str, cause: str) -> list[Input]:
    """The task fails now; a token task only if the failure wins its token (not a time-out)."""
    if token is not None and not core.store.task_tokens.complete(token, "FAILED", now=core.now()):
        return []
    return [{**base, "e": error, "c": cause}]


def task_stopped(core: Dispatch, task: dict[str, Any], waiter: str) -> None:
    """The ECS service's notice that a ``.sync`` task stopped: answer its token. Idempotent:
    a notice for a token already answered (time-out, StopExecution, redelivery) is dropped."""
    # The task definition is read only when a container failed: it may be a non-essential one.
    optional = frozenset() if succeeded(task) else optional_containers(core.ecs, task)
    message, status = stopped_message(task, optional)
    try:
        core.complete_token(waiter, message, status)
    except (InvalidToken, TaskTimedOut):
        return


def running_sync(run: Run) -> dict[tuple[int, int], tuple[str, str]]:
    """The ``.sync`` ECS tasks ``run`` waits for and that were submitted, by dispatch
    ``(thread, seq)``: ``(cluster, task ARN)`` from their TaskSubmitted input."""
    waiting = {
        (p.command.thread_id, p.seq)
        for p in run.tasks.values()
        if getattr(p.command.integration, "mode", "") == "ecs"
        and p.command.integration.sync
        and p.started
    }
    found: dict[tuple[int, int], tuple[str, str]] = {}
    if not waiting:
        return found
    for item in run.inputs:
        key = (item.get("th"), item.get("d"))
        if item.get("k") != "started" or key not in waiting:
            continue
        for task in (item.get("sub") or {}).get("Tasks") or []:
            if isinstance(task, dict) and task.get("TaskArn"):
                found[key] = (str(task.get("ClusterArn", "")), str(task["TaskArn"]))
    return found


def managed_tasks(run: Run) -> list[tuple[str, str]]:
    """``(cluster, task ARN)`` of the running ``.sync`` ECS tasks of ``run``, which
    StopExecution stops, as AWS does."""
    return list(running_sync(run).values())


def abandoned(
    before: dict[tuple[int, int], tuple[str, str]], run: Run, applied: list[Input]
) -> list[tuple[str, str]]:
    """The tasks of ``before`` (``running_sync`` before a step) that the step gave up on without
    ECS's answer — their state timed out, or their Parallel branch or Map iteration (or the
    whole execution) ended — which are stopped, as AWS stops a ``.sync`` job it no longer
    manages. A task answered by its own stop notice is not among them."""
    answered = {
        (item["th"], item["d"]) for item in applied if item["k"] == "task" and not item.get("to")
    }
    still = {
        (p.command.thread_id, p.seq)
        for p in run.tasks.values()
        if run.interp.status == "RUNNING"
        and run.interp.threads[p.command.thread_id].status != "ABORTED"
    }
    return [task for key, task in before.items() if key not in answered and key not in still]


def stop_tasks(
    core: Dispatch, tasks: list[tuple[str, str]], execution_arn: str, *, stopped: bool = True
) -> None:
    """StopTask on each (best effort, as AWS: the execution goes on whatever happens)."""
    ecs = core.ecs
    if ecs is None:
        return
    reason = _stop_reason(execution_arn) if stopped else _abandoned_reason(execution_arn)
    for cluster, task_arn in tasks:
        try:
            ecs.stop_task(task_arn, reason=reason, cluster=cluster or None)
        except Exception:  # already stopped or gone: nothing left to stop
            continue


def _abandoned_reason(execution_arn: str) -> str:
    return f"Step Functions execution {execution_arn} no longer waits for this task"[:255]


def _stop_reason(execution_arn: str) -> str:
    return f"Step Functions execution {execution_arn} was stopped"[:255]


def attach(core: Dispatch, ecs: EcsTasks) -> None:
    """Give the engine its ECS service and subscribe to the stops of ``.sync`` tasks."""
    core.ecs = ecs
    ecs.on_task_stopped(functools.partial(task_stopped, core))
