"""A state's data flow: JSONPath (InputPath → Parameters → … → OutputPath) and JSONata.

The evaluation itself lives in ``paths``, ``payload``, ``intrinsics`` and ``jsonata_eval``; this
module strings the steps together in AWS's order and turns their exceptions into AWS's errors,
whose causes need what only the interpreter knows: the state's name and the id of the event
that entered it (``An error occurred while executing the state 'X' (entered at the event id
#2). …``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from batchyard.asl.errors import StatesError
from batchyard.asl.events import to_json
from batchyard.asl.model import ABSENT, CompiledState
from batchyard.asl.paths import PathNotFound, ResultPathMatchFailure, get_path, set_result_path
from batchyard.asl.payload import evaluate_payload

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


class EvaluationFailed(StatesError):
    """A JSONata failure; the interpreter records an ``EvaluationFailed`` event for it."""

    def __init__(self, name: str, cause: str, location: str | None) -> None:
        super().__init__(name, cause)
        self.location = location


def final(exc: StatesError) -> StatesError:
    """Mark ``exc`` as beyond Retry and Catch.

    The state's output is shaped after its work is done (OutputPath, JSONata Output); AWS fails
    the execution on an error there without consulting the state's retriers or catchers.
    """
    exc.final = True  # type: ignore[attr-defined]
    return exc


def is_final(exc: StatesError) -> bool:
    return bool(getattr(exc, "final", False))


def state_error(thread: Thread, name: str, detail: str) -> StatesError:
    state = thread.state
    assert state is not None
    return StatesError(
        name,
        f"An error occurred while executing the state '{state.name}' "
        f"(entered at the event id #{thread.entered_id}). {detail}",
    )


_PREFIX = "An error occurred while executing the state"


def prefixed(thread: Thread, exc: StatesError) -> StatesError:
    """``exc`` with AWS's cause prefix naming the state, unless it already has it."""
    if exc.cause.startswith(_PREFIX):
        return exc
    return state_error(thread, exc.name, exc.cause)


def path_not_found(thread: Thread, path: str, field: str, data: Any) -> StatesError:
    return state_error(
        thread,
        "States.Runtime",
        f"The JSONPath '{path}' specified for the field '{field}' could not be found in the "
        f"input '{to_json(data)}'",
    )


_JAYWAY_FIELDS = frozenset({"InputPath", "OutputPath", "ItemsPath"})

# --- JSONPath --------------------------------------------------------------------------------


def select(
    interp: Interpreter, thread: Thread, path: str | None, data: Any, field: str, ctx: Any
) -> Any:
    """InputPath / OutputPath / ItemsPath: ``null`` gives ``{}``, ``$`` the data itself."""
    if path is None:
        return {}
    if path == "$":
        return data
    try:
        return get_path(path, data, context=ctx, variables=thread.scope())
    except PathNotFound as exc:
        if field in _JAYWAY_FIELDS:
            # AWS quotes Jayway JsonPath's own exception for these fields.
            detail = f"Invalid path '{exc.path}' : {exc.message}"
            raise state_error(thread, "States.Runtime", detail) from None
        raise path_not_found(thread, exc.path, field, data) from None


def payload(
    interp: Interpreter, thread: Thread, template: Any, data: Any, field: str, ctx: Any
) -> Any:
    """A payload template (Parameters, ItemSelector, ResultSelector, Assign) against ``data``."""
    try:
        return evaluate_payload(template, data, context=ctx, variables=thread.scope())
    except PathNotFound as exc:
        key = getattr(exc, "field", None)
        raise path_not_found(thread, exc.path, key or field, data) from None
    except StatesError as exc:
        raise prefixed(thread, exc) from None


def place_result(thread: Thread, path: str | None, data: Any, result: Any) -> Any:
    try:
        return set_result_path(path, data, result)
    except ResultPathMatchFailure as exc:
        raise state_error(thread, "States.ResultPathMatchFailure", exc.cause) from None


def jsonpath_input(interp: Interpreter, thread: Thread, ctx: Any) -> Any:
    """InputPath then Parameters: what the state works on."""
    state = thread.state
    assert state is not None
    data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
    if state.parameters is not ABSENT:
        data = payload(interp, thread, state.parameters, data, "Parameters", ctx)
    return data


def jsonpath_output(
    interp: Interpreter, thread: Thread, result: Any, ctx: Any
) -> tuple[Any, dict[str, Any] | None]:
    """ResultSelector, Assign, ResultPath, OutputPath: the state's output and its variables."""
    state = thread.state
    assert state is not None
    # Assign reads the raw result, before ResultSelector (AWS, as LocalStack's recordings pin).
    assigned = None
    if state.assign is not None:
        assigned = payload(interp, thread, state.assign, result, "Assign", ctx)
    if state.result_selector is not ABSENT:
        result = payload(interp, thread, state.result_selector, result, "ResultSelector", ctx)
    combined = place_result(thread, state.result_path, thread.input, result)
    try:
        output = select(interp, thread, state.output_path, combined, "OutputPath", ctx)
    except StatesError as exc:
        raise final(exc) from None
    return output, assigned


# --- JSONata ---------------------------------------------------------------------------------


def bindings(
    interp: Interpreter,
    thread: Thread,
    *,
    result: Any = ABSENT,
    error_output: Any = ABSENT,
    ctx: Any = ABSENT,
) -> dict[str, Any]:
    states: dict[str, Any] = {
        "input": thread.input,
        "context": interp.context(thread) if ctx is ABSENT else ctx,
    }
    if result is not ABSENT:
        states["result"] = result
    if error_output is not ABSENT:
        states["errorOutput"] = error_output
    scope: Mapping[str, Any] = thread.scope()
    values = dict(scope)
    values["states"] = states
    return values


def jsonata(value: Any, names: dict[str, Any], location: str) -> Any:
    """A JSONata template value (``{% … %}`` strings anywhere inside ``value``)."""
    from batchyard.asl.jsonata_eval import evaluate_template

    try:
        return evaluate_template(value, names, field=location)
    except StatesError as exc:
        raise EvaluationFailed(exc.name, exc.cause, location) from None


def jsonata_expression(expr: str, names: dict[str, Any], location: str) -> Any:
    from batchyard.asl.jsonata_eval import evaluate_expression

    try:
        return evaluate_expression(expr, names, field=location)
    except StatesError as exc:
        raise EvaluationFailed(exc.name, exc.cause, location) from None


def jsonata_output(
    state: CompiledState, names: dict[str, Any], default: Any
) -> tuple[Any, dict[str, Any] | None]:
    """``Output`` (or its default) and ``Assign``, both seeing the values held on entry."""
    try:
        output = default if state.output is ABSENT else jsonata(state.output, names, "Output")
    except StatesError as exc:
        raise final(exc) from None
    assigned = None
    if state.assign is not None:
        assigned = jsonata(state.assign, names, "Assign")
    return output, assigned


def state_output(
    interp: Interpreter, thread: Thread, result: Any, ctx: Any
) -> tuple[Any, dict[str, Any] | None]:
    """The output of a state that produced ``result`` (Task, Map, Parallel), in either language."""
    state = thread.state
    assert state is not None
    if state.jsonata:
        names = bindings(interp, thread, result=result, ctx=ctx)
        return jsonata_output(state, names, result)
    return jsonpath_output(interp, thread, result, ctx)


_JSON_TYPES = ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    for py_type, name in _JSON_TYPES:
        if isinstance(value, py_type):
            return name
    return "array" if isinstance(value, list) else "object"


def unexpected_type(template: Any, field: str, expected: str, value: Any) -> EvaluationFailed:
    """AWS's error for a JSONata field whose value has the wrong type (recorded for Items)."""
    expr = str(template).strip()
    if expr.startswith("{%") and expr.endswith("%}"):
        expr = expr[2:-2].strip()
    return EvaluationFailed(
        "States.QueryEvaluationError",
        f"The JSONata expression '{expr}' specified for the field '{field}' returned an "
        f"unexpected result type. Expected '{expected}', but was '{json_type(value)}' for "
        f"value: {to_json(value)}",
        field,
    )
