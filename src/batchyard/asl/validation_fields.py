"""Field tables: which fields each state type accepts, which belong to one query language, which
exclude each other, and what kind of value each field holds.

The per-type lists are AWS's as measured with ``ValidateStateMachineDefinition`` (8 types x 50
fields, published by others); AWS reports a field outside its type's list as
``Field '<name>' is not supported`` at the state, and a field of the other query language as
``The QueryLanguage is set to ...`` at the state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from batchyard.asl import validation_messages as msg
from batchyard.asl.validation_context import Ctx, is_int, is_jsonata, is_number
from batchyard.asl.validation_paths import is_jsonpath, is_path_or_intrinsic, reference_path_problem

COMMON_FIELDS = frozenset({"Type", "Comment", "QueryLanguage"})

_IO = ("InputPath", "OutputPath", "Output", "Assign")
_FLOW = ("Next", "End")
_ERRORS = ("Retry", "Catch")
STATE_FIELDS: dict[str, frozenset[str]] = {
    "Pass": frozenset((*_IO, *_FLOW, "Result", "ResultPath", "Parameters")),
    "Task": frozenset(
        (
            *_IO,
            *_FLOW,
            *_ERRORS,
            *("ResultPath", "Parameters", "Arguments", "ResultSelector", "Resource", "Credentials"),
            *("TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"),
        )
    ),
    "Wait": frozenset((*_IO, *_FLOW, "Seconds", "Timestamp", "SecondsPath", "TimestampPath")),
    "Parallel": frozenset(
        (
            *_IO,
            *_FLOW,
            *_ERRORS,
            "ResultPath",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "Branches",
        )
    ),
    "Map": frozenset(
        (
            *_IO,
            *_FLOW,
            *_ERRORS,
            *("ResultPath", "Parameters", "ResultSelector", "ItemProcessor", "Iterator"),
            *("ItemsPath", "Items", "ItemSelector", "ItemReader", "ItemBatcher", "ResultWriter"),
            *("MaxConcurrency", "MaxConcurrencyPath", "Label"),
            *("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
            *("ToleratedFailureCount", "ToleratedFailureCountPath"),
        )
    ),
    "Choice": frozenset((*_IO, "Choices", "Default")),
    "Succeed": frozenset(("InputPath", "OutputPath", "Output")),
    "Fail": frozenset(("Error", "Cause", "ErrorPath", "CausePath")),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "Task": ("Resource",),
    "Choice": ("Choices",),
    "Parallel": ("Branches",),
}
# Types that must say where to go next: exactly one of Next / End.
TRANSITION_TYPES = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})

JSONPATH_ONLY = frozenset(
    {
        "InputPath",
        "OutputPath",
        "ResultPath",
        "Parameters",
        "ResultSelector",
        "Result",
        "ItemsPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "SecondsPath",
        "TimestampPath",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCountPath",
        "ErrorPath",
        "CausePath",
    }
)
JSONATA_ONLY = frozenset({"Arguments", "Output", "Items"})

# Pairs where at most one may be present (AWS: "There should only be one of ...").
EXCLUSIVE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Task": (
        ("TimeoutSeconds", "TimeoutSecondsPath"),
        ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ),
    "Map": (
        ("MaxConcurrency", "MaxConcurrencyPath"),
        ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
        ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ("ItemSelector", "Parameters"),
    ),
    "Fail": (("Error", "ErrorPath"), ("Cause", "CausePath")),
    "Wait": (("SecondsPath", "Seconds", "TimestampPath", "Timestamp"),),
}

MAX_SECONDS = 99999999

# A value check: (ctx, value, location, jsonata) -> None, reporting at ``location``.
ValueCheck = Callable[[Ctx, Any, str, bool], None]


def _string(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    if not isinstance(value, str):
        ctx.schema(msg.expected_type("STRING"), where)


def _non_empty_string(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    if not isinstance(value, str):
        ctx.schema(msg.expected_type("STRING"), where)
    elif not value:
        ctx.schema(msg.should_be_non_empty(where.rsplit("/", 1)[-1]), where)


def _boolean(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    if not isinstance(value, bool):
        ctx.schema(msg.expected_type("BOOLEAN"), where)


def _object(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    if not isinstance(value, dict):
        ctx.schema(msg.expected_type("OBJECT"), where)


def _array(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    if not isinstance(value, list):
        ctx.schema(msg.expected_type("ARRAY"), where)


def integer_in(low: int, high: int | None) -> ValueCheck:
    """An integer in [low, high]; a JSONata state may give an expression instead."""

    def check(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
        if jsonata and is_jsonata(value):
            return
        if not is_int(value):
            ctx.schema(msg.expected_type("INTEGER"), where)
        elif value < low:
            ctx.schema(msg.minimum(low), where)
        elif high is not None and value > high:
            ctx.schema(msg.maximum(high), where)

    return check


def number_in(low: float, high: float) -> ValueCheck:
    def check(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
        if jsonata and is_jsonata(value):
            return
        if not is_number(value):
            ctx.schema(msg.expected_type("NUMBER"), where)
        elif value < low:
            ctx.schema(msg.minimum(int(low) if low.is_integer() else low), where)
        elif value > high:
            ctx.schema(msg.maximum(int(high) if high.is_integer() else high), where)

    return check


def _jsonpath(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    """InputPath / OutputPath: a JSONPath (context and variables allowed), or null."""
    if value is not None and not is_jsonpath(value):
        ctx.schema(msg.invalid_jsonpath(), where)


def _path(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    """``...Path`` fields that read one value from the input, a variable or the context."""
    if not isinstance(value, str):
        ctx.schema(msg.expected_type("STRING"), where)
    elif reference_path_problem(value, context=True, variables=True):
        ctx.schema(msg.invalid_jsonpath(), where)


def _path_or_intrinsic(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    """Fail ErrorPath / CausePath: a reference path or a string-returning intrinsic call."""
    if not isinstance(value, str):
        ctx.schema(msg.expected_type("STRING"), where)
    elif not is_path_or_intrinsic(value):
        ctx.schema(msg.invalid_jsonpath(), where)


def _result_path(ctx: Ctx, value: Any, where: str, jsonata: bool) -> None:
    if value is None:
        return
    problem = reference_path_problem(value)
    if problem:
        ctx.schema(msg.not_reference_path(problem), where)


# Kind of value per state field. Fields absent here (payloads: Parameters, Result, Output, ...)
# hold any JSON. SecondsPath/TimestampPath are only typed: AWS accepted "TimestampPath":
# "timestamp" in a recorded CreateStateMachine, so their syntax is left to run time.
FIELD_CHECKS: dict[str, ValueCheck] = {
    "Comment": _string,
    "Resource": _string,
    "Next": _non_empty_string,
    "Default": _non_empty_string,
    "End": _boolean,
    "Error": _string,
    "Cause": _string,
    "Label": _string,
    "Timestamp": _string,
    "SecondsPath": _string,
    "TimestampPath": _string,
    "InputPath": _jsonpath,
    "OutputPath": _jsonpath,
    "ResultPath": _result_path,
    "ItemsPath": _path,
    "TimeoutSecondsPath": _path,
    "HeartbeatSecondsPath": _path,
    "MaxConcurrencyPath": _path,
    "ToleratedFailurePercentagePath": _path,
    "ToleratedFailureCountPath": _path,
    "ErrorPath": _path_or_intrinsic,
    "CausePath": _path_or_intrinsic,
    "TimeoutSeconds": integer_in(1, MAX_SECONDS),
    "HeartbeatSeconds": integer_in(1, MAX_SECONDS),
    "Seconds": integer_in(0, MAX_SECONDS),
    "MaxConcurrency": integer_in(0, None),
    "ToleratedFailureCount": integer_in(0, None),
    "ToleratedFailurePercentage": number_in(0.0, 100.0),
    "Credentials": _object,
    "ItemProcessor": _object,
    "Iterator": _object,
    "ItemReader": _object,
    "ItemBatcher": _object,
    "ResultWriter": _object,
    "Retry": _array,
    "Catch": _array,
    "Choices": _array,
    "Branches": _array,
}


def check_fields(
    ctx: Ctx, state: dict[str, Any], state_type: str, where: str, language: str
) -> None:
    """Allowed fields, query-language compatibility, required and exclusive fields, value kinds."""
    allowed = STATE_FIELDS[state_type] | COMMON_FIELDS
    jsonata = language == "JSONata"
    downgraded = ctx.machine_language == "JSONata" and state.get("QueryLanguage") == "JSONPath"
    foreign = JSONPATH_ONLY if jsonata else JSONATA_ONLY
    for name in state:
        if name not in allowed:
            ctx.schema(msg.not_supported(name), where)
        elif name in foreign and not downgraded:
            # Measured: after a refused downgrade AWS names nothing else about the language.
            ctx.schema(msg.wrong_query_language(language, name), where)
    missing = [name for name in REQUIRED_FIELDS.get(state_type, ()) if name not in state]
    if missing:
        ctx.schema(msg.required(missing), where)
    for group in EXCLUSIVE.get(state_type, ()):
        if sum(name in state for name in group) > 1:
            ctx.schema(msg.only_one_of(group), where)
    for name, value in state.items():
        check = FIELD_CHECKS.get(name)
        if check is not None and name in allowed and name not in foreign:
            check(ctx, value, f"{where}/{name}", jsonata)
