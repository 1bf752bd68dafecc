"""ValidateStateMachineDefinition and TestState: definitions checked and run without a machine.

TestState runs one state through the interpreter: the state is placed alone in a small
machine whose transitions (``Next``, Choice targets, ``Default``, Catch targets) end in
``Succeed`` stubs, the machine runs in memory on a virtual clock, and the history tells
what the state did: its output, the state it would go to next, or the error it failed
(or was caught) with.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import Backend, Params, Result, validation
from batchyard.asl import StatesError, VirtualClock, execute, validate
from batchyard.asl.events import to_json
from batchyard.asl.paths import PathNotFound, ResultPathMatchFailure, get_path, set_result_path
from batchyard.asl.payload import evaluate_payload
from batchyard.asl.validate import invalid_definition_message

DEFAULT_MAX_DIAGNOSTICS = 100
# The name AWS gives a state tested on its own (its $$.State.Name, recorded on AWS).
TEST_STATE_NAME = "StateName"


def validate_state_machine_definition(backend: Backend, params: Params) -> Result:
    diagnostics = validate(params["definition"], machine_type=params.get("type") or "STANDARD")
    shown = {"ERROR"} if params.get("severity", "ERROR") == "ERROR" else {"ERROR", "WARNING"}
    kept = [d for d in diagnostics if d.severity in shown]
    limit = int(params.get("maxResults") or 0) or DEFAULT_MAX_DIAGNOSTICS
    failed = any(d.severity == "ERROR" for d in diagnostics)
    return {
        "result": "FAIL" if failed else "OK",
        "diagnostics": [_wire(d.to_dict()) for d in kept[:limit]],
        "truncated": len(kept) > limit,
    }


def _wire(diagnostic: dict[str, str]) -> dict[str, str]:
    """AWS leaves ``location`` out of a diagnostic that has none (a non-object definition)."""
    if not diagnostic.get("location"):
        diagnostic.pop("location", None)
    return diagnostic


# --------------------------------------------------------------------------- TestState


def _targets(state: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in ("Next", "Default"):
        if isinstance(state.get(key), str):
            names.add(state[key])
    for group in ("Choices", "Catch"):
        for entry in state.get(group) or []:
            if isinstance(entry, dict) and isinstance(entry.get("Next"), str):
                names.add(entry["Next"])
    return names


def _the_state(params: Params) -> tuple[str, dict[str, Any], str | None]:
    """(name, state, machine query language) of a TestState request."""
    try:
        definition = json.loads(params["definition"])
    except ValueError:
        definition = None
    if not isinstance(definition, dict):
        raise AwsError(
            "InvalidDefinition", invalid_definition_message(validate(params["definition"]))
        )
    state_name = params.get("stateName")
    if state_name is None:
        return TEST_STATE_NAME, definition, None
    errors = [d for d in validate(definition) if d.severity == "ERROR"]
    if errors:
        raise AwsError("InvalidDefinition", invalid_definition_message(errors))
    states = definition.get("States") or {}
    if state_name not in states:
        raise validation("State not found in definition")
    return state_name, states[state_name], definition.get("QueryLanguage")


def _machine(name: str, state: dict[str, Any], language: str | None) -> dict[str, Any]:
    # Without its retriers: TestState reports a retriable failure instead of retrying it.
    states: dict[str, Any] = {name: {k: copy.deepcopy(v) for k, v in state.items() if k != "Retry"}}
    for target in _targets(state) - {name}:
        states[target] = {"Type": "Succeed"}
    machine: dict[str, Any] = {"StartAt": name, "States": states}
    if language is not None:
        machine["QueryLanguage"] = language
    errors = [d for d in validate(machine) if d.severity == "ERROR"]
    if errors:
        raise AwsError("InvalidDefinition", invalid_definition_message(errors))
    return machine


def test_state(backend: Backend, params: Params) -> Result:
    name, state, language = _the_state(params)
    machine = _machine(name, state, language)
    text = params.get("input") or "{}"
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AwsError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'"
        ) from None
    functions = backend.engine.functions if backend.engine is not None else None
    run = execute(machine, data, clock=VirtualClock(), functions=functions)
    result = _outcome(name, run.events, run.status, run.error, run.cause)
    if result["status"] in ("FAILED", "CAUGHT_ERROR") and _retriable(state, result.get("error")):
        result = {"status": "RETRIABLE", **_error(result.get("error"), result.get("cause"))}
    if params.get("inspectionLevel") in ("DEBUG", "TRACE"):
        result["inspectionData"] = _inspection(state, data, text, result)
    return result


def _outcome(
    name: str, events: list[dict[str, Any]], status: str, error: str | None, cause: str | None
) -> Result:
    output: str | None = None
    next_state: str | None = None
    failure: dict[str, Any] | None = None
    for event in events:
        kind = event["type"]
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if exited is not None and exited.get("name") == name and output is None:
            output = exited.get("output")
        elif entered is not None and entered.get("name") != name and next_state is None:
            next_state = entered["name"]
        elif kind.endswith("Failed") and kind != "ExecutionFailed" and next_state is None:
            failure = next((v for k, v in event.items() if k.endswith("EventDetails")), None)
    if status == "FAILED" and output is None:
        return {"status": "FAILED", **_error(error, cause)}
    result: Result = {"status": "SUCCEEDED"}
    if failure is not None and next_state is not None:
        result = {"status": "CAUGHT_ERROR", **_error(failure.get("error"), failure.get("cause"))}
    if output is not None:
        result["output"] = output
    if next_state is not None:
        result["nextState"] = next_state
    return result


# States.ALL matches every error but these two, which no retrier can handle.
_NOT_RETRIABLE = frozenset({"States.Runtime", "States.DataLimitExceeded"})


def _retriable(state: dict[str, Any], error: Any) -> bool:
    """Whether a retrier of ``state`` with attempts left matches ``error``."""
    if not isinstance(error, str) or state.get("Type") == "Fail":
        return False
    for retrier in state.get("Retry") or []:
        names = retrier.get("ErrorEquals") or []
        if retrier.get("MaxAttempts", 3) == 0:
            continue
        if error in names or ("States.ALL" in names and error not in _NOT_RETRIABLE):
            return True
    return False


def _error(error: Any, cause: Any) -> Result:
    found: Result = {}
    if error is not None:
        found["error"] = error
    if cause is not None:
        found["cause"] = cause
    return found


def _inspection(state: dict[str, Any], data: Any, text: str, outcome: Result) -> Result:
    """The state's data flow step by step (DEBUG/TRACE), with the members AWS reports.

    Recorded on AWS: a Pass with ``Result`` shows ``result`` instead of the input path and
    parameters steps; Choice, Wait, Succeed and Fail stop after ``afterInputPath``; a Map
    shows its concurrency and tolerances instead of the data flow.
    """
    kind = state.get("Type")
    inspection: Result = {"input": text}
    if kind == "Map":
        inspection["maxConcurrency"] = int(state.get("MaxConcurrency") or 0)
        for field, member in (
            ("ToleratedFailurePercentage", "toleratedFailurePercentage"),
            ("ToleratedFailureCount", "toleratedFailureCount"),
        ):
            if field in state:
                inspection[member] = state[field]
        return inspection
    try:
        if kind == "Pass" and "Result" in state:
            value = state["Result"]
            inspection["result"] = to_json(value)
        else:
            value = data if state.get("InputPath", "$") == "$" else _input_path(state, data)
            inspection["afterInputPath"] = to_json(value)
            if kind not in ("Pass", "Task", "Parallel"):
                return inspection
            if "Parameters" in state:
                value = evaluate_payload(state["Parameters"], value, context={}, variables={})
            inspection["afterParameters"] = to_json(value)
            if kind == "Task":  # the task's own result is only known from its outcome
                if "output" in outcome:
                    inspection["afterResultPath"] = outcome["output"]
                return inspection
        if "ResultSelector" in state:
            value = evaluate_payload(state["ResultSelector"], value, context={}, variables={})
        inspection["afterResultSelector"] = to_json(value)
        placed = (
            set_result_path(state["ResultPath"], data, value) if "ResultPath" in state else value
        )
        inspection["afterResultPath"] = to_json(placed)
    except (PathNotFound, ResultPathMatchFailure, StatesError):
        pass  # the step that failed is where the data flow stops; the outcome says why
    return inspection


def _input_path(state: dict[str, Any], data: Any) -> Any:
    path = state.get("InputPath", "$")
    return {} if path is None else get_path(path, data)


HANDLERS = {
    "ValidateStateMachineDefinition": validate_state_machine_definition,
    "TestState": test_state,
}
