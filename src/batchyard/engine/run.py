"""One execution in memory: the pure interpreter plus what is outstanding, fed by inputs.

:class:`Run` is the engine's side of Temporal's "workflow state machine": it applies one
persisted input at a time (``apply``), remembers which tasks and timers are outstanding (and the
input that produced each, its *dispatch* number), and knows which history events are not
persisted yet. Rebuilding after a crash is :func:`replay`: a fresh interpreter fed the persisted
inputs, whose regenerated history must equal the persisted one (the determinism guard).

Stale answers are filtered here, not in the interpreter: a task outcome counts only if its
dispatch number is the thread's current one, so a SendTaskSuccess for a task that already timed
out and was retried cannot complete the retry.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchyard.asl import StateMachine
from batchyard.asl.distributed_map_run import MapRunRecord
from batchyard.asl.interpreter import (
    Command,
    Interpreter,
    MapRunChild,
    RunTask,
    StartTimer,
    TaskOutcome,
)
from batchyard.asl.model import ABSENT
from batchyard.engine.errors import NondeterminismError
from batchyard.engine.journal import Input, from_ms
from batchyard.engine.translate import translate
from batchyard.store import Execution, HistoryEvent

_EVENT_FIELDS = ("id", "previousEventId", "timestamp", "type")


@dataclass(slots=True)
class Pending:
    """A task the execution waits for: dispatched by input ``seq``."""

    seq: int
    command: RunTask
    token: str | None = None
    child_name: str | None = None
    started: bool = False  # its "started" input was applied (TaskStarted/ActivityStarted)


class Run:
    """An execution's interpreter and its outstanding work."""

    def __init__(
        self,
        machine: StateMachine,
        execution: Execution,
        role_arn: str,
        region: str,
        account: str,
        input_value: Any,
    ) -> None:
        self.execution = execution
        self.arn = execution.arn
        self._args = (machine, execution, role_arn, region, account, input_value)
        self.inputs: list[Input] = []  # every input applied, in order (redrive rewinds them)
        self.interp: Interpreter = machine.interpreter(
            input_value,
            name=execution.name,
            start_time=execution.start_date,
            role_arn=role_arn,
            region=region,
            account=account,
            input_text=execution.input,
        )
        self.seq = 0  # inputs applied so far
        self.persisted = 0  # history events already in the store
        # Map Runs as last written, and how many finished Map Run children are written.
        self.map_runs_saved: dict[str, Any] = {}
        self.children_saved = 0
        self.child_events: dict[str, int] = {}  # child execution ARN -> its events written
        self.child_logs: dict[str, list[dict[str, Any]]] = {}  # running children's live histories
        self.tasks: dict[int, Pending] = {}
        self.timers: dict[int, tuple[int, datetime]] = {}
        self.new_tasks: list[Pending] = []
        self.new_timers: list[tuple[int, int, datetime]] = []  # (thread, seq, due)
        # What the step being committed wrote (set inside the transaction, used after it).
        self.saved = execution
        self.written: list[dict[str, Any]] = []

    # --- inputs ---------------------------------------------------------------------------

    def accepts(self, item: Input) -> bool:
        """Whether ``item`` still means something (not a stale answer or timer)."""
        kind = item["k"]
        if self.interp.status != "RUNNING":
            return False
        if kind == "task":
            pending = self.tasks.get(item["th"])
            return pending is not None and pending.seq == item["d"]
        if kind == "started":
            pending = self.tasks.get(item["th"])
            return pending is not None and pending.seq == item["d"] and not pending.started
        if kind == "timer":
            timer = self.timers.get(item["th"])
            return timer is not None and timer[0] == item["d"]
        return True

    def apply(self, item: Input) -> list[Command]:
        """Feed one input to the interpreter; record what it makes outstanding."""
        seq = self.seq
        self.seq += 1
        self.inputs.append(item)
        now = from_ms(item["t"])
        kind = item["k"]
        interp = self.interp
        before = len(interp.events)
        commands: list[Command]
        if kind == "start":
            commands = interp.start(now)
        elif kind == "task":
            thread_id = item["th"]
            self.tasks.pop(thread_id, None)
            outcome = TaskOutcome(
                result=item.get("r"),
                error=item.get("e"),
                cause=item.get("c"),
                timed_out=bool(item.get("to")),
            )
            commands = interp.task_completed(thread_id, outcome, now)
        elif kind == "started":
            # A worker took the task, or a callback / .sync request was submitted ("sub": its
            # response): TaskStarted (+ TaskSubmitted) now, the outcome later.
            started = self.tasks.get(item["th"])
            if started is not None:
                started.started = True
            submitted = item.get("sub", ABSENT)
            commands = interp.task_started(item["th"], now, submitted)
        elif kind == "timer":
            self.timers.pop(item["th"], None)
            commands = interp.timer_fired(item["th"], now)
        elif kind == "timeout":
            commands = interp.time_out(now)
        elif kind == "abort":
            interp.abort(now, item.get("e"), item.get("c"))
            commands = []
        elif kind == "redrive":
            self._redrive(item, seq, now)
            return []
        else:  # pragma: no cover - inputs are written by this package only
            raise ValueError(f"unknown input {kind!r}")
        translate(interp.events, before, item.get("w"))
        for command in commands:
            if isinstance(command, StartTimer):
                self.timers[command.thread_id] = (seq, command.due)
                self.new_timers.append((command.thread_id, seq, command.due))
            else:
                pending = Pending(seq, command)
                pending.token = task_token(self.arn, command, seq)
                pending.child_name = child_name(self.arn, command, seq)
                self.tasks[command.thread_id] = pending
                self.new_tasks.append(pending)
        if interp.status != "RUNNING":
            self.tasks.clear()
            self.timers.clear()
        return commands

    def _redrive(self, item: Input, seq: int, now: datetime) -> None:
        """Rewind to just before the input that ended the execution, keep the history as it
        is, record ExecutionRedriven, and dispatch again what was outstanding then."""
        old_events = self.interp.events
        fresh = Run(*self._args)
        for earlier in self.inputs[: item["cut"]]:
            fresh.apply(earlier)
        interp = fresh.interp
        interp.events.extend(old_events[len(interp.events) :])
        interp.log.now = now
        interp.log.add(
            "ExecutionRedriven",
            len(old_events),
            "executionRedrivenEventDetails",
            {"redriveCount": item["n"]},
        )
        interp.status = "RUNNING"
        interp.error = interp.cause = None
        self.interp = interp
        # Everything outstanding is dispatched anew by this input: new tokens, timers, children.
        self.tasks = {}
        self.timers = {}
        for thread_id, pending in fresh.tasks.items():
            again = Pending(seq, pending.command)
            again.token = task_token(self.arn, pending.command, seq)
            again.child_name = child_name(self.arn, pending.command, seq)
            self.tasks[thread_id] = again
            self.new_tasks.append(again)
        for thread_id, (_, due) in fresh.timers.items():
            self.timers[thread_id] = (seq, due)
            self.new_timers.append((thread_id, seq, due))

    # --- output -----------------------------------------------------------------------------

    def unpersisted(self) -> list[HistoryEvent]:
        events = self.interp.events[self.persisted :]
        return [to_record(self.arn, event) for event in events]

    def unpersisted_map_runs(self) -> list[MapRunRecord]:
        saved = self.map_runs_saved
        return [r for arn, r in self.interp.map_runs.items() if saved.get(arn) is not r]

    def unpersisted_children(self) -> list[MapRunChild]:
        return self.interp.map_run_children[self.children_saved :]

    def mark_persisted(self) -> None:
        self.persisted = len(self.interp.events)
        self.map_runs_saved = dict(self.interp.map_runs)
        self.children_saved = len(self.interp.map_run_children)
        self.new_tasks = []
        self.new_timers = []

    def find_token(self, token: str) -> Pending | None:
        for pending in self.tasks.values():
            if pending.token == token:
                return pending
        return None

    def find_child(self, arn: str) -> Pending | None:
        name = arn.rsplit(":", 1)[-1]
        for pending in self.tasks.values():
            if pending.child_name == name:
                return pending
        return None


def to_record(arn: str, event: dict[str, Any]) -> HistoryEvent:
    details = {k: v for k, v in event.items() if k not in _EVENT_FIELDS}
    return HistoryEvent(
        execution_arn=arn,
        id=event["id"],
        previous_event_id=event["previousEventId"],
        type=event["type"],
        timestamp=event["timestamp"],
        details=details or None,
    )


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_DATA_MIN = 4  # an event dict is id, previousEventId, timestamp, type, then its details


def history_rows(arn: str, events: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Events as ``history_events`` rows (column order of ``store.schema``), for executemany."""
    rows = []
    moment: Any = None
    millis = 0
    for event in events:
        details = None
        if len(event) > _DATA_MIN:
            details = _dumps({k: v for k, v in event.items() if k not in _EVENT_FIELDS})
        timestamp = event["timestamp"]
        if timestamp is not moment:  # a step's events share one instant: convert it once
            moment = timestamp
            millis = round(timestamp.timestamp() * 1000)
        rows.append((arn, event["id"], event["previousEventId"], event["type"], millis, details))
    return rows


def task_token(arn: str, command: RunTask, seq: int) -> str | None:
    """The token of a callback or activity task: the interpreter's for ``$$.Task.Token``,
    otherwise derived from the dispatch, so a replay derives the same one."""
    if command.request.task_token is not None:
        return command.request.task_token
    if getattr(command.integration, "needs_token", False):
        digest = hashlib.sha256(f"{arn}#{command.thread_id}#{seq}".encode()).hexdigest()
        return digest * 2
    return None


def child_name(arn: str, command: RunTask, seq: int) -> str | None:
    """A nested execution's name: the one given in the parameters, or one derived from the
    dispatch — starting it again after a crash finds the same child."""
    if not getattr(command.integration, "starts_child", False):
        return None
    parameters = command.request.parameters
    if isinstance(parameters, dict) and isinstance(parameters.get("Name"), str):
        return str(parameters["Name"])
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}#{command.thread_id}#{seq}"))


def replay(run: Run, items: Sequence[Input], persisted: Sequence[HistoryEvent]) -> Run:
    """Feed ``items`` to a fresh ``run``; the history must come out as ``persisted``."""
    for item in items:
        run.apply(item)
    regenerated = run.unpersisted()
    if len(regenerated) < len(persisted) or regenerated[: len(persisted)] != list(persisted):
        first = next(
            (i for i, (a, b) in enumerate(zip(regenerated, persisted, strict=False)) if a != b),
            min(len(regenerated), len(persisted)),
        )
        raise NondeterminismError(
            f"{run.arn}: replay diverges from the persisted history at event {first + 1}"
        )
    run.persisted = len(persisted)
    # Map Runs were written in the transactions of the inputs that changed them.
    run.map_runs_saved = dict(run.interp.map_runs)
    run.children_saved = len(run.interp.map_run_children)
    for child in run.interp.map_run_children:
        arn = child.execution.execution_arn
        run.child_events[arn] = len(child.events)
        if child.execution.status == "RUNNING":
            run.child_logs[arn] = child.events
        else:
            run.child_logs.pop(arn, None)
    run.new_tasks = []
    run.new_timers = []
    return run
