"""Where a slot goes: a state machine, an ECS task or a Lambda function, behind one protocol.

The scheduler knows only :class:`Targets` — ``deliver(delivery) -> reference``. The kind of
target is read from the ``Arn`` as AWS's templated targets are:
``arn:aws:states:…:stateMachine:…`` (StartExecution), ``arn:aws:ecs:…:cluster/…`` (RunTask
with ``EcsParameters``), ``arn:aws:lambda:…:function:…`` (Invoke, asynchronous). Each backend
is optional, so the scheduler runs with whichever services the server has.

Every delivery is idempotent per slot, so a replica that re-delivers a slot after another died
mid-delivery starts nothing twice: the execution name is derived from the schedule and the
slot (:func:`execution_name`), the ECS ``clientToken`` is the slot key. A Lambda ``Event``
invoke has no idempotency key on AWS either; functions receive the slot key in the
``<aws.scheduler.execution-id>``-style context the Input carries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one slot."""

    schedule_id: str
    schedule_arn: str
    schedule_name: str
    slot: datetime
    attempt: int
    execution_id: str
    target: dict[str, Any]  # AWS's Target structure, as stored
    input: str | None  # Target.Input with the context attributes substituted

    @property
    def slot_key(self) -> str:
        """``<schedule id>-<epoch ms>``: unique per slot, ≤ 64 chars (ECS clientToken)."""
        return f"{self.schedule_id}-{int(self.slot.timestamp() * 1000)}"


class TargetError(Exception):
    """A delivery failed; ``retryable`` says whether the retry policy applies."""

    def __init__(self, code: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class StepFunctionsLike(Protocol):
    """What the scheduler needs of ``batchyard.engine.Engine``."""

    def start_execution(
        self, state_machine_arn: str, *, name: str | None = ..., input: str | None = ...
    ) -> Any: ...

    def stop_execution(
        self, execution_arn: str, *, error: str | None = ..., cause: str | None = ...
    ) -> Any: ...


class EcsLike(Protocol):
    def run_task(self, request: dict[str, Any], *, waiter: Any = None) -> dict[str, Any]: ...


class FunctionsLike(Protocol):
    def invoke(self, name_or_arn: str, payload: bytes, invocation_type: str) -> Any: ...


def target_kind(arn: str) -> str:
    """``states`` | ``ecs`` | ``lambda`` | ``unsupported``, from the target ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "unsupported"
    service, resource = parts[2], parts[5]
    if service == "states" and resource.startswith("stateMachine:"):
        return "states"
    if service == "ecs" and resource.startswith("cluster/"):
        return "ecs"
    if service == "lambda" and resource.startswith("function:"):
        return "lambda"
    return "unsupported"


def execution_name(schedule_id: str, schedule_name: str, slot: datetime) -> str:
    """``<name[:40]>-<hash8>-<YYYYMMDDTHHMMSS[mmm]Z>``: valid for AWS (no ``:``), ≤ 80 chars.

    The hash of the schedule's id keeps two schedules of the same name (other groups, or a
    deleted and re-created one) apart; the stamp is the slot, so one slot is one name.
    """
    digest = hashlib.sha256(schedule_id.encode()).hexdigest()[:8]
    stamp = slot.strftime("%Y%m%dT%H%M%S")
    if slot.microsecond:
        stamp += f"{slot.microsecond // 1000:03d}"
    return f"{schedule_name[:40]}-{digest}-{stamp}Z"


def execution_prefix(schedule_id: str, schedule_name: str) -> str:
    """What every execution name of one schedule starts with (overlap checks)."""
    digest = hashlib.sha256(schedule_id.encode()).hexdigest()[:8]
    return f"{schedule_name[:40]}-{digest}-"


class Targets:
    """Delivers slots to whichever backends exist; others fail with a clear error."""

    def __init__(
        self,
        *,
        stepfunctions: StepFunctionsLike | None = None,
        ecs: EcsLike | None = None,
        functions: FunctionsLike | None = None,
    ) -> None:
        self.stepfunctions = stepfunctions
        self.ecs = ecs
        self.functions = functions
        # Tests and benchmarks register extra deliverers by kind.
        self.extra: dict[str, Callable[[Delivery], str]] = {}

    def deliver(self, delivery: Delivery) -> str:
        """Start the target; the ARN (or id) of what was started."""
        kind = target_kind(str(delivery.target.get("Arn", "")))
        if kind in self.extra:
            return self.extra[kind](delivery)
        if kind == "states":
            return self._start_execution(delivery)
        if kind == "ecs":
            return self._run_task(delivery)
        if kind == "lambda":
            return self._invoke(delivery)
        raise TargetError(
            "UnsupportedTarget",
            f"batchyard cannot deliver to {delivery.target.get('Arn')!r}: only state machines, "
            "ECS clusters and Lambda functions are supported targets",
            retryable=False,
        )

    # ------------------------------------------------------------------ state machines

    def _start_execution(self, delivery: Delivery) -> str:
        if self.stepfunctions is None:
            raise TargetError("ServiceUnavailable", "Step Functions is not running on this server")
        from batchyard.engine.errors import EngineError, ExecutionAlreadyExists

        name = execution_name(delivery.schedule_id, delivery.schedule_name, delivery.slot)
        arn = str(delivery.target["Arn"])
        try:
            execution = self.stepfunctions.start_execution(
                arn, name=name, input=delivery.input if delivery.input is not None else "{}"
            )
        except ExecutionAlreadyExists:
            # This slot was started before (a replica died before recording it): that start
            # is the slot's one start.
            from batchyard.engine.names import base_state_machine_arn, execution_arn

            return execution_arn(base_state_machine_arn(arn), name)
        except EngineError as exc:
            code = str(getattr(exc, "code", type(exc).__name__))
            retryable = code not in _PERMANENT_ENGINE_ERRORS
            raise TargetError(code, str(getattr(exc, "message", exc)), retryable=retryable) from exc
        return str(execution.arn)

    # ------------------------------------------------------------------ ECS

    def _run_task(self, delivery: Delivery) -> str:
        if self.ecs is None:
            raise TargetError("ServiceUnavailable", "ECS is not running on this server")
        request = ecs_request(delivery)
        try:
            answer = self.ecs.run_task(request)
        except Exception as exc:
            code = str(getattr(exc, "code", type(exc).__name__))
            raise TargetError(code, str(getattr(exc, "message", exc))) from exc
        tasks = answer.get("tasks") or []
        if not tasks:
            failures = answer.get("failures") or [{}]
            reason = failures[0].get("reason", "RunTask started no task")
            raise TargetError("ECS.RunTaskFailure", str(reason))
        return ",".join(str(task.get("taskArn")) for task in tasks)

    # ------------------------------------------------------------------ Lambda

    def _invoke(self, delivery: Delivery) -> str:
        if self.functions is None:
            raise TargetError("ServiceUnavailable", "Lambda functions are not running here")
        payload = (delivery.input if delivery.input is not None else "{}").encode()
        try:
            answer = self.functions.invoke(str(delivery.target["Arn"]), payload, "Event")
        except Exception as exc:
            code = str(getattr(exc, "code", type(exc).__name__))
            retryable = code not in ("ResourceNotFoundException", "InvalidRequestContentException")
            raise TargetError(code, str(getattr(exc, "message", exc)), retryable=retryable) from exc
        reference = getattr(answer, "request_id", None)
        if isinstance(answer, dict):
            reference = answer.get("RequestId")
        return str(reference or delivery.execution_id)


_PERMANENT_ENGINE_ERRORS = frozenset(
    {
        "StateMachineDoesNotExist",
        "InvalidArn",
        "InvalidExecutionInput",
        "InvalidName",
        "StateMachineDeleting",
        "ValidationException",
    }
)

_ECS_FIELDS = {
    "TaskDefinitionArn": "taskDefinition",
    "TaskCount": "count",
    "LaunchType": "launchType",
    "PlatformVersion": "platformVersion",
    "Group": "group",
    "EnableECSManagedTags": "enableECSManagedTags",
    "EnableExecuteCommand": "enableExecuteCommand",
    "PropagateTags": "propagateTags",
    "ReferenceId": "referenceId",
}


def ecs_request(delivery: Delivery) -> dict[str, Any]:
    """RunTask's request (camelCase, as ECS's API takes it) from ``EcsParameters``."""
    params = dict(delivery.target.get("EcsParameters") or {})
    request: dict[str, Any] = {
        "cluster": delivery.target["Arn"],
        "clientToken": delivery.slot_key,
        "startedBy": "batchyard-scheduler",
    }
    for key, wire in _ECS_FIELDS.items():
        if key in params:
            request[wire] = params[key]
    network = params.get("NetworkConfiguration", {}).get("awsvpcConfiguration")
    if network:
        request["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": network.get("Subnets", []),
                **(
                    {"securityGroups": network["SecurityGroups"]}
                    if "SecurityGroups" in network
                    else {}
                ),
                **(
                    {"assignPublicIp": network["AssignPublicIp"]}
                    if "AssignPublicIp" in network
                    else {}
                ),
            }
        }
    for key, wire in (
        ("CapacityProviderStrategy", "capacityProviderStrategy"),
        ("PlacementConstraints", "placementConstraints"),
        ("PlacementStrategy", "placementStrategy"),
        ("Tags", "tags"),
    ):
        if key in params:
            request[wire] = params[key]
    if delivery.input:
        # As for EventBridge's ECS targets: a JSON Input is the task's overrides.
        try:
            overrides = json.loads(delivery.input)
        except ValueError:
            overrides = None
        if isinstance(overrides, dict):
            request["overrides"] = overrides
    return request
