"""Distributed Map: items (or batches) run as child executions inside a Map Run.

The data shapes (ItemReader, ItemBatcher, ResultWriter, tolerated failures, ARNs) come from
``batchyard.asl.distributed_map``; this module owns the run itself and its history in the
parent: ``MapStateStarted``, ``MapRunStarted``, then ``MapRunSucceeded`` / ``MapStateSucceeded``
/ ``MapStateExited`` or ``MapRunFailed`` / ``MapStateFailed``. Each child is a thread with a
history of its own (``ExecutionStarted`` …), kept out of the parent's, as on AWS.

Progress is reported on the interpreter, for a durable driver to persist (the interpreter stays
pure): ``interp.map_runs[arn]`` is the run's :class:`MapRunRecord` (status, item and execution
counts, tolerances, concurrency), replaced at each change; ``interp.map_run_children`` gets a
:class:`MapRunChild` (record + own history so far) when each child starts and when it ends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from batchyard.asl import distributed_map as dm
from batchyard.asl.distributed_map_run import MapRunCounts, MapRunRecord
from batchyard.asl.errors import StatesError
from batchyard.asl.events import NOT_TRUNCATED, to_json
from batchyard.asl.flow import bindings, jsonata, payload, prefixed, select, state_output
from batchyard.asl.interpreter import MapRunChild
from batchyard.asl.model import ABSENT, CompiledState, Compiler, Program
from batchyard.asl.states.fanout import FanOut, MapKind, max_concurrency

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


@dataclass(slots=True, eq=False)
class MapRun(FanOut):
    """A Map Run in progress."""

    map_run_arn: str = ""
    child_state_machine_arn: str = ""
    run_started_id: int = 0
    item_counts: list[int] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    failed_items: int = 0
    total_items: int = 0
    tolerated_count: int | None = None
    tolerated_percentage: float | None = None
    names: Any = None
    child_names: dict[int, str] = field(default_factory=dict)  # drawn when each child starts


def _uuid(interp: Interpreter) -> str:
    return str(uuid.UUID(int=interp.rng.getrandbits(128), version=4))


class DistributedMapKind(MapKind):
    """A Map whose ``ProcessorConfig.Mode`` is ``DISTRIBUTED``."""

    def compile(self, state: CompiledState, compiler: Compiler) -> None:
        # MapKind.compile already read the processor and ItemSelector.
        pass

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        raw = state.raw
        names: Any = None
        if state.jsonata:
            ctx = interp.context(thread)
            names = bindings(interp, thread, ctx=ctx)
            data = thread.input
        else:
            ctx = interp.context(thread) if state.needs_context else None
            data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
        reader = raw.get("ItemReader")
        items: list[Any] = []
        if reader is None:
            if state.jsonata:
                value = jsonata(raw["Items"], names, "Items") if "Items" in raw else data
            else:
                value = select(interp, thread, raw.get("ItemsPath", "$"), data, "ItemsPath", ctx)
            if not isinstance(value, list):
                raise StatesError(
                    "States.Runtime",
                    "Unable to apply ItemsPath to input: Attempting to map over non-iterable node.",
                )
            items = value
        work = MapRun([], 0, ctx, data, 0)
        work.names = names
        work.started_id = interp.emit(
            "MapStateStarted",
            thread,
            "mapStateStartedEventDetails",
            {"length": 0 if reader is not None else len(items)},
        )
        work.last_child_event = work.last_event = work.started_id
        thread.work = work
        try:
            max_items = self._reader_max_items(interp, thread, reader, data, ctx)
            work.tolerated_count = self._tolerated(interp, thread, "Count", data, ctx)
            work.tolerated_percentage = self._tolerated(interp, thread, "Percentage", data, ctx)
        except StatesError as exc:
            raise prefixed(thread, exc) from None
        label = raw.get("Label") or _uuid(interp)[:8]
        arns = dm.map_run_arns(interp.info.state_machine_arn, label, _uuid(interp))
        work.map_run_arn = arns.map_run_arn
        work.child_state_machine_arn = arns.child_state_machine_arn
        work.run_started_id = interp.emit(
            "MapRunStarted",
            thread,
            "mapRunStartedEventDetails",
            dm.map_run_started_event_details(arns.map_run_arn),
        )
        interp.map_run_states[work.map_run_arn] = state.name
        interp.map_runs[work.map_run_arn] = MapRunRecord(
            map_run_arn=work.map_run_arn,
            execution_arn=interp.info.execution_arn,
            child_state_machine_arn=work.child_state_machine_arn,
            start_date=interp.log.now,
            tolerated_failure_count=work.tolerated_count or 0,
            tolerated_failure_percentage=float(work.tolerated_percentage or 0.0),
        )
        try:
            sources = [dm.STATE_DATA_SOURCE] * len(items)
            if reader is not None:
                parameters = self._evaluate(
                    interp, thread, reader, "Parameters", "Arguments", data, ctx
                )
                read = dm.read_items_with_sources(
                    reader, parameters or {}, s3_root=None, max_items=max_items
                )
                items, sources = read.items, read.sources
            work.inputs, work.item_counts = self._child_inputs(
                interp, thread, items, sources, data, ctx
            )
        except StatesError as exc:
            self._run_failed(interp, thread, exc.name, exc.cause)
            return
        work.count = len(work.inputs)
        work.records = [{} for _ in range(work.count)]
        work.total_items = len(items)
        thread.status = "WAITING"
        work.limit = max_concurrency(interp, thread, data, ctx)
        self._update(
            interp,
            work,
            max_concurrency=work.limit,
            item_counts=MapRunCounts.planned(work.total_items),
            execution_counts=MapRunCounts.planned(work.count),
        )
        if work.count == 0:
            self.finish(interp, thread)
            return
        self.launch(interp, thread)

    def _evaluate(
        self,
        interp: Interpreter,
        thread: Thread,
        holder: dict[str, Any],
        jsonpath_key: str,
        jsonata_key: str,
        data: Any,
        ctx: Any,
    ) -> Any:
        state = thread.state
        assert state is not None
        if state.jsonata:
            if jsonata_key not in holder:
                return None
            return jsonata(holder[jsonata_key], bindings(interp, thread, ctx=ctx), jsonata_key)
        if jsonpath_key not in holder:
            return None
        return payload(interp, thread, holder[jsonpath_key], data, jsonpath_key, ctx)

    def _reader_max_items(
        self, interp: Interpreter, thread: Thread, reader: Any, data: Any, ctx: Any
    ) -> int | None:
        if not isinstance(reader, dict):
            return None
        config = reader.get("ReaderConfig") or {}
        path = config.get("MaxItemsPath")
        if path is None:
            return None
        return dm.resolve_max_items_path(
            select(interp, thread, path, data, "MaxItemsPath", ctx), path
        )

    def _tolerated(
        self, interp: Interpreter, thread: Thread, which: str, data: Any, ctx: Any
    ) -> Any:
        raw = thread.state.raw  # type: ignore[union-attr]
        key = f"ToleratedFailure{which}"
        if key in raw:
            value = raw[key]
            if isinstance(value, str) and thread.state.jsonata:  # type: ignore[union-attr]
                value = jsonata(value, bindings(interp, thread, ctx=ctx), key)
            return float(value) if which == "Percentage" else int(value)
        if key + "Path" in raw:
            path = raw[key + "Path"]
            value = select(interp, thread, path, data, key + "Path", ctx)
            if which == "Count":
                return dm.resolve_tolerated_failure_count_path(value, path)
            return dm.resolve_tolerated_failure_percentage_path(value, path)
        return None

    def _child_inputs(
        self,
        interp: Interpreter,
        thread: Thread,
        items: list[Any],
        sources: list[str],
        data: Any,
        ctx: Any,
    ) -> tuple[list[Any], list[int]]:
        state = thread.state
        assert state is not None
        raw = state.raw
        _, selector = state.spec
        selected = items
        if selector is not ABSENT:
            selected = []
            for index, item in enumerate(items):
                item_ctx = interp.context(thread)
                item_ctx["Map"] = {"Item": dm.map_item_context(index, item, sources[index])}
                if state.jsonata:
                    names = bindings(interp, thread, ctx=item_ctx)
                    selected.append(jsonata(selector, names, "ItemSelector"))
                else:
                    selected.append(
                        payload(interp, thread, selector, data, "ItemSelector", item_ctx)
                    )
        batcher = raw.get("ItemBatcher")
        if batcher is None:
            return selected, [1] * len(selected)
        batch_input = self._evaluate(interp, thread, batcher, "BatchInput", "BatchInput", data, ctx)
        max_items = self._batcher_path(interp, thread, batcher, "MaxItemsPerBatch", data, ctx)
        max_bytes = self._batcher_path(interp, thread, batcher, "MaxInputBytesPerBatch", data, ctx)
        batches = dm.batch_items(
            selected,
            batcher,
            batch_input,
            max_items_per_batch=max_items,
            max_input_bytes_per_batch=max_bytes,
        )
        return list(batches), [len(batch.get("Items", ())) for batch in batches]

    def _batcher_path(
        self, interp: Interpreter, thread: Thread, batcher: Any, key: str, data: Any, ctx: Any
    ) -> int | None:
        path = batcher.get(key + "Path")
        if path is None:
            return None
        value = select(interp, thread, path, data, key + "Path", ctx)
        return dm.path_integer(key + "Path", value, path)

    def create_child(self, interp: Interpreter, thread: Thread, index: int) -> Thread:
        state = thread.state
        assert state is not None
        work: MapRun = thread.work
        program: Program = state.spec[0]
        log = thread.log.child()  # type: ignore[union-attr]
        child_input = work.inputs[index]
        log.add(
            "ExecutionStarted",
            0,
            "executionStartedEventDetails",
            {
                "input": to_json(child_input),
                "inputDetails": NOT_TRUNCATED,
                "roleArn": interp.info.role_arn,
            },
        )
        record = interp.map_runs[work.map_run_arn]
        self._update(
            interp,
            work,
            item_counts=record.item_counts.started(work.item_counts[index]),
            execution_counts=record.execution_counts.started(),
        )
        # The child's name (and ARN) exists from its start, as on AWS.
        name = work.child_names[index] = _uuid(interp)
        started = dm.ChildExecution(
            execution_arn=dm.child_execution_arn(work.map_run_arn, name),
            state_machine_arn=work.child_state_machine_arn,
            name=name,
            status="RUNNING",
            input=to_json(child_input),
            start_date=interp.log.now,
        )
        # ``log.events`` itself: the list grows as the child runs, for a driver to follow.
        interp.map_run_children.append(MapRunChild(work.map_run_arn, started, log.events))
        # Children of a Map Run see no variables of the parent workflow.
        child = interp.new_thread(program, thread, index, {}, None, 0, log)
        child.input = child_input
        return child

    def _record(self, interp: Interpreter, thread: Thread, child: Thread, status: str) -> None:
        work: MapRun = thread.work
        name = work.child_names[child.index]
        log = child.log
        assert log is not None
        execution = dm.ChildExecution(
            execution_arn=dm.child_execution_arn(work.map_run_arn, name),
            state_machine_arn=work.child_state_machine_arn,
            name=name,
            status=status,
            input=to_json(work.inputs[child.index]),
            start_date=log.events[0]["timestamp"],
            stop_date=interp.log.now,
            output=to_json(child.output) if status == "SUCCEEDED" else None,
            error=child.error if status != "SUCCEEDED" else None,
            cause=child.cause if status != "SUCCEEDED" else None,
        )
        work.records[child.index] = dm.child_result_record(execution)
        record = interp.map_runs[work.map_run_arn]
        self._update(
            interp,
            work,
            item_counts=record.item_counts.finished(status, work.item_counts[child.index]),
            execution_counts=record.execution_counts.finished(status),
        )
        interp.map_run_children.append(
            MapRunChild(work.map_run_arn, execution, _closing(log.events, execution, child))
        )

    def child_succeeded(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        self._record(interp, thread, child, "SUCCEEDED")
        self._child_done(interp, thread)

    def child_failed(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        work: MapRun = thread.work
        self._record(interp, thread, child, "FAILED")
        work.failed_items += work.item_counts[child.index]
        if dm.tolerated_failure_exceeded(
            work.failed_items, work.total_items, work.tolerated_count, work.tolerated_percentage
        ):
            self.abort_children(interp, thread)
            error = dm.exceed_tolerated_failure_error()
            self._run_failed(interp, thread, error.name, error.cause)
            return
        self._child_done(interp, thread)

    def _child_done(self, interp: Interpreter, thread: Thread) -> None:
        work: MapRun = thread.work
        work.running -= 1
        work.done += 1
        if work.done == work.count:
            self.finish(interp, thread)
        else:
            self.launch(interp, thread)

    def record_abort(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        """A Map Run child's abort stays in the child's own history."""

    def abort_children(self, interp: Interpreter, thread: Thread) -> None:
        work = thread.work
        if isinstance(work, MapRun) and work.map_run_arn in interp.map_runs:
            running = [c for c in work.children if c.status in ("RUNNING", "WAITING")]
            record = interp.map_runs[work.map_run_arn]
            items = sum(work.item_counts[c.index] for c in running)
            update = {
                "item_counts": record.item_counts.finished("ABORTED", items),
                "execution_counts": record.execution_counts.finished("ABORTED", len(running)),
            }
            self._update(interp, work, **update)
            if record.status == "RUNNING":  # StopExecution; a failing run is marked FAILED next
                interp.map_runs[work.map_run_arn] = interp.map_runs[work.map_run_arn].stopped(
                    "ABORTED", interp.log.now
                )
            super().abort_children(interp, thread)
            for child in running:
                self._report_aborted(interp, work, child)
            return
        super().abort_children(interp, thread)

    def _report_aborted(self, interp: Interpreter, work: MapRun, child: Thread) -> None:
        name = work.child_names.get(child.index)
        log = child.log
        if name is None or log is None:
            return
        aborted = dm.ChildExecution(
            execution_arn=dm.child_execution_arn(work.map_run_arn, name),
            state_machine_arn=work.child_state_machine_arn,
            name=name,
            status="ABORTED",
            input=to_json(work.inputs[child.index]),
            start_date=log.events[0]["timestamp"],
            stop_date=interp.log.now,
        )
        interp.map_run_children.append(
            MapRunChild(work.map_run_arn, aborted, _closing(log.events, aborted, child))
        )

    def _update(self, interp: Interpreter, work: MapRun, **changes: Any) -> None:
        """Replace the Map Run's reported record (``Interpreter.map_runs``)."""
        interp.map_runs[work.map_run_arn] = replace(interp.map_runs[work.map_run_arn], **changes)

    def _stopped(self, interp: Interpreter, work: Any, status: str) -> None:
        if isinstance(work, MapRun) and work.map_run_arn in interp.map_runs:
            interp.map_runs[work.map_run_arn] = replace(
                interp.map_runs[work.map_run_arn], status=status, stop_date=interp.log.now
            )

    def _run_failed(self, interp: Interpreter, thread: Thread, error: str, cause: str) -> None:
        interp.emit(
            "MapRunFailed",
            thread,
            "mapRunFailedEventDetails",
            dm.map_run_failed_event_details(error, cause),
        )
        self._stopped(interp, thread.work, "FAILED")
        thread.work = None
        interp.state_failed(thread, error, cause)

    def finish(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        work: MapRun = thread.work
        writer = state.raw.get("ResultWriter")
        try:
            if writer is not None:
                parameters = self._evaluate(
                    interp, thread, writer, "Parameters", "Arguments", work.data, work.ctx
                )
                result = dm.write_results(
                    writer,
                    parameters,
                    work.records,
                    map_run_arn=work.map_run_arn,
                    s3_root=None,
                )
            else:
                result = dm.transform_results(work.records, "COMPACT")
        except StatesError as exc:
            self._run_failed(interp, thread, exc.name, exc.cause)
            return
        succeeded = interp.emit("MapRunSucceeded", thread)
        self._stopped(interp, work, "SUCCEEDED")
        thread.log.add("MapStateSucceeded", succeeded)  # type: ignore[union-attr]
        output, assigned = state_output(interp, thread, result, work.ctx)
        interp.exit(thread, output, state.next, assigned, previous=succeeded)


def _closing(
    events: list[dict[str, Any]], execution: dm.ChildExecution, child: Thread
) -> list[dict[str, Any]]:
    """The child's own history, ended as an execution's is (the interpreter's thread log
    stops at its last state)."""
    last = events[-1]
    closing: dict[str, Any] = {
        "id": last["id"] + 1,
        "previousEventId": last["id"],
        "timestamp": execution.stop_date,
    }
    if execution.status == "SUCCEEDED":
        closing["type"] = "ExecutionSucceeded"
        closing["executionSucceededEventDetails"] = {
            "output": execution.output,
            "outputDetails": NOT_TRUNCATED,
        }
    elif execution.status == "ABORTED":
        closing["type"] = "ExecutionAborted"
    else:
        closing["type"] = "ExecutionFailed"
        details = {k: v for k, v in (("error", child.error), ("cause", child.cause)) if v}
        closing["executionFailedEventDetails"] = details
    return [*events, closing]


DISTRIBUTED_MAP = DistributedMapKind()
