"""Choice rules: every operator family over AWS's type matrix, paths, nesting and failures."""

from __future__ import annotations

from typing import Any

import pytest

from batchyard.asl.choice import OPERATORS, evaluate_rule, parse_timestamp
from batchyard.asl.errors import StatesError

# The values AWS's recordings run every operator against.
MATRIX: list[Any] = [
    None,
    0,
    0.0,
    1,
    1.1,
    "",
    " ",
    "HelloWorld",
    "2012-10-09T19:00:55",
    "2012-10-09T19:00:55Z",
    "2012-10-09T19:00:55+01:00",
    "2023-02-24",
    [],
    [""],
    {},
    {"A": 0},
    True,
    False,
]
TIMESTAMPS = ["2012-10-09T19:00:55Z", "2012-10-09T19:00:55+01:00"]


def check(rule: dict[str, Any], value: Any, **extra: Any) -> bool:
    data = {"Variable": value, **extra}
    return evaluate_rule({"Variable": "$.Variable", **rule}, data, context={}, variables=None)


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


@pytest.mark.parametrize("value", MATRIX, ids=repr)
@pytest.mark.parametrize(
    ("test", "accepts"),
    [
        ("IsNull", lambda v: v is None),
        ("IsNumeric", lambda v: kind(v) == "number"),
        ("IsString", lambda v: kind(v) == "str"),
        ("IsBoolean", lambda v: kind(v) == "boolean"),
        ("IsTimestamp", lambda v: v in TIMESTAMPS),
        ("IsPresent", lambda v: True),
    ],
)
def test_type_tests_over_the_matrix(test: str, accepts: Any, value: Any) -> None:
    assert check({test: True}, value) is accepts(value)
    assert check({test: False}, value) is (not accepts(value))


@pytest.mark.parametrize("value", MATRIX, ids=repr)
@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        ({"NumericEquals": 0}, lambda v: kind(v) == "number" and v == 0),
        ({"NumericEquals": 1.1}, lambda v: v == 1.1 and kind(v) == "number"),
        ({"NumericGreaterThan": 0}, lambda v: kind(v) == "number" and v > 0),
        ({"NumericLessThanEquals": 1}, lambda v: kind(v) == "number" and v <= 1),
        ({"StringEquals": ""}, lambda v: v == ""),
        ({"StringEquals": " "}, lambda v: v == " "),
        ({"StringLessThan": "H"}, lambda v: kind(v) == "str" and v < "H"),
        (
            {"StringGreaterThanEquals": "HelloWorld"},
            lambda v: kind(v) == "str" and v >= "HelloWorld",
        ),
        ({"StringMatches": "*"}, lambda v: kind(v) == "str"),
        ({"StringMatches": "Hello*"}, lambda v: v == "HelloWorld"),
        ({"BooleanEquals": True}, lambda v: v is True),
        ({"BooleanEquals": False}, lambda v: v is False),
        ({"TimestampEquals": "2012-10-09T19:00:55Z"}, lambda v: v == "2012-10-09T19:00:55Z"),
        ({"TimestampLessThan": "2012-10-09T19:00:55Z"}, lambda v: v == "2012-10-09T19:00:55+01:00"),
        ({"TimestampGreaterThanEquals": "2000-01-01T00:00:00Z"}, lambda v: v in TIMESTAMPS),
    ],
)
def test_comparisons_over_the_matrix(rule: dict[str, Any], matches: Any, value: Any) -> None:
    assert check(rule, value) is bool(matches(value))


T0, T1 = "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z"


@pytest.mark.parametrize(
    ("operator", "left", "right", "expected"),
    [
        ("TimestampEquals", T0, T0, True),
        ("TimestampEquals", T0, T1, False),
        ("TimestampGreaterThan", T1, T0, True),
        ("TimestampGreaterThan", T0, T1, False),
        ("TimestampGreaterThanEquals", T0, T0, True),
        ("TimestampLessThan", T0, T1, True),
        ("TimestampLessThanEquals", T1, T0, False),
        ("TimestampEquals", "2016-08-18T17:33:00Z", "2016-08-18T18:33:00+01:00", True),
        ("TimestampLessThan", "2016-08-18T17:33:00.1Z", "2016-08-18T17:33:00.123456789Z", True),
        ("NumericEquals", 5, 5.0, True),
        ("NumericGreaterThanEquals", 3, 3, True),
        ("NumericLessThan", -1, 0, True),
        ("StringLessThan", "a", "b", True),
        ("StringLessThanEquals", "b", "b", True),
        ("StringGreaterThan", "b", "a", True),
        ("StringGreaterThan", "\uffff", "\U0001f600", True),  # UTF-16 order, as Java
        ("BooleanEquals", True, True, True),
        ("BooleanEquals", 1, True, False),
        ("NumericEquals", True, 1, False),
        ("StringEquals", 5, "5", False),
    ],
)
def test_literal_and_path_operands(operator: str, left: Any, right: Any, expected: bool) -> None:
    assert check({operator: right}, left) is expected
    assert check({operator + "Path": "$.Other"}, left, Other=right) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("log-*.txt", "log-2024.txt", True),
        ("log-*.txt", "log-.txt", True),
        ("log-*.txt", "log-2024.csv", False),
        ("*.log", "a.log", True),
        ("foo*baz", "fooBARbaz", True),
        ("foo*baz", "fooBAR", False),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("a\\\\b", "a\\b", True),
        ("*", "", True),
        ("a.c", "abc", False),
        ("line*", "line1\nline2", True),
    ],
)
def test_string_matches(pattern: str, value: str, expected: bool) -> None:
    assert check({"StringMatches": pattern}, value) is expected


def test_logical_combinators_short_circuit() -> None:
    guarded = {
        "And": [
            {"Variable": "$.x", "IsPresent": True},
            {"Variable": "$.x", "NumericGreaterThan": 1},
        ]
    }
    assert evaluate_rule(guarded, {}, context={}, variables=None) is False
    assert evaluate_rule(guarded, {"x": 2}, context={}, variables=None) is True
    either = {
        "Or": [
            {"Variable": "$.a", "StringEquals": "x"},
            {"Not": {"Variable": "$.b", "NumericLessThan": 3}},
        ]
    }
    assert evaluate_rule(either, {"a": "y", "b": 5}, context={}, variables=None) is True
    assert evaluate_rule(either, {"a": "y", "b": 1}, context={}, variables=None) is False
    assert evaluate_rule(either, {"a": "x"}, context={}, variables=None) is True


def test_context_and_variables() -> None:
    context = {"Execution": {"Name": "run-1"}}
    rule = {"Variable": "$$.Execution.Name", "StringMatches": "run-*"}
    assert evaluate_rule(rule, {}, context=context, variables=None) is True
    rule = {"Variable": "$limit", "NumericGreaterThanPath": "$.n"}
    assert evaluate_rule(rule, {"n": 1}, context={}, variables={"limit": 2}) is True


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"Variable": "$.missing", "NumericEquals": 5}, "$.missing"),
        ({"Variable": "$.missing", "IsNull": True}, "$.missing"),
        ({"Variable": "$.list[5]", "IsNull": False}, "$.list[5]"),
        ({"Variable": "$.a", "NumericEqualsPath": "$.missing"}, "$.missing"),
        ({"Variable": "$nope", "StringEquals": "x"}, "$nope"),
    ],
)
def test_missing_paths_fail_with_aws_cause(rule: dict[str, Any], path: str) -> None:
    with pytest.raises(StatesError) as info:
        evaluate_rule(rule, {"a": 1, "list": []}, context={}, variables={})
    assert info.value.name == "States.Runtime"
    assert info.value.cause == (
        f"Invalid path '{path}': The choice state's condition path references an invalid value."
    )


def test_is_present_never_fails() -> None:
    assert check({"IsPresent": True}, None) is True
    rule = {"Variable": "$.missing", "IsPresent": False}
    assert evaluate_rule(rule, {}, context={}, variables=None) is True


def test_unknown_operator_fails() -> None:
    with pytest.raises(StatesError):
        check({"NumericSpicyThan": 1}, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2016-08-18t17:33:00z",
        "2024-01-01",
        "2024-01-01T00:00Z",
        "2024-01-01T00:00:00+01",
        "2024-01-01T00:00:00+0100",
        "2024-01-01T00:00:00",
        "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2023-02-24 12:15:56.832957",
        "",
        5,
    ],
)
def test_invalid_timestamps(text: Any) -> None:
    assert parse_timestamp(text) is None


def test_operator_table_is_complete() -> None:
    families = ["String", "Numeric", "Timestamp"]
    orders = ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"]
    expected = {f + o for f in families for o in orders} | {"BooleanEquals", "StringMatches"}
    assert set(OPERATORS) == expected
