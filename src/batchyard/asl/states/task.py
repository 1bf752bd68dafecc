"""Task: evaluate the parameters, hand the work to an integration, fold its result back in.

The state never calls anything itself: ``run`` records ``…Scheduled`` and emits a ``RunTask``
command; the driver answers through ``Interpreter.task_completed``, which lands in
``on_task``. A driver that knows when the task really started (a worker took an activity, a
callback's request or a ``.sync`` job was submitted) reports it first through
``Interpreter.task_started`` (``on_task_started``): ``TaskStarted`` and ``TaskSubmitted`` are then
recorded at that moment, as AWS does; otherwise ``TaskStarted`` comes with the outcome. Events follow the integration's family: ``Task…`` for service integrations,
``LambdaFunction…`` for the legacy Lambda ARN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from batchyard.asl.errors import StatesError
from batchyard.asl.events import NOT_TRUNCATED, data_limit_error, over_limit, to_json
from batchyard.asl.flow import bindings, jsonata, payload, select, state_error, state_output
from batchyard.asl.integrations import resolve, unsupported_cause
from batchyard.asl.interpreter import RunTask, TaskOutcome, TaskRequest
from batchyard.asl.model import ABSENT, CompiledState, Compiler
from batchyard.asl.states.base import StateKind

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


@dataclass(slots=True)
class PendingTask:
    integration: Any
    request: TaskRequest
    resource_type: str
    resource: str
    ctx: Any
    started: bool = False  # TaskStarted recorded already (``Interpreter.task_started``)


def _seconds_field(
    interp: Interpreter, thread: Thread, name: str, data: Any, names: Any, ctx: Any
) -> float | None:
    state = thread.state
    assert state is not None
    raw = state.raw
    if name in raw:
        value = raw[name]
        if state.jsonata and isinstance(value, str):
            value = jsonata(value, names, name)
    elif not state.jsonata and name + "Path" in raw:
        path = raw[name + "Path"]
        value = select(interp, thread, path, data, name + "Path", ctx)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise state_error(
                thread,
                "States.Runtime",
                f"The {name}Path parameter does not reference a valid positive integer: "
                f"{path} == {to_json(value)}",
            )
    else:
        return None
    return float(value) if isinstance(value, int | float) else None


class TaskKind(StateKind):
    type_name = "Task"
    entered_type = "TaskStateEntered"
    exited_type = "TaskStateExited"
    aborted_type = "TaskStateAborted"

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        resource = state.raw.get("Resource", "")
        names: Any = None
        ctx: Any = None
        # A callback task gets its token in $$.Task.Token; the integration carries it to the
        # worker that will answer (SendTaskSuccess/Failure), which the durable engine provides.
        token = interp.new_token() if resource.endswith(".waitForTaskToken") else None
        if state.jsonata:
            ctx = interp.context(thread, task_token=token)
            names = bindings(interp, thread, ctx=ctx)
            data = thread.input
            # Without Arguments a JSONata task sends no arguments (not its input, unlike
            # JSONPath without Parameters).
            parameters = (
                jsonata(state.parameters, names, "Arguments")
                if state.parameters is not ABSENT
                else {}
            )
        else:
            ctx = (
                interp.context(thread, task_token=token)
                if state.needs_context or token is not None
                else None
            )
            data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
            parameters = data
            if state.parameters is not ABSENT:
                parameters = payload(interp, thread, state.parameters, data, "Parameters", ctx)
        timeout = _seconds_field(interp, thread, "TimeoutSeconds", data, names, ctx)
        heartbeat = _seconds_field(interp, thread, "HeartbeatSeconds", data, names, ctx)
        integration = resolve(resource)
        if integration is None:
            raise state_error(thread, "States.Runtime", unsupported_cause(resource))
        # An integration may complete the parameters as AWS records them (ecs:runTask.sync
        # adds StartedBy), before TaskScheduled shows them.
        prepare = getattr(integration, "prepare", None)
        if prepare is not None:
            parameters = prepare(parameters)
        request = TaskRequest(resource, parameters, state.name, timeout, heartbeat, token)
        resource_type, resource_name = integration.describe(resource)
        parameters_text = to_json(parameters)
        if over_limit(parameters_text):
            raise data_limit_error(state.name)
        if integration.family == "LambdaFunction":
            details: dict[str, Any] = {
                "resource": resource,
                "input": parameters_text,
                "inputDetails": NOT_TRUNCATED,
            }
            if timeout is not None:
                details["timeoutInSeconds"] = int(timeout)
            interp.emit(
                "LambdaFunctionScheduled", thread, "lambdaFunctionScheduledEventDetails", details
            )
        else:
            details = {
                "resourceType": resource_type,
                "resource": resource_name,
                "region": interp.info.region,
                "parameters": parameters_text,
            }
            if timeout is not None:
                details["timeoutInSeconds"] = int(timeout)
            if heartbeat is not None:
                details["heartbeatInSeconds"] = int(heartbeat)
            interp.emit("TaskScheduled", thread, "taskScheduledEventDetails", details)
        thread.work = PendingTask(integration, request, resource_type, resource_name, ctx)
        thread.status = "WAITING"
        interp.commands.append(RunTask(thread.id, request, integration))

    def on_task_started(self, interp: Interpreter, thread: Thread, submitted: Any) -> None:
        pending: PendingTask = thread.work
        ids = _started(interp, thread, pending)
        if submitted is not ABSENT and pending.integration.family != "LambdaFunction":
            details = {**ids, "output": to_json(submitted), "outputDetails": NOT_TRUNCATED}
            interp.emit("TaskSubmitted", thread, "taskSubmittedEventDetails", details)

    def on_task(self, interp: Interpreter, thread: Thread, outcome: TaskOutcome) -> None:
        state = thread.state
        assert state is not None
        pending: PendingTask = thread.work
        lambda_family = pending.integration.family == "LambdaFunction"
        ids = _started(interp, thread, pending)
        result = outcome.result
        if not outcome.failed:
            text = to_json(result)
            if over_limit(text):
                # AWS reports it as the task's failure, named after the resource type, and a
                # Catch (even States.ALL) can handle it.
                subject = pending.resource if lambda_family else pending.resource_type
                cause = data_limit_error(subject).cause
                outcome = TaskOutcome(error="States.DataLimitExceeded", cause=cause)
        if outcome.failed:
            error = outcome.error or ""
            failure = {**ids, **interp.log.error_details(error, outcome.cause)}
            if outcome.timed_out:
                kind = "LambdaFunctionTimedOut" if lambda_family else "TaskTimedOut"
            else:
                kind = "LambdaFunctionFailed" if lambda_family else "TaskFailed"
            key = kind[0].lower() + kind[1:] + "EventDetails"
            interp.emit(kind, thread, key, failure)
            thread.work = None
            interp.state_failed(thread, error, outcome.cause)
            return
        success = {**ids, "output": text, "outputDetails": NOT_TRUNCATED}
        if lambda_family:
            interp.emit(
                "LambdaFunctionSucceeded", thread, "lambdaFunctionSucceededEventDetails", success
            )
        else:
            interp.emit("TaskSucceeded", thread, "taskSucceededEventDetails", success)
        thread.work = None
        output, assigned = state_output(interp, thread, result, pending.ctx)
        interp.exit(thread, output, state.next, assigned)


def _started(interp: Interpreter, thread: Thread, pending: PendingTask) -> dict[str, Any]:
    """Record the task's Started event unless a driver reported it already; its ids."""
    lambda_family = pending.integration.family == "LambdaFunction"
    ids: dict[str, Any] = (
        {}
        if lambda_family
        else {"resourceType": pending.resource_type, "resource": pending.resource}
    )
    if not pending.started:
        pending.started = True
        if lambda_family:
            interp.emit("LambdaFunctionStarted", thread)
        else:
            interp.emit("TaskStarted", thread, "taskStartedEventDetails", ids)
    return ids


def _unused(_: StatesError, __: CompiledState, ___: Compiler) -> None:  # pragma: no cover
    pass
