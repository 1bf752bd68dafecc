"""The interpreter: an explicit execution state advanced by events, emitting commands.

Design (it is what lets a durable engine resume an execution after a crash):

* Everything an execution knows lives in :class:`Interpreter` and its :class:`Thread` objects —
  never on the Python call stack across a wait. A *thread* is one path of control: the
  execution itself, a Parallel branch or a Map iteration. Threads form a tree through
  ``parent``; a Parallel/Map state that waits for children is simply a thread in ``WAITING``.
* The interpreter does no I/O and never reads a clock. It is driven by six inputs —
  :meth:`start`, :meth:`task_started`, :meth:`task_completed`, :meth:`timer_fired`,
  :meth:`time_out` and :meth:`abort` — each taking ``now``, and it answers with :class:`RunTask` /
  :class:`StartTimer` commands for the driver (``execution.execute`` in memory; the durable
  engine later) to carry out. Distributed Map Runs are reported, not acted on: ``map_runs``
  holds each run's current :class:`MapRunRecord` and ``map_run_children`` reports child
  executions as they start and end (:class:`MapRunChild`) — a driver persists what changed
  after each input.
* It is deterministic: the same inputs in the same order give the same threads (ids), the same
  commands and the same history (randomness — retry jitter, Map Run ids — comes from a generator
  seeded with the execution name). A durable engine persists each input it feeds in and, after
  a crash, rebuilds the interpreter by feeding them again; nothing else needs to be saved.
* Each state type is a ``StateKind`` (``batchyard.asl.states``) looked up from a table; the
  core only knows the life cycle every state shares: enter, run, exit or fail, retry, catch.
* ``previousEventId`` follows AWS: every thread keeps a ``cursor`` (its last event); the first
  state of the execution points at 0, a branch's first state at ``ParallelStateStarted``, an
  iteration's at its ``MapIterationStarted``.

Ready threads run smallest ``key`` first (the path of branch/iteration indexes): depth-first and
in index order. Children that never wait therefore run one after another — the history AWS
records with ``MaxConcurrency: 1`` — while children waiting on tasks or timers interleave.
"""

from __future__ import annotations

import heapq
import random
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from batchyard.asl.context import ExecutionInfo, context_object
from batchyard.asl.distributed_map_run import MapRunRecord
from batchyard.asl.distributed_map_writer import ChildExecution
from batchyard.asl.errors import StatesError
from batchyard.asl.events import (
    NOT_TRUNCATED,
    EventLog,
    TerminalError,
    data_limit_error,
    over_limit,
    to_json,
)
from batchyard.asl.flow import (
    EvaluationFailed,
    bindings,
    is_final,
    jsonata,
    payload,
    place_result,
    prefixed,
)
from batchyard.asl.model import ABSENT, CompiledState, Program
from batchyard.asl.retry import find_catcher, find_retrier, retry_delay

RUNNING = "RUNNING"
WAITING = "WAITING"
DONE = "DONE"
FAILED = "FAILED"
ABORTED = "ABORTED"


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """What an integration is asked to do: the resource and the evaluated parameters."""

    resource: str
    parameters: Any
    state_name: str
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    task_token: str | None = None


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What came back: a result, or an error name and cause (``timed_out`` for ``States.Timeout``)."""

    result: Any = None
    error: str | None = None
    cause: str | None = None
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True, slots=True)
class RunTask:
    thread_id: int
    request: TaskRequest
    integration: Any


@dataclass(frozen=True, slots=True)
class StartTimer:
    thread_id: int
    due: datetime


Command = RunTask | StartTimer


@dataclass(frozen=True, slots=True)
class MapRunChild:
    """A child execution of a Distributed Map's Map Run, for a driver to persist: reported
    when it starts (status ``RUNNING``; ``events`` is then the child's live history, which grows
    as it runs) and again when it ends (its final record and whole history, ``ExecutionStarted``
    … its terminal event)."""

    map_run_arn: str
    execution: ChildExecution
    events: list[dict[str, Any]]


@dataclass(slots=True, eq=False)
class Thread:
    """One path of control and where it stands."""

    id: int
    program: Program
    parent: Thread | None
    index: int
    variables: dict[str, Any]
    outer: Mapping[str, Any] | None
    cursor: int
    state: CompiledState | None = None
    input: Any = None
    status: str = RUNNING
    entered_id: int = 0
    entered_time: datetime | None = None
    retry_counts: list[int] | None = None
    retry_total: int = 0
    work: Any = None  # the running state's own record (a pending task, a fan-out, a wait)
    output: Any = None
    error: str | None = None
    cause: str | None = None
    # JSON text of ``input`` / ``output`` once serialised: a state's output is the next state's
    # input, and an unchanged value is printed once, not at every event that shows it.
    input_text: str | None = None
    output_text: str | None = None
    log: EventLog | None = None  # its history: the execution's, or a Map Run child's own
    # Scheduling order: the path of branch/iteration indexes from the root. Ready threads run
    # smallest key first, which is depth-first and in index order, so histories are stable.
    key: tuple[int, ...] = ()
    # Called when the thread first runs (a Map iteration records MapIterationStarted then).
    on_start: Callable[[], None] | None = None

    def scope(self) -> Mapping[str, Any]:
        """Variables visible here: this scope's own over the (read-only) enclosing ones."""
        if self.outer is None:
            return self.variables
        return ChainMap(self.variables, self.outer)  # type: ignore[arg-type]


class Interpreter:
    """One execution's state. Drive it with start / task_started / task_completed /
    timer_fired / time_out / abort."""

    def __init__(
        self,
        program: Program,
        info: ExecutionInfo,
        timeout_seconds: float | None,
        *,
        input_text: str | None = None,
    ) -> None:
        self.program = program
        self.info = info
        # The caller's own text of the input, echoed by ExecutionStarted (states see it compact).
        self.input_text = input_text
        self.timeout_seconds = timeout_seconds
        self.log = EventLog(info.start_time)
        self.events = self.log.events
        self.threads: dict[int, Thread] = {}
        self.ready: list[tuple[tuple[int, ...], int, Thread]] = []
        self.commands: list[Command] = []
        self.status = "RUNNING"
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.rng = random.Random(info.name)
        # Distributed Map Runs, as DescribeMapRun shows them (replaced as they progress), and
        # reports of their children (at start and at end), in order: what a durable driver
        # persists after each input.
        self.map_runs: dict[str, MapRunRecord] = {}
        self.map_run_states: dict[str, str] = {}  # Map Run ARN -> its Map state's name
        self.map_run_children: list[MapRunChild] = []
        self._execution_obj = info.execution_object()
        self._state_machine_obj = {"Id": info.state_machine_arn, "Name": info.state_machine_name}

    # --- inputs ----------------------------------------------------------------------------

    def start(self, now: datetime) -> list[Command]:
        self.log.now = now
        input_text = to_json(self.info.input)
        given = self.input_text if self.input_text is not None else input_text
        self.log.add(
            "ExecutionStarted",
            0,
            "executionStartedEventDetails",
            {"input": given, "inputDetails": NOT_TRUNCATED, "roleArn": self.info.role_arn},
        )
        root = self.new_thread(self.program, None, 0, {}, None, 0)
        root.input = self.info.input
        root.input_text = input_text
        self.resume(root)
        return self._run()

    def task_started(self, thread_id: int, now: datetime, submitted: Any = ABSENT) -> list[Command]:
        """The task of ``thread_id`` started (a worker took it, a callback's request went out):
        ``TaskStarted`` is recorded now rather than with the outcome, and ``submitted`` (the
        request's response, for callbacks and ``.sync`` jobs) as ``TaskSubmitted``. Optional:
        a driver that only calls :meth:`task_completed` (``execute``) gets both at the end."""
        thread = self.threads[thread_id]
        self.log.now = now
        if thread.status == WAITING and self.status == "RUNNING":
            thread.state.kind.on_task_started(self, thread, submitted)  # type: ignore[union-attr]
        return self._run()

    def task_completed(self, thread_id: int, outcome: TaskOutcome, now: datetime) -> list[Command]:
        thread = self.threads[thread_id]
        self.log.now = now
        if thread.status != WAITING or self.status != "RUNNING":
            return self._run()  # an aborted branch's late answer: nothing waits for it
        self._guard(thread, lambda: thread.state.kind.on_task(self, thread, outcome))  # type: ignore[union-attr]
        return self._run()

    def timer_fired(self, thread_id: int, now: datetime) -> list[Command]:
        thread = self.threads[thread_id]
        self.log.now = now
        if thread.status != WAITING or self.status != "RUNNING":
            return self._run()
        if thread.work == "retry":
            thread.work = None
            self._guard(thread, lambda: thread.state.kind.retry(self, thread))  # type: ignore[union-attr]
        else:
            self._guard(thread, lambda: thread.state.kind.on_timer(self, thread))  # type: ignore[union-attr]
        return self._run()

    def time_out(self, now: datetime) -> list[Command]:
        """The execution's TimeoutSeconds passed: it ends TIMED_OUT."""
        if self.status != "RUNNING":
            return []
        self.log.now = now
        root = self.threads[0]
        self.log.add(
            "ExecutionTimedOut",
            root.cursor,
            "executionTimedOutEventDetails",
            {"error": "States.Timeout"},
        )
        self.status = "TIMED_OUT"
        self.error = "States.Timeout"
        self.ready.clear()
        return []

    def abort(self, now: datetime, error: str | None = None, cause: str | None = None) -> None:
        """StopExecution: states still in progress are aborted, the execution ends ABORTED."""
        if self.status != "RUNNING":
            return
        self.log.now = now
        self.abort_thread(self.threads[0])
        root = self.threads[0]
        self.log.add(
            "ExecutionAborted",
            root.cursor,
            "executionAbortedEventDetails",
            self.log.error_details(error, cause),
        )
        self.status = "ABORTED"
        self.error = error
        self.cause = cause
        self.ready.clear()

    @property
    def deadline(self) -> datetime | None:
        if self.timeout_seconds is None:
            return None
        return self.info.start_time + timedelta(seconds=self.timeout_seconds)

    # --- what state kinds call -------------------------------------------------------------

    def new_thread(
        self,
        program: Program,
        parent: Thread | None,
        index: int,
        variables: dict[str, Any],
        outer: Mapping[str, Any] | None,
        cursor: int,
        log: EventLog | None = None,
    ) -> Thread:
        thread = Thread(len(self.threads), program, parent, index, variables, outer, cursor)
        thread.state = program.start
        if parent is not None:
            thread.key = (*parent.key, index)
        thread.log = log if log is not None else (parent.log if parent is not None else self.log)
        self.threads[thread.id] = thread
        return thread

    def context(
        self,
        thread: Thread,
        *,
        map_item: tuple[int, Any] | None = None,
        task_token: str | None = None,
    ) -> Any:
        state = thread.state
        assert state is not None and thread.entered_time is not None
        return context_object(
            self._execution_obj,
            self._state_machine_obj,
            state.name,
            thread.entered_time,
            thread.retry_total,
            map_item=map_item,
            task_token=task_token,
        )

    def new_token(self) -> str:
        """A task token for a callback task (deterministic, like every id the interpreter makes)."""
        return f"{self.rng.getrandbits(128):032x}{self.rng.getrandbits(128):032x}"

    def emit(self, type_: str, thread: Thread, key: str | None = None, details: Any = None) -> int:
        event_id = thread.log.add(type_, thread.cursor, key, details)  # type: ignore[union-attr]
        thread.cursor = event_id
        return event_id

    def exit(
        self,
        thread: Thread,
        output: Any,
        next_state: CompiledState | None,
        assigned: dict[str, Any] | None = None,
        *,
        previous: int | None = None,
    ) -> None:
        """Leave the current state with ``output``; go to ``next_state`` or end the thread."""
        state = thread.state
        assert state is not None
        if output is thread.input and thread.input_text is not None:
            text = thread.input_text
        else:
            text = to_json(output)
            if over_limit(text):
                raise data_limit_error(state.name)
        thread.cursor = thread.log.exited(  # type: ignore[union-attr]
            state.kind.exited_type,
            thread.cursor if previous is None else previous,
            state.name,
            text,
            assigned,
        )
        if assigned:
            thread.variables.update(assigned)
        thread.work = None
        if next_state is None:
            thread.output = output
            thread.output_text = text
            thread.status = DONE
        else:
            thread.state = next_state
            thread.input = output
            thread.input_text = text
            thread.status = RUNNING

    def wait(self, thread: Thread, seconds: float, work: Any) -> None:
        thread.status = WAITING
        thread.work = work
        self.commands.append(StartTimer(thread.id, self.log.now + timedelta(seconds=seconds)))

    def fail(self, thread: Thread, error: str | None, cause: str | None) -> None:
        """End the thread failed, with no Retry or Catch (Fail state, terminal errors)."""
        thread.status = FAILED
        thread.error = error
        thread.cause = cause
        thread.work = None

    def resume(self, thread: Thread) -> None:
        """A thread can run (it is new, its state exited, or it finished)."""
        heapq.heappush(self.ready, (thread.key, thread.id, thread))

    def abort_thread(self, thread: Thread) -> None:
        """Stop ``thread`` and everything below it, recording what was in progress."""
        if thread.status in (DONE, FAILED, ABORTED):
            return
        state = thread.state
        started = thread.on_start is None
        if state is not None and thread.status == WAITING:
            state.kind.abort_children(self, thread)
            if state.kind.aborted_type and started:
                thread.cursor = thread.log.add(state.kind.aborted_type, thread.cursor)  # type: ignore[union-attr]
        thread.status = ABORTED
        thread.work = None

    # --- the loop ----------------------------------------------------------------------------

    def _run(self) -> list[Command]:
        ready = self.ready
        while ready:
            thread = heapq.heappop(ready)[2]
            if thread.status == ABORTED:
                continue
            if thread.on_start is not None:
                start, thread.on_start = thread.on_start, None
                start()
            self._advance(thread)
        commands, self.commands = self.commands, []
        return commands

    def _advance(self, thread: Thread) -> None:
        log = thread.log
        assert log is not None
        while True:
            status = thread.status
            if status == RUNNING:
                state = thread.state
                assert state is not None
                text = thread.input_text
                if text is None:
                    text = thread.input_text = to_json(thread.input)
                thread.entered_id = thread.cursor = log.entered(
                    state.kind.entered_type, thread.cursor, state.name, text
                )
                thread.entered_time = log.now
                thread.retry_counts = None
                thread.retry_total = 0
                try:
                    state.kind.run(self, thread)
                except StatesError as exc:
                    self.handle_error(thread, exc)
            elif status in (WAITING, ABORTED):
                return
            else:
                self._complete(thread)
                return

    def _guard(self, thread: Thread, action: Any) -> None:
        try:
            action()
        except StatesError as exc:
            self.handle_error(thread, exc)
        if thread.status != WAITING:
            self.resume(thread)

    def _complete(self, thread: Thread) -> None:
        parent = thread.parent
        if parent is None:
            self._finish_execution(thread)
            return
        if parent.status != WAITING:
            return  # the parent stopped waiting (a sibling failed): this result is moot
        kind = parent.state.kind  # type: ignore[union-attr]
        if thread.status == DONE:
            self._guard(parent, lambda: kind.child_succeeded(self, parent, thread))
        else:
            self._guard(parent, lambda: kind.child_failed(self, parent, thread))

    def _finish_execution(self, root: Thread) -> None:
        if root.status == DONE:
            text = root.output_text if root.output_text is not None else to_json(root.output)
            self.log.add(
                "ExecutionSucceeded",
                root.cursor,
                "executionSucceededEventDetails",
                {"output": text, "outputDetails": NOT_TRUNCATED},
            )
            self.status = "SUCCEEDED"
            self.output = root.output
        else:
            self.log.add(
                "ExecutionFailed",
                root.cursor,
                "executionFailedEventDetails",
                self.log.error_details(root.error, root.cause),
            )
            self.status = "FAILED"
            self.error = root.error
            self.cause = root.cause

    # --- errors: Retry, Catch ----------------------------------------------------------------

    def handle_error(self, thread: Thread, exc: StatesError) -> None:
        state = thread.state
        assert state is not None
        if isinstance(exc, TerminalError):
            self.fail(thread, exc.name, exc.cause)
            return
        terminal = is_final(exc)
        if isinstance(exc, EvaluationFailed):
            exc = EvaluationFailed(exc.name, prefixed(thread, exc).cause, exc.location)
            details: dict[str, str] = {"error": exc.name, "cause": exc.cause}
            if exc.location is not None:
                details["location"] = exc.location
            details["state"] = state.name
            self.emit("EvaluationFailed", thread, "evaluationFailedEventDetails", details)
        if terminal:
            self.fail(thread, exc.name, exc.cause)
            return
        self.state_failed(thread, exc.name, exc.cause)

    def state_failed(self, thread: Thread, error: str, cause: str | None) -> None:
        """The current state failed with ``error``: retry it, catch it, or fail the thread."""
        state = thread.state
        assert state is not None
        if state.retriers:
            index = find_retrier(state.retriers, error, cause)
            if index is not None:
                counts = thread.retry_counts
                if counts is None:
                    counts = thread.retry_counts = [0] * len(state.retriers)
                retrier = state.retriers[index]
                if counts[index] < retrier.max_attempts:
                    delay = retry_delay(retrier, counts[index], self.rng)
                    counts[index] += 1
                    thread.retry_total += 1
                    self.wait(thread, delay, "retry")
                    return
        # Map and Parallel record their failure once it is final (not before a retry).
        if state.kind.failed_type:
            thread.cursor = thread.log.add(state.kind.failed_type, thread.cursor)  # type: ignore[union-attr]
        catcher = find_catcher(state.catchers, error, cause) if state.catchers else None
        if catcher is None:
            self.fail(thread, error, cause)
            return
        # AWS binds an empty string for a missing error or cause.
        error_output: dict[str, Any] = {"Error": error or "", "Cause": cause or ""}
        try:
            if state.jsonata:
                names = bindings(self, thread, error_output=error_output)
                output = (
                    error_output
                    if catcher.output is ABSENT
                    else jsonata(catcher.output, names, "Output")
                )
                assigned = (
                    jsonata(catcher.assign, names, "Assign") if catcher.assign is not None else None
                )
            else:
                ctx = self.context(thread) if state.needs_context else None
                assigned = None
                if catcher.assign is not None:
                    assigned = payload(self, thread, catcher.assign, error_output, "Assign", ctx)
                output = place_result(thread, catcher.result_path, thread.input, error_output)
            self.exit(thread, output, catcher.next, assigned)
        except StatesError as exc:
            self.fail(thread, exc.name, exc.cause)
