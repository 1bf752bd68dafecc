"""Acting on RunTask commands: what is recorded before a task starts, and how it starts.

Recorded in the step's transaction (:meth:`Dispatch._record_dispatch`): a callback or activity
task's token row, its activity queue entry, its TimeoutSeconds/HeartbeatSeconds timers (an
activity's heartbeat timer is parked until a worker takes it: ``Answers.activity_started``).
Acting returns the inputs that follow: a ``started`` input (TaskStarted, and TaskSubmitted with
the request's response) for callbacks and ``.sync`` jobs, or the outcome of a synchronous task. Done
after the commit (:meth:`Dispatch._act`): invoke an in-process function, start a child
execution (its name is derived from the dispatch, so doing it again finds the same child),
notify activity pollers. After a takeover every outstanding task goes through ``_act`` again:
tokens and children are re-attached, in-process functions are invoked again.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from batchyard.asl.events import to_json
from batchyard.asl.integrations import InvokeEnv
from batchyard.asl.interpreter import TaskOutcome
from batchyard.asl.lambda_invoke import LambdaInvoke, LegacyLambda
from batchyard.engine import ecs_tasks
from batchyard.engine.ecs_tasks import EcsTasks
from batchyard.engine.errors import EngineError
from batchyard.engine.invocations import BackgroundInvocations
from batchyard.engine.journal import Input, to_ms
from batchyard.engine.run import Pending, Run
from batchyard.store import ActivityTask as QueuedActivityTask
from batchyard.store import Execution, Store, TaskToken, Transaction

Handler = Callable[[Any, Any], Any]
LambdaIntegrations = (LambdaInvoke, LegacyLambda)  # run by ``invocations``, in the background
UNSTARTED = timedelta(days=3650)  # where an activity's heartbeat timer waits for its worker


class Dispatch:
    """The task side of :class:`~batchyard.engine.core.Core` (a mixin over its state)."""

    store: Store
    functions: dict[str, Handler]
    region: str
    account: str
    clock: Callable[[], datetime]
    activity_ready: threading.Condition
    invocations: BackgroundInvocations
    ecs: EcsTasks | None = None  # the ECS service, for ecs:runTask (``ecs_tasks.attach``)
    complete_token: Callable[[str, Input, str], None]  # Answers.complete_token

    def now(self) -> datetime:
        raise NotImplementedError

    def create_execution(
        self, state_machine_arn: str, name: str, input_text: str, *, parent: str | None = None
    ) -> Execution:
        raise NotImplementedError

    def _record_dispatch(self, tx: Transaction, run: Run, pending: Pending, now: datetime) -> None:
        """What must exist before a task is acted on: its token, its queue entry, its timers."""
        command = pending.command
        request = command.request
        integration = command.integration
        token = pending.token
        if token is None:
            if request.timeout_seconds is not None and bool(getattr(integration, "sync", None)):
                # A .sync child gets TimeoutSeconds too; it has no token to answer.
                due = now + timedelta(seconds=request.timeout_seconds)
                key = f"c:{command.thread_id}:{pending.seq}"
                tx.timers.set(run.arn, key, due, {"th": command.thread_id, "d": pending.seq})
            return
        heartbeat = request.heartbeat_seconds
        tx.task_tokens.create(
            TaskToken(
                token=token,
                execution_arn=run.arn,
                state_name=request.state_name,
                scheduled_event_id=run.interp.threads[command.thread_id].cursor,
                status="WAITING",
                created=now,
                updated=now,
                heartbeat_seconds=int(heartbeat) if heartbeat is not None else None,
                heartbeat_deadline=now + timedelta(seconds=heartbeat) if heartbeat else None,
            )
        )
        payload = {"th": command.thread_id, "d": pending.seq}
        if request.timeout_seconds is not None:
            due = now + timedelta(seconds=request.timeout_seconds)
            tx.timers.set(run.arn, "t:" + token, due, payload)
        activity = getattr(integration, "mode", "") == "activity"
        if heartbeat is not None:
            # An activity's heartbeat counts from ActivityStarted: until a worker takes it the
            # timer is parked (TimeoutSeconds governs), and GetActivityTask moves it.
            due = now + (UNSTARTED if activity else timedelta(seconds=heartbeat))
            tx.timers.set(run.arn, "h:" + token, due, payload)
        if activity:
            tx.activities.enqueue(
                QueuedActivityTask(
                    task_token=token,
                    activity_arn=request.resource,
                    input=to_json(request.parameters),
                    status="QUEUED",
                    queued_at=now,
                )
            )

    def _child_outcome(self, pending: Pending, child: Execution) -> Input:
        sync = getattr(pending.command.integration, "sync", "")
        envelope = describe_envelope(child, parsed=sync == ".sync:2")
        item: Input = {"k": "task", "th": pending.command.thread_id, "d": pending.seq}
        if child.status == "SUCCEEDED":
            item["r"] = envelope
        else:
            if child.error is not None:
                envelope["Error"] = child.error
            if child.cause is not None:
                envelope["Cause"] = child.cause
            item["e"] = "States.TaskFailed"
            item["c"] = to_json(dict(sorted(envelope.items())))
        return item

    # --- acting on commands, after the commit ----------------------------------------------

    def _reattach(self, run: Run, tasks: Iterable[Pending]) -> list[Input]:
        outcomes: list[Input] = []
        for pending in tasks:
            outcomes.extend(self._act(run, pending))
        return outcomes

    def _act(self, run: Run, pending: Pending) -> list[Input]:
        """Start the task; the inputs that follow at once (its start, or its outcome)."""
        command = pending.command
        integration = command.integration
        mode = getattr(integration, "mode", "")
        base: Input = {"k": "task", "th": command.thread_id, "d": pending.seq}
        started: Input = {"k": "started", "th": command.thread_id, "d": pending.seq}
        if mode == "activity":
            # ActivityStarted waits for a worker's GetActivityTask (Engine.get_activity_task).
            with self.activity_ready:
                self.activity_ready.notify_all()
            return []
        if mode == "callback":
            return self._act_callback(run, pending, base, started)
        if mode == "ecs":
            return ecs_tasks.act(self, run, pending, base, started)
        if mode == "child":
            try:
                child = self._start_child(run, pending)
            except EngineError as exc:
                return [{**base, **_service_failure(exc)}]
            response = {"ExecutionArn": child.arn, "StartDate": to_ms(child.start_date)}
            if not integration.sync:
                return [{**base, "r": response}]
            # .sync: TaskStarted and TaskSubmitted (the StartExecution response) now, the
            # child's outcome when it ends.
            items = [] if pending.started else [{**started, "sub": response}]
            if child.status != "RUNNING":
                items.append(self._child_outcome(pending, child))
            return items
        if isinstance(integration, LambdaIntegrations):
            # Off the engine's workers (``invocations.py``): the outcome comes back through
            # the inbox, and the execution's lease stays ours meanwhile.
            env = self._env()
            th, seq = command.thread_id, pending.seq

            def invoke() -> Input:
                outcome = integration.invoke(command.request, env)
                return {"k": "fn", "th": th, "d": seq, **_outcome(outcome)}

            self.invocations.submit((run.arn, th, seq), invoke)
            return []
        return [{**base, **_outcome(integration.invoke(command.request, self._env()))}]

    def _act_callback(self, run: Run, pending: Pending, base: Input, started: Input) -> list[Input]:
        """``.waitForTaskToken``: send the request part, then wait for the token's answer.
        Sent once: after a takeover a task already started is only re-attached."""
        if pending.started:
            return []
        command = pending.command
        request = getattr(command.integration, "request", "")
        token = pending.token
        if request == "lambda":
            outcome = _lambda_invoke(command.request, self._env())
            if not outcome.failed:
                return [{**started, "sub": outcome.result}]
            if token is not None and self.store.task_tokens.complete(
                token, "FAILED", now=self.now()
            ):
                return [{**base, "e": outcome.error, "c": outcome.cause}]
            return []
        if request == "child":
            try:
                child = self._start_child(run, pending)
            except EngineError as exc:
                if token is not None and self.store.task_tokens.complete(
                    token, "FAILED", now=self.now()
                ):
                    return [{**base, **_service_failure(exc)}]
                return []
            response = {"ExecutionArn": child.arn, "StartDate": to_ms(child.start_date)}
            return [{**started, "sub": response}]
        if request == "ecs":
            return ecs_tasks.act_callback(self, pending, base, started)
        return [started]  # nothing to send: the token reaches its worker some other way

    def _env(self) -> InvokeEnv:
        return InvokeEnv(
            functions=self.functions, now=self.clock(), region=self.region, account=self.account
        )

    def _start_child(self, run: Run, pending: Pending) -> Execution:
        parameters = pending.command.request.parameters
        parameters = parameters if isinstance(parameters, dict) else {}
        child_input = parameters.get("Input", {})
        text = child_input if isinstance(child_input, str) else to_json(child_input)
        assert pending.child_name is not None
        return self.create_execution(
            str(parameters.get("StateMachineArn", "")),
            pending.child_name,
            text,
            parent=run.arn,
        )


def describe_envelope(child: Execution, *, parsed: bool) -> dict[str, Any]:
    """DescribeExecution in PascalCase, as ``.sync`` (texts) or ``.sync:2`` (JSON) returns it."""

    def payload(text: str | None) -> Any:
        return _parse(text) if parsed and text is not None else text

    envelope: dict[str, Any] = {
        "ExecutionArn": child.arn,
        "Input": payload(child.input),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.output is not None:
        envelope["Output"] = payload(child.output)
        envelope["OutputDetails"] = {"Included": True}
    envelope["RedriveCount"] = child.redrive_count
    envelope["RedriveStatus"] = "NOT_REDRIVABLE" if child.status == "SUCCEEDED" else "REDRIVABLE"
    if child.status == "SUCCEEDED":
        envelope["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    envelope["StartDate"] = to_ms(child.start_date)
    if child.state_machine_alias_arn is not None:
        envelope["StateMachineAliasArn"] = child.state_machine_alias_arn
    envelope["StateMachineArn"] = child.state_machine_arn
    if child.state_machine_version_arn is not None:
        envelope["StateMachineVersionArn"] = child.state_machine_version_arn
    envelope["Status"] = child.status
    if child.stop_date is not None:
        envelope["StopDate"] = to_ms(child.stop_date)
    return envelope


def _outcome(outcome: TaskOutcome) -> Input:
    """A synchronous task's outcome as the members of an interpreter input."""
    if not outcome.failed:
        return {"r": outcome.result}
    item: Input = {"e": outcome.error, "c": outcome.cause}
    if outcome.timed_out:
        item["to"] = 1
    return item


def _lambda_invoke(request: Any, env: InvokeEnv) -> Any:
    from batchyard.asl.lambda_invoke import LambdaInvoke

    return LambdaInvoke().invoke(request, env)


def _service_failure(exc: EngineError) -> Input:
    """A StartExecution refused by the service, as the task's failure (AWS SDK wording)."""
    cause = (
        f"{exc.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {exc.code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    return {"e": f"StepFunctions.{exc.code}Exception", "c": cause}


def _parse(text: str) -> Any:
    return json.loads(text)
