"""JSONata mode: templates, bindings, null versus undefined, AWS's extra and removed functions."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.asl.errors import StatesError
from batchyard.asl.jsonata_eval import (
    JsonataError,
    evaluate_expression,
    evaluate_template,
    is_expression,
)

BINDINGS: dict[str, Any] = {
    "states": {
        "input": {
            "a": None,
            "list": [1, 2, 3],
            "empty": [],
            "n": 5,
            "name": "Ada",
            "items": [{"v": 1}],
        },
        "context": {"Execution": {"Id": "arn:exec"}, "State": {"Name": "S"}},
    },
    "limit": 3,
    "obj": {"k": [1, None]},
}


def run(value: Any) -> Any:
    return evaluate_template(value, BINDINGS, field="Output")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{% $states.input.n + 1 %}", 6),
        ("{% $states.input.name & '!' %}", "Ada!"),
        ("{% $states.input.a %}", None),
        ("{% [$states.input.a, 1] %}", [None, 1]),
        ("{% {'v': $states.input.a} %}", {"v": None}),
        ("{% $exists($states.input.a) %}", True),
        ("{% $exists($states.input.missing) %}", False),
        ("{% $count($states.input.a) %}", 1),
        ("{% $count($states.input.missing) %}", 0),
        ("{% $count($states.input.list) %}", 3),
        ("{% $states.input.list ~> $count() %}", 3),
        ("{% $type($states.input.a) %}", "null"),
        ("{% $states.input.empty %}", []),
        ("{% $states.context.Execution.Id %}", "arn:exec"),
        ("{% $limit * 2 %}", 6),
        ("{% $obj.k %}", [1, None]),
        ("{% $sum($states.input.list) %}", 6),
        ("{% $states.input.items[v = 1].v %}", 1),
        ("{% 5 / 2 %}", 2.5),
        ("{% null %}", None),
        ("{%$states.input.n%}", 5),
        (
            {"a": "{% $limit %}", "b": ["{% $states.input.n %}", "x", 1, None], "c": True},
            {"a": 3, "b": [5, "x", 1, None], "c": True},
        ),
        ("plain text", "plain text"),
        ("{% not closed", "{% not closed"),
        (42, 42),
        # Step Functions' extra functions
        ("{% $partition([1,2,3,4,5,6,7,8,9], 3) %}", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
        ("{% $partition($states.input.list, 2) %}", [[1, 2], [3]]),
        ("{% $partition($states.input.list, 2.9) %}", [[1, 2], [3]]),
        ("{% $range(0, 10, 2) %}", [0, 2, 4, 6, 8, 10]),
        ("{% $range(9, 1, -2) %}", [9, 7, 5, 3, 1]),
        ("{% $range(1, 8, 2) %}", [1, 3, 5, 7]),
        ("{% $range(3, 3, 1) %}", 3),
        ("{% $range(-1.2, 2.8, 1.9) %}", [-1, 0, 1, 2]),
        ("{% $append([], $range(3, 1, 1)) %}", []),
        (
            "{% $hash('input data', 'SHA-256') %}",
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        ),
        ("{% $hash('input data', 'MD5') %}", "812f45842bc6d66ee14572ce20db8e86"),
        ("{% $parse('{\"a\": [1, null]}') %}", {"a": [1, None]}),
        ("{% $parse('3') %}", 3),
        ("{% $random(7) = $random(7) %}", True),
    ],
)
def test_templates(template: Any, expected: Any) -> None:
    assert run(template) == expected


def test_random_and_uuid() -> None:
    value = run("{% $random() %}")
    assert 0 <= value < 1
    assert 0 <= run("{% $random(42) %}") < 1
    text = run("{% $uuid() %}")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text
    )


def test_bindings_are_not_modified() -> None:
    bindings = {"states": {"input": {"a": None, "l": [None]}}}
    evaluate_template({"x": "{% $states.input %}"}, bindings, field="Output")
    assert bindings == {"states": {"input": {"a": None, "l": [None]}}}


@pytest.mark.parametrize(
    ("template", "field", "cause"),
    [
        (
            "{% $states.input.missing %}",
            "Output",
            "The JSONata expression '$states.input.missing' specified for the field 'Output' "
            "returned nothing (undefined).",
        ),
        (
            {"v": "{% $states.input.absent %}"},
            "Output/v",
            "The JSONata expression '$states.input.absent' specified for the field 'Output/v' "
            "returned nothing (undefined).",
        ),
        (
            {"a": {"b": [1, "{% $nope %}"]}},
            "Output/a/b[1]",
            "The JSONata expression '$nope' specified for the field 'Output/a/b[1]' returned "
            "nothing (undefined).",
        ),
        (
            "{% $range('0',4,1) %}",
            "Output",
            "The JSONata expression '$range('0',4,1)' specified for the field 'Output' threw an "
            'error during evaluation. T0410: Argument 1 of function "range" does not match '
            "function signature",
        ),
        (
            "{% $range(0,4,1,2) %}",
            "Output",
            "The JSONata expression '$range(0,4,1,2)' specified for the field 'Output' threw an "
            'error during evaluation. T0410: Argument 4 of function "range" does not match '
            "function signature",
        ),
        (
            "{% $fn := function($x){$x} %}",
            "Output",
            "The JSONata expression '$fn := function($x){$x}' specified for the field 'Output' "
            "returned an unsupported result type.",
        ),
        (
            "{% $eval('1') %}",
            "Output",
            "The JSONata expression '$eval('1')' specified for the field 'Output' threw an error "
            "during evaluation. T1006: Attempted to invoke a non-function",
        ),
    ],
)
def test_failure_causes(template: Any, field: str, cause: str) -> None:
    with pytest.raises(JsonataError) as info:
        run(template)
    assert info.value.name == "States.QueryEvaluationError"
    assert info.value.field == field
    assert info.value.cause == cause


@pytest.mark.parametrize(
    "expression",
    [
        "$range(1, 3)",
        "$range(1, 3, 0)",
        "$range(1, 3, -1)",
        "$range(1, 3, 0.9)",
        "$partition([], 2)",
        "$partition([1], 0)",
        "$hash('x')",
        "$states.input.list[$ > 5]",
        "$filter($states.input.list, function($v) {$v > 5})",
    ],
)
def test_expressions_that_return_nothing_fail(expression: str) -> None:
    with pytest.raises(JsonataError) as info:
        evaluate_expression(expression, BINDINGS, field="Output")
    assert info.value.undefined is True


@pytest.mark.parametrize(
    "expression",
    [
        "1 +",
        "'a' + 1",
        "$hash('x', 'sha256')",
        "$hash(1, 'MD5')",
        "$parse('{bad')",
        "$partition('abc', 1)",
        "$uuid(1)",
        "$range(1, 400000, 1)",
        "$number('x')",
        "1/0",
    ],
)
def test_evaluation_errors(expression: str) -> None:
    with pytest.raises(JsonataError) as info:
        evaluate_expression(expression, BINDINGS, field="Arguments")
    assert info.value.undefined is False
    assert info.value.cause.startswith(
        f"The JSONata expression '{expression}' specified for the field 'Arguments' threw an "
        "error during evaluation. "
    )


def test_without_a_field_the_cause_is_the_engine_detail() -> None:
    with pytest.raises(JsonataError) as info:
        evaluate_expression("'a' + 1", {})
    assert info.value.cause == "T2001: The left side of the + operator must evaluate to a number"


@pytest.mark.parametrize(
    ("text", "expected"), [("{% 1 %}", True), ("{%%}", True), (" {% 1 %}", False), ("x", False)]
)
def test_is_expression(text: str, expected: bool) -> None:
    assert is_expression(text) is expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_expressions_raise_only_states_errors(text: str) -> None:
    with contextlib.suppress(StatesError):
        evaluate_expression(text, BINDINGS, field="Output")
