"""Parallel and (inline) Map: states that run child threads and gather their outputs.

The parent thread waits while its children run one after another; each child is a
:class:`~batchyard.asl.interpreter.Thread` of its own, so nothing is held on the call stack.
``previousEventId`` follows AWS's recordings: a branch's first state points at
``ParallelStateStarted``; iteration *i+1*'s ``MapIterationStarted`` points at the last state
event of iteration *i*; ``…StateSucceeded`` and the state's Exited event both point at the
last child event (for Map, the last ``MapIterationSucceeded``); ``MapStateFailed`` points at the
failed iteration's last state event.
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
)
from batchyard.asl.model import ABSENT, CompiledState, Compiler, Program
from batchyard.asl.states.base import StateKind

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


@dataclass(slots=True, eq=False)
class FanOut:
    """A Parallel/Map state in progress: what each child gets and what came back."""

    inputs: list[Any]  # Parallel: the one input of every branch; Map: the items
    count: int
    ctx: Any
    data: Any  # Map: the effective input ItemSelector reads
    started_id: int
    results: list[Any] = field(default_factory=list)
    next_index: int = 0
    last_child_event: int = 0
    last_event: int = 0


class ParallelKind(StateKind):
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
        thread.work = FanOut([value], len(branches), ctx, value, started)
        thread.status = "WAITING"
        self._start_next(interp, thread)

    def _start_next(self, interp: Interpreter, thread: Thread) -> None:
        work: FanOut = thread.work
        index = work.next_index
        work.next_index += 1
        program = thread.state.spec[index]  # type: ignore[union-attr]
        child = interp.new_thread(program, thread, index, {}, thread.scope(), work.started_id)
        child.input = work.inputs[0]
        interp.resume(child)

    def child_succeeded(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        work: FanOut = thread.work
        work.results.append(child.output)
        if work.next_index < work.count:
            self._start_next(interp, thread)
            return
        last = child.cursor
        thread.log.add(  # type: ignore[union-attr]
            "ParallelStateSucceeded", last
        )
        output, assigned = state_output(interp, thread, work.results, work.ctx)
        interp.exit(thread, output, thread.state.next, assigned, previous=last)  # type: ignore[union-attr]

    def child_failed(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        thread.cursor = child.cursor
        thread.work = None
        interp.state_failed(thread, child.error or "", child.cause)


_JSON_TYPES = ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"))


def _not_array(items_field: Any, value: Any) -> str:
    if not isinstance(items_field, str):
        return f"Map state input must be an array but was: {to_json(value)}"
    expr = items_field.strip()
    if expr.startswith("{%") and expr.endswith("%}"):
        expr = expr[2:-2].strip()
    typ = "null" if value is None else "object"
    for py_type, name in _JSON_TYPES:
        if isinstance(value, py_type):
            typ = name
            break
    return (
        f"The JSONata expression '{expr}' specified for the field 'Items' returned an unexpected "
        f"result type. Expected 'array', but was '{typ}' for value: {to_json(value)}"
    )


class MapKind(StateKind):
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
                raise EvaluationFailed(
                    "States.QueryEvaluationError", _not_array(raw.get("Items"), items), "Items"
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
        started = interp.emit(
            "MapStateStarted", thread, "mapStateStartedEventDetails", {"length": len(items)}
        )
        work = FanOut(items, len(items), ctx, data, started)
        work.last_child_event = work.last_event = started
        thread.work = work
        thread.status = "WAITING"
        if not items:
            self._finish(interp, thread)
            return
        self._start_next(interp, thread)

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

    def _start_next(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        work: FanOut = thread.work
        index = work.next_index
        work.next_index += 1
        item_input = self._item_input(interp, thread, index, work.inputs[index])
        details = {"name": state.name, "index": index}
        started = thread.log.add(  # type: ignore[union-attr]
            "MapIterationStarted", work.last_child_event, "mapIterationStartedEventDetails", details
        )
        program: Program = state.spec[0]
        child = interp.new_thread(program, thread, index, {}, thread.scope(), started)
        child.input = item_input
        interp.resume(child)

    def child_succeeded(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        state = thread.state
        assert state is not None
        work: FanOut = thread.work
        work.results.append(child.output)
        details = {"name": state.name, "index": child.index}
        work.last_event = thread.log.add(  # type: ignore[union-attr]
            "MapIterationSucceeded", child.cursor, "mapIterationSucceededEventDetails", details
        )
        work.last_child_event = child.cursor
        if work.next_index < work.count:
            self._start_next(interp, thread)
            return
        self._finish(interp, thread)

    def _finish(self, interp: Interpreter, thread: Thread) -> None:
        work: FanOut = thread.work
        thread.log.add(  # type: ignore[union-attr]
            "MapStateSucceeded", work.last_event
        )
        output, assigned = state_output(interp, thread, work.results, work.ctx)
        interp.exit(thread, output, thread.state.next, assigned, previous=work.last_event)  # type: ignore[union-attr]

    def child_failed(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        state = thread.state
        assert state is not None
        details = {"name": state.name, "index": child.index}
        thread.log.add(  # type: ignore[union-attr]
            "MapIterationFailed", child.cursor, "mapIterationFailedEventDetails", details
        )
        thread.cursor = child.cursor
        thread.work = None
        interp.state_failed(thread, child.error or "", child.cause)
