"""Pass, Succeed, Fail and Wait: the states that do their work without an integration."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batchyard.asl.flow import (
    EvaluationFailed,
    bindings,
    jsonata,
    jsonata_output,
    payload,
    place_result,
    select,
    state_error,
    unexpected_type,
)
from batchyard.asl.intrinsics import evaluate_intrinsic
from batchyard.asl.model import ABSENT, CompiledState, Compiler
from batchyard.asl.states.base import StateKind

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


class PassKind(StateKind):
    type_name = "Pass"
    entered_type = "PassStateEntered"
    exited_type = "PassStateExited"

    def compile(self, state: CompiledState, compiler: Compiler) -> None:
        raw = state.raw
        # A Pass that changes nothing is most Pass states; skip the data flow for it entirely.
        plain = not state.jsonata and not any(
            key in raw
            for key in ("Result", "Parameters", "InputPath", "OutputPath", "ResultPath", "Assign")
        )
        state.spec = (plain, raw.get("Result", ABSENT))

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        plain, result = state.spec
        if plain:
            interp.exit(thread, thread.input, state.next)
            return
        if state.jsonata:
            names = bindings(interp, thread)
            output, assigned = jsonata_output(state, names, thread.input)
            interp.exit(thread, output, state.next, assigned)
            return
        ctx = interp.context(thread) if state.needs_context else None
        data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
        if result is ABSENT:
            result = data
            if state.parameters is not ABSENT:
                result = payload(interp, thread, state.parameters, data, "Parameters", ctx)
        assigned = None
        if state.assign is not None:
            assigned = payload(interp, thread, state.assign, result, "Assign", ctx)
        combined = place_result(thread, state.result_path, thread.input, result)
        output = select(interp, thread, state.output_path, combined, "OutputPath", ctx)
        interp.exit(thread, output, state.next, assigned)


def passthrough_output(
    interp: Interpreter, thread: Thread
) -> tuple[Any, Any, dict[str, Any] | None, Any]:
    """(effective input, output, assigned, ctx) of a state whose result is its input."""
    state = thread.state
    assert state is not None
    if state.jsonata:
        names = bindings(interp, thread)
        output, assigned = jsonata_output(state, names, thread.input)
        return thread.input, output, assigned, names
    ctx = interp.context(thread) if state.needs_context else None
    data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
    assigned = None
    if state.assign is not None:
        assigned = payload(interp, thread, state.assign, data, "Assign", ctx)
    output = select(interp, thread, state.output_path, data, "OutputPath", ctx)
    return data, output, assigned, ctx


class SucceedKind(StateKind):
    type_name = "Succeed"
    entered_type = "SucceedStateEntered"
    exited_type = "SucceedStateExited"

    def run(self, interp: Interpreter, thread: Thread) -> None:
        _, output, _, _ = passthrough_output(interp, thread)
        interp.exit(thread, output, None)


class FailKind(StateKind):
    type_name = "Fail"
    entered_type = "FailStateEntered"
    exited_type = ""

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        raw = state.raw
        if state.jsonata:
            names = bindings(interp, thread)
            error = self._jsonata_field(raw, "Error", names)
            cause = self._jsonata_field(raw, "Cause", names)
        else:
            ctx = interp.context(thread) if state.needs_context else None
            error = self._field(interp, thread, "Error", ctx)
            cause = self._field(interp, thread, "Cause", ctx)
        interp.fail(thread, error, cause)

    def _jsonata_field(self, raw: dict[str, Any], name: str, names: Any) -> str | None:
        if name not in raw:
            return None
        value = jsonata(raw[name], names, name)
        if not isinstance(value, str):
            raise unexpected_type(raw[name], name, "string", value)
        return value

    def _field(self, interp: Interpreter, thread: Thread, name: str, ctx: Any) -> str | None:
        raw = thread.state.raw  # type: ignore[union-attr]
        if name in raw:
            value = raw[name]
            return value if isinstance(value, str) else None
        path = raw.get(name + "Path")
        if path is None:
            return None
        if path.startswith("States."):
            value = evaluate_intrinsic(path, thread.input, context=ctx, variables=thread.scope())
        else:
            value = select(interp, thread, path, thread.input, name + "Path", ctx)
        if not isinstance(value, str):
            raise state_error(
                thread,
                "States.Runtime",
                f"The {name}Path field '{path}' must reference a string value.",
            )
        return value


# ``2016-03-14T01:59:00Z``, fractional seconds optional, an offset required (Jayway/Java
# ``ISO_OFFSET_DATE_TIME``, which AWS uses to read TimestampPath values).
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    fraction = match.group(7) or ""
    normalized = text[: match.start(7)] if fraction else text[: match.start(8)]
    if fraction:
        normalized += fraction[:7].ljust(7, "0")[:7]
    normalized += "+00:00" if match.group(8) == "Z" else match.group(8)
    try:
        return datetime.fromisoformat(normalized)
    except ValueError:
        return None


class WaitKind(StateKind):
    type_name = "Wait"
    entered_type = "WaitStateEntered"
    exited_type = "WaitStateExited"
    aborted_type = "WaitStateAborted"

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        data, output, assigned, names = passthrough_output(interp, thread)
        seconds = self._seconds(interp, thread, data, names)
        if seconds <= 0:
            interp.exit(thread, output, state.next, assigned)
            return
        interp.wait(thread, seconds, (output, assigned))

    def on_timer(self, interp: Interpreter, thread: Thread) -> None:
        output, assigned = thread.work
        interp.exit(thread, output, thread.state.next, assigned)  # type: ignore[union-attr]

    def _seconds(self, interp: Interpreter, thread: Thread, data: Any, names: Any) -> float:
        state = thread.state
        assert state is not None
        raw = state.raw
        now = interp.log.now
        if state.jsonata:
            if "Seconds" in raw:
                value = jsonata(raw["Seconds"], names, "Seconds")
                return float(value) if isinstance(value, int | float) else 0.0
            value = jsonata(raw.get("Timestamp"), names, "Timestamp")
            moment = parse_timestamp(value)
            if moment is None:
                raise EvaluationFailed(
                    "States.QueryEvaluationError",
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                    f"date-time format string: {value}",
                    "Timestamp",
                )
            return (moment - now).total_seconds()
        if "Seconds" in raw:
            return float(raw["Seconds"])
        if "Timestamp" in raw:
            moment = parse_timestamp(raw["Timestamp"])
            return 0.0 if moment is None else (moment - now).total_seconds()
        ctx = names
        if "SecondsPath" in raw:
            path = raw["SecondsPath"]
            value = select(interp, thread, path, data, "SecondsPath", ctx)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise state_error(
                    thread,
                    "States.Runtime",
                    "The SecondsPath parameter does not reference a valid positive integer: "
                    f"{path} == {value}",
                )
            return float(value)
        path = raw.get("TimestampPath", "$")
        value = select(interp, thread, path, data, "TimestampPath", ctx)
        moment = parse_timestamp(value)
        if moment is None:
            raise state_error(
                thread,
                "States.Runtime",
                "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                f"offset date-time format string: {path} == {value}",
            )
        return (moment - now).total_seconds()
