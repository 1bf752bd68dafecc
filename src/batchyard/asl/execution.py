"""The public entry points: :func:`compile` a definition, :func:`execute` it in memory.

``execute`` is the in-memory *driver* of the pure :class:`~batchyard.asl.interpreter.Interpreter`:
it carries out the interpreter's commands — runs Lambda handlers through the integration
registry, lets timers pass on the clock — and feeds the outcomes back, until the execution
ends. The durable engine is another driver of the same interpreter.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final

import batchyard.asl.lambda_invoke  # noqa: F401 - registers the Lambda integrations
from batchyard.asl.clock import Clock, VirtualClock
from batchyard.asl.context import ACCOUNT, REGION, ROLE_ARN, ExecutionInfo
from batchyard.asl.errors import InvalidDefinition
from batchyard.asl.integrations import InvokeEnv
from batchyard.asl.interpreter import Command, Interpreter, RunTask, StartTimer, TaskOutcome
from batchyard.asl.model import JSONATA, Compiler, Program
from batchyard.asl.result import ExecutionResult
from batchyard.asl.states import STATE_KINDS
from batchyard.asl.validate import invalid_definition_message, validate

Handler = Callable[[Any, Any], Any]


class _NoInput(Enum):
    """The default of ``execute``'s ``input``: no input given, so the execution gets ``{}``.

    ``StartExecution`` without input starts with ``{}``, while an explicit ``None`` is the JSON
    value ``null`` — a valid input that AWS recordings run with. A sentinel keeps both.
    """

    TOKEN = "no input"


NO_INPUT: Final = _NoInput.TOKEN


class StateMachine:
    """A validated, compiled definition, ready to run any number of times."""

    def __init__(self, definition: dict[str, Any], name: str = "StateMachine") -> None:
        self.definition = definition
        self.name = name
        top_jsonata = definition.get("QueryLanguage") == JSONATA
        self.program: Program = Compiler(STATE_KINDS, top_jsonata).program(definition)
        timeout = definition.get("TimeoutSeconds")
        self.timeout_seconds: float | None = float(timeout) if timeout is not None else None

    def interpreter(
        self,
        input: Any,
        *,
        name: str,
        start_time: datetime,
        role_arn: str = ROLE_ARN,
        region: str = REGION,
        account: str = ACCOUNT,
        input_text: str | None = None,
    ) -> Interpreter:
        """A fresh execution of this machine, not started yet (drive it with ``start``).

        ``input_text`` is the input as the caller wrote it (StartExecution's text, which AWS
        echoes in ``ExecutionStarted``); without it the event shows ``input`` as compact JSON.
        """
        info = ExecutionInfo(
            state_machine_name=self.name,
            name=name,
            input=input,
            start_time=start_time,
            role_arn=role_arn,
            region=region,
            account=account,
        )
        return Interpreter(self.program, info, self.timeout_seconds, input_text=input_text)

    def execute(
        self,
        input: Any = NO_INPUT,
        *,
        functions: Mapping[str, Handler] | None = None,
        name: str | None = None,
        clock: Clock | None = None,
        input_text: str | None = None,
    ) -> ExecutionResult:
        """Run one whole execution in memory (``input_text``: see :meth:`interpreter`)."""
        clock = clock or VirtualClock()
        if input is NO_INPUT:
            input = {}
        interp = self.interpreter(
            input, name=name or str(uuid.uuid4()), start_time=clock.now(), input_text=input_text
        )
        _drive(interp, clock, functions or {})
        return ExecutionResult(
            status=interp.status,  # type: ignore[arg-type]
            output=interp.output,
            error=interp.error,
            cause=interp.cause,
            events=interp.events,
            execution_arn=interp.info.execution_arn,
        )


def compile(definition: Any) -> StateMachine:
    """Validate and compile ``definition`` (a dict or its JSON text); raise InvalidDefinition."""
    if isinstance(definition, str | bytes):
        # Unparseable text goes on to validate(), which reports it with AWS's message.
        with contextlib.suppress(ValueError):
            definition = json.loads(definition)
    diagnostics = validate(definition)
    errors = [d for d in diagnostics if d.severity == "ERROR"]
    if errors:
        raise InvalidDefinition(invalid_definition_message(errors), errors)
    return StateMachine(definition)


def execute(
    definition: Any,
    input: Any = NO_INPUT,
    *,
    functions: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    name: str | None = None,
    clock: Clock | None = None,
) -> ExecutionResult:
    """Run one whole Standard execution of ``definition`` in memory.

    Without ``input`` the execution starts with ``{}``, as ``StartExecution`` does; ``None`` is
    the JSON value ``null``.
    """
    machine = definition if isinstance(definition, StateMachine) else compile(definition)
    return machine.execute(input, functions=functions, name=name, clock=clock)


def _drive(interp: Interpreter, clock: Clock, functions: Mapping[str, Handler]) -> None:
    """Carry out commands until the execution ends: tasks now, timers in due order."""
    deadline = interp.deadline
    timers: list[tuple[datetime, int, int]] = []
    tasks: list[RunTask] = []
    sequence = 0

    def take(commands: list[Command]) -> None:
        nonlocal sequence
        for command in commands:
            if isinstance(command, StartTimer):
                heapq.heappush(timers, (command.due, sequence, command.thread_id))
                sequence += 1
            else:
                tasks.append(command)

    take(interp.start(clock.now()))
    while interp.status == "RUNNING":
        if tasks:
            command = tasks.pop(0)
            env = InvokeEnv(functions=functions, now=clock.now())
            outcome: TaskOutcome = command.integration.invoke(command.request, env)
            take(interp.task_completed(command.thread_id, outcome, clock.now()))
            if deadline is not None and clock.now() > deadline and interp.status == "RUNNING":
                interp.time_out(clock.now())
            continue
        if not timers:
            break  # nothing left to wait for: the interpreter has finished
        due, _, thread_id = heapq.heappop(timers)
        if deadline is not None and due > deadline:
            _wait_until(clock, deadline)
            interp.time_out(clock.now())
            break
        _wait_until(clock, due)
        take(interp.timer_fired(thread_id, clock.now()))
    if interp.status == "RUNNING" and deadline is not None and clock.now() > deadline:
        interp.time_out(clock.now())


def _wait_until(clock: Clock, moment: datetime) -> None:
    if isinstance(clock, VirtualClock):
        clock.advance_to(moment)
    else:
        clock.sleep((moment - clock.now()).total_seconds())
