"""Parallel and (inline) Map: states that run child threads and gather their outputs.

Children are :class:`~batchyard.asl.interpreter.Thread` objects of their own, so nothing is
held on the call stack while they run. They run concurrently — all branches of a Parallel, up
to ``MaxConcurrency`` iterations of a Map — but the scheduler is deterministic (depth-first,
in index order), so a child that never waits runs to its end before the next one starts: the
history is the one AWS records with ``MaxConcurrency: 1``, and children that wait on tasks or
timers interleave as they would on AWS. When a child fails, its running siblings are aborted
(``…StateAborted``, ``MapIterationAborted``) before the state fails.

``previousEventId`` follows AWS's recordings: a branch's first state points at
``ParallelStateStarted``; iteration *i+1*'s ``MapIterationStarted`` points at the last state
event of the iteration that finished before it; ``…StateSucceeded`` and the state's Exited
event both point at the last child event (for Map, the last ``MapIterationSucceeded``);
``MapStateFailed`` points at the failed iteration's last state event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from batchyard.asl.events import to_json
from batchyard.asl.flow import (
    EvaluationFailed,
    bindings,
    jsonata,
    jsonpath_input,
    payload,
    select,
    state_error,
    state_output,
    unexpected_type,
)
from batchyard.asl.model import ABSENT, CompiledState, Compiler, Program
from batchyard.asl.states.base import StateKind

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


@dataclass(slots=True, eq=False)
class FanOut:
    """A Parallel/Map state in progress: what each child gets and what came back."""

    inputs: list[Any]  # one input per child
    count: int
    ctx: Any
    data: Any  # Map: the effective input ItemSelector reads
    started_id: int
    limit: int = 0  # most children running at once; 0 is no limit
    results: list[Any] = field(default_factory=list)
    children: list[Thread] = field(default_factory=list)
    next_index: int = 0
    running: int = 0
    done: int = 0
    last_child_event: int = 0
    last_event: int = 0


class FanOutKind(StateKind):
    """What Parallel and Map share: launching children, gathering results, aborting."""

    def launch(self, interp: Interpreter, thread: Thread) -> None:
        """Start children until the concurrency limit (or the last child) is reached."""
        work: FanOut = thread.work
        while work.next_index < work.count and (work.limit <= 0 or work.running < work.limit):
            index = work.next_index
            work.next_index += 1
            work.running += 1
            child = self.create_child(interp, thread, index)
            work.children.append(child)
            interp.resume(child)

    def create_child(self, interp: Interpreter, thread: Thread, index: int) -> Thread:
        raise NotImplementedError

    def child_succeeded(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        work: FanOut = thread.work
        work.results[child.index] = child.output
        work.running -= 1
        work.done += 1
        self.record_success(interp, thread, child)
        if work.done == work.count:
            self.finish(interp, thread)
        else:
            self.launch(interp, thread)

    def record_success(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        thread.work.last_event = child.cursor

    def child_failed(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        self.record_failure(interp, thread, child)
        self.abort_children(interp, thread)
        thread.cursor = child.cursor
        thread.work = None
        interp.state_failed(thread, child.error or "", child.cause)

    def record_failure(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        """Hook: Map records MapIterationFailed."""

    def abort_children(self, interp: Interpreter, thread: Thread) -> None:
        work = thread.work
        if not isinstance(work, FanOut):
            return
        for child in work.children:
            if child.status in ("RUNNING", "WAITING"):
                started = child.on_start is None
                interp.abort_thread(child)
                if started:
                    self.record_abort(interp, thread, child)

    def record_abort(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        """Hook: Map records MapIterationAborted."""

    def finish(self, interp: Interpreter, thread: Thread) -> None:
        raise NotImplementedError


class ParallelKind(FanOutKind):
    type_name = "Parallel"
    entered_type = "ParallelStateEntered"
    exited_type = "ParallelStateExited"
    aborted_type = "ParallelStateAborted"
    failed_type = "ParallelStateFailed"

    def compile(self, state: CompiledState, compiler: Compiler) -> None:
        state.spec = [compiler.program(branch) for branch in state.raw.get("Branches") or ()]

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        if state.jsonata:
            ctx = interp.context(thread)
            names = bindings(interp, thread, ctx=ctx)
            value = (
                jsonata(state.parameters, names, "Arguments")
                if state.parameters is not ABSENT
                else thread.input
            )
        else:
            ctx = interp.context(thread) if state.needs_context else None
            value = jsonpath_input(interp, thread, ctx)
        started = interp.emit("ParallelStateStarted", thread)
        branches: list[Program] = state.spec
        work = FanOut([value] * len(branches), len(branches), ctx, value, started)
        work.results = [None] * work.count
        work.last_event = started
        thread.work = work
        thread.status = "WAITING"
        self.launch(interp, thread)

    def create_child(self, interp: Interpreter, thread: Thread, index: int) -> Thread:
        work: FanOut = thread.work
        program = thread.state.spec[index]  # type: ignore[union-attr]
        child = interp.new_thread(program, thread, index, {}, thread.scope(), work.started_id)
        child.input = work.inputs[index]
        if child.input is thread.input:  # every branch shows the same text: print it once
            child.input_text = thread.input_text
        return child

    def finish(self, interp: Interpreter, thread: Thread) -> None:
        work: FanOut = thread.work
        last = work.last_event
        thread.log.add("ParallelStateSucceeded", last)  # type: ignore[union-attr]
        output, assigned = state_output(interp, thread, work.results, work.ctx)
        interp.exit(thread, output, thread.state.next, assigned, previous=last)  # type: ignore[union-attr]


def max_concurrency(interp: Interpreter, thread: Thread, data: Any, ctx: Any) -> int:
    """``MaxConcurrency`` (or its Path / JSONata form); 0 means no limit."""
    state = thread.state
    assert state is not None
    raw = state.raw
    value: Any = raw.get("MaxConcurrency", 0)
    if state.jsonata and isinstance(value, str):
        value = jsonata(value, bindings(interp, thread, ctx=ctx), "MaxConcurrency")
    elif "MaxConcurrencyPath" in raw:
        value = select(interp, thread, raw["MaxConcurrencyPath"], data, "MaxConcurrencyPath", ctx)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class MapKind(FanOutKind):
    type_name = "Map"
    entered_type = "MapStateEntered"
    exited_type = "MapStateExited"
    aborted_type = "MapStateAborted"
    failed_type = "MapStateFailed"

    def compile(self, state: CompiledState, compiler: Compiler) -> None:
        raw = state.raw
        processor = raw.get("ItemProcessor") or raw.get("Iterator") or {}
        selector = raw.get("ItemSelector", ABSENT)
        if selector is ABSENT and not state.jsonata:
            selector = raw.get("Parameters", ABSENT)
        # Parameters is the legacy ItemSelector here, not a payload for the whole state.
        state.parameters = ABSENT
        state.spec = (compiler.program(processor), selector)
        if (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
            from batchyard.asl.states.distributed import DISTRIBUTED_MAP

            state.kind = DISTRIBUTED_MAP

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        raw = state.raw
        if state.jsonata:
            ctx = interp.context(thread)
            names = bindings(interp, thread, ctx=ctx)
            data = thread.input
            items = jsonata(raw["Items"], names, "Items") if "Items" in raw else data
            if not isinstance(items, list):
                if "Items" in raw and isinstance(raw["Items"], str):
                    raise unexpected_type(raw["Items"], "Items", "array", items)
                raise EvaluationFailed(
                    "States.QueryEvaluationError",
                    f"Map state input must be an array but was: {to_json(items)}",
                    "Items",
                )
        else:
            ctx = interp.context(thread) if state.needs_context else None
            data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
            items_path = raw.get("ItemsPath", "$")
            items = select(interp, thread, items_path, data, "ItemsPath", ctx)
        if not isinstance(items, list):
            raise state_error(
                thread,
                "States.Runtime",
                "Unable to apply ItemsPath to input: Attempting to map over non-iterable node.",
            )
        limit = max_concurrency(interp, thread, data, ctx)
        started = interp.emit(
            "MapStateStarted", thread, "mapStateStartedEventDetails", {"length": len(items)}
        )
        work = FanOut(items, len(items), ctx, data, started, limit)
        work.results = [None] * len(items)
        work.last_child_event = work.last_event = started
        thread.work = work
        thread.status = "WAITING"
        if not items:
            self.finish(interp, thread)
            return
        self.launch(interp, thread)

    def _item_input(self, interp: Interpreter, thread: Thread, index: int, item: Any) -> Any:
        state = thread.state
        assert state is not None
        _, selector = state.spec
        if selector is ABSENT:
            return item
        ctx = interp.context(thread, map_item=(index, item))
        if state.jsonata:
            return jsonata(selector, bindings(interp, thread, ctx=ctx), "ItemSelector")
        work: FanOut = thread.work
        return payload(interp, thread, selector, work.data, "ItemSelector", ctx)

    def create_child(self, interp: Interpreter, thread: Thread, index: int) -> Thread:
        state = thread.state
        assert state is not None
        work: FanOut = thread.work
        program: Program = state.spec[0]
        child = interp.new_thread(program, thread, index, {}, thread.scope(), 0)
        child.input = self._item_input(interp, thread, index, work.inputs[index])

        def iteration_started() -> None:
            # Recorded when the iteration really starts, pointing at the last state event of
            # the iteration that finished before (AWS's recordings).
            details = {"name": state.name, "index": index}
            child.cursor = thread.log.add(  # type: ignore[union-attr]
                "MapIterationStarted",
                work.last_child_event,
                "mapIterationStartedEventDetails",
                details,
            )

        child.on_start = iteration_started
        return child

    def record_success(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        work: FanOut = thread.work
        details = {"name": thread.state.name, "index": child.index}  # type: ignore[union-attr]
        work.last_event = thread.log.add(  # type: ignore[union-attr]
            "MapIterationSucceeded", child.cursor, "mapIterationSucceededEventDetails", details
        )
        work.last_child_event = child.cursor

    def record_failure(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        details = {"name": thread.state.name, "index": child.index}  # type: ignore[union-attr]
        thread.log.add(  # type: ignore[union-attr]
            "MapIterationFailed", child.cursor, "mapIterationFailedEventDetails", details
        )

    def record_abort(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        details = {"name": thread.state.name, "index": child.index}  # type: ignore[union-attr]
        child.cursor = thread.log.add(  # type: ignore[union-attr]
            "MapIterationAborted", child.cursor, "mapIterationAbortedEventDetails", details
        )

    def finish(self, interp: Interpreter, thread: Thread) -> None:
        work: FanOut = thread.work
        thread.log.add("MapStateSucceeded", work.last_event)  # type: ignore[union-attr]
        output, assigned = state_output(interp, thread, work.results, work.ctx)
        interp.exit(thread, output, thread.state.next, assigned, previous=work.last_event)  # type: ignore[union-attr]
