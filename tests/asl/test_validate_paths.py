"""The recognisers behind ``asl.validate``: which strings are JSONPaths, reference paths,
intrinsic function calls, and which JSONata expressions AWS refuses at definition time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.asl.validation_jsonata import parse_problem
from batchyard.asl.validation_paths import (
    is_intrinsic_call,
    is_jsonpath,
    reference_path_problem,
)

JSONPATHS = [
    "$",
    "$$",
    "$.a",
    "$.a.b[0]",
    "$[0]",
    "$..name",
    "$.a.*",
    "$.a[*].b",
    "$['key with space']",
    "$.a[?(@.price < 10)].title",
    "$.a[1:3]",
    "$.a[0,1]",
    "$$.Execution.Input",
    "$$.Map.Item.Value",
    "$myVar",
    "$myVar.field[2]",
    "$.a-b",
]
NOT_JSONPATHS = [
    "",
    "a",
    "a.b",
    "$.",
    "$.a.",
    "$[",
    "$[0",
    "$[]",
    "$.a]b",
    "States.Format('x')",
    " $.a",
]


@pytest.mark.parametrize("path", JSONPATHS)
def test_jsonpath_accepted(path: str) -> None:
    assert is_jsonpath(path)


@pytest.mark.parametrize("path", NOT_JSONPATHS)
def test_jsonpath_refused(path: str) -> None:
    assert not is_jsonpath(path)


def test_jsonpath_roots_can_be_restricted() -> None:
    assert not is_jsonpath("$$.Execution", context=False)
    assert not is_jsonpath("$var", variables=False)


@pytest.mark.parametrize("path", ["$", "$.a", "$.a.b[0]", "$['a b']", "$.a[10].b", "$.a_b-c"])
def test_reference_path_accepted(path: str) -> None:
    assert reference_path_problem(path) == ""


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("a", "Reference path didn't start with '$'"),
        ("", "Reference path didn't start with '$'"),
        ("$.a[*]", "Reference path contains an unsupported operator"),
        ("$..a", "Reference path contains an unsupported operator"),
        ("$.a[?(@.b)]", "Reference path contains an unsupported operator"),
        ("$.a[1:2]", "Reference path contains an unsupported operator"),
        ("$$.Execution", "Reference path has an unsupported root"),
        ("$var", "Reference path has an unsupported root"),
    ],
)
def test_reference_path_refused(path: str, reason: str) -> None:
    assert reference_path_problem(path) == reason


def test_reference_path_roots_for_choice_variables() -> None:
    assert reference_path_problem("$$.Execution.Id", context=True) == ""
    assert reference_path_problem("$var.a", variables=True) == ""


INTRINSICS = [
    "States.UUID()",
    "States.Format('{} and {}', $.a, $$.Execution.Name)",
    "States.Format('It\\'s {}', $.a)",
    "States.Array(1, -2.5, true, false, null, 'x')",
    "States.ArrayPartition(States.ArrayRange(1, 10, 1), 3)",
    "States.ArrayGetItem($.a[0,1], 0)",
    "States.JsonMerge($.a, $.b, false)",
    "States.Hash($var, 'SHA-256')",
    "States.MathAdd( $.a , 1 )",
]
NOT_INTRINSICS = [
    "States.Nope($.a)",
    "States.Format('{}', $.a",
    "States.Format('{}' $.a)",
    "States.Format('unterminated)",
    "States.Format($.)",
    "States.Format(x)",
    "Format('x')",
    "States.UUID() trailing",
    "States.Array(" * 11 + ")" * 11,
]


@pytest.mark.parametrize("text", INTRINSICS)
def test_intrinsic_accepted(text: str) -> None:
    assert is_intrinsic_call(text)


@pytest.mark.parametrize("text", NOT_INTRINSICS)
def test_intrinsic_refused(text: str) -> None:
    assert not is_intrinsic_call(text)


def test_intrinsic_nesting_limit_is_ten() -> None:
    assert is_intrinsic_call("States.Array(" * 10 + ")" * 10)


@pytest.mark.parametrize(
    ("expression", "code"),
    [
        ("$states.input.a", ""),
        ("$count($states.input.items[price > 10])", ""),
        ("$map($states.input, function($v) { $v.name })", ""),
        ("($x := 1; $x + 1)", ""),
        ("[1, 2, 3][$ > 1]", ""),
        ("$states.input ~> $sum()", ""),
        ("1 /* trailing comment */", ""),
        ("phone", "UNSUPPORTED_JSONATA_EXPRESSION"),
        ("$states.input.a ? b : 'c'", "UNSUPPORTED_JSONATA_EXPRESSION"),
        ("{'k': name}", "UNSUPPORTED_JSONATA_EXPRESSION"),
        ("$$", "UNSUPPORTED_JSONATA_EXPRESSION"),
        ("1 +", "INVALID_JSONATA_EXPRESSION"),
        ("$states.errorOutput", "$states.errorOutput"),
    ],
)
def test_jsonata_expressions(expression: str, code: str) -> None:
    assert parse_problem(expression)[0] == code


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_recognisers_are_total(text: str) -> None:
    """Arbitrary text only ever gets an answer, never an exception."""
    is_jsonpath(text)
    reference_path_problem(text)
    is_intrinsic_call(text)
    parse_problem(text)
