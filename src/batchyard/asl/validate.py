"""Validate an Amazon States Language definition the way AWS ``ValidateStateMachineDefinition`` does.

Design:

* **One pass, every problem.** Checks append :class:`Diagnostic` items to a shared
  :class:`~batchyard.asl.validation_context.Ctx`; nothing raises, so a definition with five
  problems gets five diagnostics, each with AWS's code, message and JSON Pointer location.
* **Two phases, like AWS.** The *schema* phase walks every scope (the machine, each Parallel
  branch, each Map processor) and every state: fields per type (``validation_fields``),
  per-type rules (``validation_states``, ``validation_choice``, ``validation_map``), paths and
  intrinsics (``validation_paths``) and JSONata (``validation_jsonata``). The *graph* phase
  (missing ``Next`` targets, unreachable states, no terminal state) runs only on a definition
  the schema phase accepted: a state with no ``Next`` is one schema error, not also an
  unreachable successor and a missing end state.
* **Tables over branches.** Every per-type difference is a lookup (``STATE_FIELDS``,
  ``FIELD_CHECKS``, ``TYPE_CHECKS``, ``OPERATORS``); this module only walks.

:func:`invalid_definition_message` renders the ERROR diagnostics the way ``CreateStateMachine``
puts them in its ``InvalidDefinition`` error.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from batchyard.asl import validation_messages as msg
from batchyard.asl.diagnostics import Diagnostic
from batchyard.asl.validation_context import JSONATA, JSONPATH, Ctx
from batchyard.asl.validation_fields import STATE_FIELDS, TRANSITION_TYPES, check_fields, integer_in
from batchyard.asl.validation_json import parse as parse_json
from batchyard.asl.validation_states import TYPE_CHECKS, check_data_flow

TOP_FIELDS = frozenset(
    {"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"}
)
SCOPE_FIELDS = frozenset({"Comment", "StartAt", "States"})
QUERY_LANGUAGES = (JSONPATH, JSONATA)
MAX_STATE_NAME = 80


def validate(definition: Any, *, machine_type: str = "STANDARD") -> list[Diagnostic]:
    """Every problem of ``definition`` (a dict, or JSON text), as AWS reports them; [] if valid.

    ``machine_type`` is ValidateStateMachineDefinition's ``type``: ``EXPRESS`` machines also
    refuse activities and the ``.sync`` / ``.waitForTaskToken`` integration patterns.
    """
    if isinstance(definition, str):
        parsed = parse_json(definition)
        if isinstance(parsed, Diagnostic):
            return [parsed]
        definition = parsed
    if not isinstance(definition, dict):
        return [Diagnostic("ERROR", msg.SCHEMA, msg.not_json_object())]
    ctx = Ctx(validate_scope=_nested_scope, express=machine_type == "EXPRESS")
    try:
        _top_level(ctx, definition)
        _scope(ctx, definition, "", top=True)
    except RecursionError:
        # Only a pathologically nested dict handed in directly gets here (JSON text that deep
        # is refused by the parser); say so instead of crashing the caller.
        return [Diagnostic("ERROR", msg.TOO_DEEPLY_NESTED, "Definition is nested too deeply", "")]
    if not ctx.has_schema_errors():
        for scope in ctx.scopes:
            _graph(ctx, scope)
    return ctx.diagnostics


def invalid_definition_message(diagnostics: list[Diagnostic]) -> str:
    """``Invalid State Machine Definition: 'CODE: message at /loc, CODE: ...'`` (ERRORs only).

    Recorded from CreateStateMachine: problems joined by ", ", each ``at`` its location, and the
    literal ``null`` for a diagnostic without one (``MISSING_END_STATE``).
    """
    parts = []
    for diagnostic in diagnostics:
        if diagnostic.severity != "ERROR":
            continue
        text = f"{diagnostic.code}: {diagnostic.message}"
        location = diagnostic.location or "null"
        # A JSON parse error already ends with its "[Source: ...]" location.
        if not text.endswith(location):
            text += f" at {location}"
        parts.append(text)
    return "Invalid State Machine Definition: '" + ", ".join(parts) + "'"


# --- scopes and states -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """A ``{StartAt, States}`` block whose transitions the graph phase checks."""

    where: str
    start_at: Any
    states: dict[str, Any]
    top: bool


def _top_level(ctx: Ctx, definition: dict[str, Any]) -> None:
    for name in definition:
        if name not in TOP_FIELDS:
            ctx.schema(msg.not_supported(name), "/")
    if "Version" in definition and definition["Version"] != "1.0":
        ctx.schema(msg.one_of_values(["1.0"]), "/Version")
    if "TimeoutSeconds" in definition:
        integer_in(1, 99999999)(ctx, definition["TimeoutSeconds"], "/TimeoutSeconds", False)
    if "Comment" in definition and not isinstance(definition["Comment"], str):
        ctx.schema(msg.expected_type("STRING"), "/Comment")
    if "QueryLanguage" in definition:
        _query_language_value(ctx, definition["QueryLanguage"], "/QueryLanguage")
        # Measured: only the exact string "JSONPath" means JSONPath; any other value is JSONata.
        ctx.machine_language = JSONPATH if definition["QueryLanguage"] == JSONPATH else JSONATA


def _query_language_value(ctx: Ctx, value: Any, where: str) -> None:
    if not isinstance(value, str):
        ctx.schema(msg.expected_type("STRING"), where)
    elif value not in QUERY_LANGUAGES:
        ctx.schema(msg.one_of_values(QUERY_LANGUAGES), where)


def _nested_scope(ctx: Ctx, scope: Any, where: str) -> None:
    if not isinstance(scope, dict):
        ctx.schema(msg.expected_type("OBJECT"), where)
        return
    for name in scope:
        if name not in SCOPE_FIELDS:
            ctx.schema(msg.not_supported(name), where)
    _scope(ctx, scope, where, top=False)


def _scope(ctx: Ctx, scope: dict[str, Any], where: str, *, top: bool) -> None:
    missing = [name for name in ("States", "StartAt") if name not in scope]
    if missing:
        ctx.schema(msg.required(missing), where or "/")
    start_at = scope.get("StartAt")
    if "StartAt" in scope:
        if not isinstance(start_at, str):
            ctx.schema(msg.expected_type("STRING"), f"{where}/StartAt")
        elif not start_at:
            ctx.schema(msg.should_be_non_empty("StartAt"), f"{where}/StartAt")
    states = scope.get("States")
    if "States" in scope and not isinstance(states, dict):
        ctx.schema(msg.expected_type("OBJECT"), f"{where}/States")
    if not isinstance(states, dict):
        return
    ctx.scopes.append(_Scope(where, start_at, states, top))
    for name in getattr(states, "duplicates", ()):
        ctx.error(msg.DUPLICATE_STATE, msg.duplicate_state(name), f"{where}/States/{name}")
    for name, state in states.items():
        location = f"{where}/States/{name}"
        if len(str(name)) > MAX_STATE_NAME:
            ctx.error(msg.INVALID_STATE_NAME, msg.state_name_too_long(), location)
        if name in ctx.state_names:
            ctx.error(msg.DUPLICATE_STATE, msg.duplicate_state(name), location)
        ctx.state_names.add(name)
        _state(ctx, state, location)


def _state(ctx: Ctx, state: Any, where: str) -> None:
    if not isinstance(state, dict):
        ctx.schema(msg.expected_type("OBJECT"), where)
        return
    if "Type" not in state:
        ctx.schema(msg.required(["Type"]), where)
        return
    state_type = state["Type"]
    if not isinstance(state_type, str) or state_type not in STATE_FIELDS:
        ctx.schema(msg.bad_type_value(), f"{where}/Type")
        return
    language = _state_language(ctx, state, where)
    check_fields(ctx, state, state_type, where, language)
    if state_type in TRANSITION_TYPES:
        if "Next" in state and "End" in state:
            ctx.schema(msg.only_one_of(["Next", "End"]), where)
        elif "Next" not in state and state.get("End") is not True:
            ctx.schema(msg.exactly_one_of(["Next", "End"]), where)
    TYPE_CHECKS[state_type](ctx, state, where, language)
    check_data_flow(ctx, state, where, language)


def _state_language(ctx: Ctx, state: dict[str, Any], where: str) -> str:
    """The state's effective query language (a state without one inherits the machine's)."""
    if "QueryLanguage" not in state:
        return ctx.machine_language
    declared = state["QueryLanguage"]
    _query_language_value(ctx, declared, f"{where}/QueryLanguage")
    if declared == JSONPATH:
        if ctx.machine_language == JSONATA:
            ctx.schema(msg.query_language_downgrade(), where)
        return JSONPATH
    return JSONATA


# --- graph phase -------------------------------------------------------------------------------


def _targets(state: Any, where: str) -> list[tuple[str, str]]:
    """``(target, location)`` of every transition out of one state."""
    if not isinstance(state, dict):
        return []
    found = [
        (state[name], f"{where}/{name}")
        for name in ("Next", "Default")
        if isinstance(state.get(name), str)
    ]
    for field in ("Choices", "Catch"):
        entries = state.get(field)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("Next"), str):
                found.append((entry["Next"], f"{where}/{field}[{index}]/Next"))
    return found


def _is_terminal(state: Any) -> bool:
    if not isinstance(state, dict):
        return False
    return state.get("Type") in ("Succeed", "Fail") or state.get("End") is True


def _graph(ctx: Ctx, scope: _Scope) -> None:
    """Dangling targets, then (when the machine can end at all) unreachable states."""
    edges = {
        name: _targets(state, f"{scope.where}/States/{name}")
        for name, state in scope.states.items()
    }
    for targets in edges.values():
        for target, location in targets:
            if target not in scope.states:
                ctx.error(msg.MISSING_TARGET, msg.missing_target(target), location)
    start_at = scope.start_at if isinstance(scope.start_at, str) else ""
    if start_at and start_at not in scope.states:
        ctx.error(msg.MISSING_TARGET, msg.missing_target(start_at), f"{scope.where}/StartAt")
    # Measured: a machine with no terminal state gets that one diagnostic and no reachability.
    if scope.top and not any(_is_terminal(state) for state in scope.states.values()):
        ctx.error(msg.MISSING_END, msg.no_terminal_state(), "")
        return
    reached: set[str] = set()
    queue = deque([start_at] if start_at in scope.states else [])
    while queue:
        name = queue.popleft()
        if name in reached:
            continue
        reached.add(name)
        queue.extend(target for target, _ in edges[name] if target in scope.states)
    for name in scope.states:
        if name not in reached:
            ctx.error(msg.MISSING_TARGET, msg.unreachable(name), f"{scope.where}/States/{name}")
