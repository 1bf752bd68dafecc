"""Property tests: whatever definition and input come in, ``execute`` never crashes.

Only two outcomes are allowed: an :class:`ExecutionResult` (any status) or our own
:class:`InvalidDefinition`. Anything else -- ``KeyError``, ``TypeError``, recursion -- is a bug.

Two generators: fully arbitrary JSON (mostly rejected at validation), and definition-shaped
JSON whose states have real types and plausible-but-random fields, which reaches the
interpreter. ``Next``/``Default`` only point forward (or nowhere), so no generated machine loops.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchyard.asl import ExecutionResult, InvalidDefinition, execute

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
)

JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=12,
)

# Strings that mean something to the interpreter, so random fields hit real code paths.
MEANINGFUL = st.sampled_from(
    [
        "$",
        "$.a",
        "$.a.b",
        "$.a[0]",
        "$.missing",
        "$$.Execution.Id",
        "$$.State.Name",
        "$$.Map.Item.Value",
        "$x",
        "States.Format('{}', $.a)",
        "States.Array(1, $.a)",
        "States.JsonToString($)",
        "States.StringToJson($.a)",
        "States.MathAdd($.a, 1)",
        "States.ArrayGetItem($.a, 0)",
        "States.ALL",
        "States.TaskFailed",
        "States.Runtime",
        "{% $states.input %}",
        "{% $states.input.a + 1 %}",
        "{% $x %}",
        "{% $undefined_function() %}",
        "{% %}",
        "2016-03-14T01:59:00Z",
        "JSONata",
        "JSONPath",
    ]
)
VALUE = st.one_of(JSON, MEANINGFUL)

STATE_TYPES = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]
FIELDS = [
    "Comment",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Result",
    "Arguments",
    "Output",
    "Assign",
    "QueryLanguage",
    "Resource",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "Error",
    "Cause",
    "ErrorPath",
    "CausePath",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "MaxConcurrency",
    "TimeoutSeconds",
    "HeartbeatSeconds",
]


@st.composite
def _rule(draw: st.DrawFn, later: list[str]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "Next": draw(st.sampled_from([*later, "Nowhere"])) if later else "Nowhere"
    }
    operator = draw(
        st.sampled_from(
            [
                "StringEquals",
                "NumericEquals",
                "NumericGreaterThan",
                "BooleanEquals",
                "IsPresent",
                "IsNull",
                "StringMatches",
                "TimestampLessThan",
                "NumericEqualsPath",
                "Condition",
            ]
        )
    )
    if operator == "Condition":
        rule["Condition"] = draw(st.one_of(MEANINGFUL, st.booleans()))
    else:
        rule["Variable"] = draw(MEANINGFUL)
        rule[operator] = draw(st.one_of(SCALARS, MEANINGFUL))
    return rule


@st.composite
def _branch(draw: st.DrawFn, depth: int) -> dict[str, Any]:
    names = [f"S{i}" for i in range(draw(st.integers(min_value=1, max_value=4)))]
    states = {name: draw(_state(names[index + 1 :], depth)) for index, name in enumerate(names)}
    return {"StartAt": names[0], "States": states}


@st.composite
def _state(draw: st.DrawFn, later: list[str], depth: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(STATE_TYPES if depth < 2 else STATE_TYPES[:6]))
    state: dict[str, Any] = {"Type": kind}
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        state[field] = draw(VALUE)
    if kind == "Task":
        state["Resource"] = draw(
            st.sampled_from(
                [
                    "arn:aws:lambda:us-east-1:111122223333:function:echo",
                    "arn:aws:states:::lambda:invoke",
                    "arn:aws:states:::sqs:sendMessage",
                ]
            )
        )
        if draw(st.booleans()):
            state["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}]
        if draw(st.booleans()) and later:
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": later[-1]}]
    elif kind == "Choice":
        state["Choices"] = draw(st.lists(_rule(later), min_size=1, max_size=2))
        if draw(st.booleans()) and later:
            state["Default"] = later[0]
    elif kind == "Parallel":
        state["Branches"] = draw(st.lists(_branch(depth + 1), min_size=1, max_size=2))
    elif kind == "Map":
        state["ItemProcessor"] = draw(_branch(depth + 1))
    if kind not in {"Choice", "Succeed", "Fail"}:
        if draw(st.booleans()) and later:
            state["Next"] = draw(st.sampled_from(later))
        else:
            state["End"] = True
    return state


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    machine = draw(_branch(0))
    if draw(st.booleans()):
        machine["QueryLanguage"] = draw(st.sampled_from(["JSONata", "JSONPath"]))
    return machine


def _echo(event: Any, context: Any) -> Any:
    return event


def _run(definition: Any, input_value: Any) -> None:
    try:
        result = execute(definition, input_value, functions={"echo": _echo})
    except InvalidDefinition:
        return
    assert isinstance(result, ExecutionResult)
    assert result.status in {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


# Bounded so the whole file runs in a few seconds on a shared machine.
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(definition=JSON, input_value=JSON)
def test_arbitrary_json_never_crashes(definition: Any, input_value: Any) -> None:
    _run(definition, input_value)


@PROPERTY_SETTINGS
@given(definition=definitions(), input_value=JSON)
def test_definition_shaped_json_never_crashes(definition: Any, input_value: Any) -> None:
    _run(definition, input_value)
