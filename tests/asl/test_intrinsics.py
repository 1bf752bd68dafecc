"""Intrinsic functions: every function's results and failure causes, plus a fuzz property."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchyard.asl.errors import StatesError
from batchyard.asl.intrinsics import evaluate_intrinsic, is_intrinsic, java_json, java_number
from batchyard.asl.intrinsics_parser import IntrinsicSyntaxError, parse_intrinsic

INPUT: dict[str, Any] = {
    "name": "Ada",
    "n": 5,
    "f": 1.5,
    "whole": 1.0,
    "nul": None,
    "t": True,
    "arr": [1, 2, 3, 4, 5, 6, 7, 8, 9],
    "objs": [{"k": 1}, {"k": 2}],
    "o": {"b": 1, "a": [1, "x", None]},
    "json": '{"a": [1, 2], "b": "c"}',
    "tpl": "n={}",
    "data": "input data",
    "long": "a" * 10_001,
    "max": "a" * 10_000,
}
CONTEXT = {"Execution": {"Input": {"suffix": "run"}}, "State": {"Name": "P"}}
VARIABLES = {"greeting": "hi", "nums": [3, 1, 3]}


def run(text: str, data: Any = None) -> Any:
    return evaluate_intrinsic(
        text, INPUT if data is None else data, context=CONTEXT, variables=VARIABLES
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # States.Format
        ("States.Format('Hello {}', $.name)", "Hello Ada"),
        ("States.Format('{} {} {} {}', $.n, $.f, $.t, $.nul)", "5 1.5 true null"),
        ("States.Format('{}', $.whole)", "1.0"),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format($.tpl, 1)", "n=1"),
        ("States.Format('  {}  ', 'x')", "  x  "),
        ("States.Format('\\'{}\\' \\{\\} \\\\', 'q')", "'q' {} \\"),
        ("States.Format('{}:{}', $.name, $$.Execution.Input.suffix)", "Ada:run"),
        ("States.Format('{}', $greeting)", "hi"),
        ("States.Format('arn:{}', States.JsonToString($.o))", 'arn:{"b":1,"a":[1,"x",null]}'),
        ("States.Format('{}', 1e10)", "1.0E10"),
        ("States.Format('fst={}', $.o)", "fst={b=1, a=[1, x, null]}"),
        ("States.Format('{}', States.Array(1.5, true, 'a'))", "[1.5, true, a]"),
        # JSON
        ("States.StringToJson($.json)", {"a": [1, 2], "b": "c"}),
        ("States.StringToJson('')", None),
        ("States.StringToJson(' ')", None),
        ("States.StringToJson('null')", None),
        ("States.StringToJson('-0')", 0),
        ("States.StringToJson('1.1')", 1.1),
        ("States.StringToJson('\"HelloWorld\"')", "HelloWorld"),
        ("States.JsonToString($.o)", '{"b":1,"a":[1,"x",null]}'),
        ("States.JsonToString($)", None),  # checked separately below
        ("States.JsonToString('s')", '"s"'),
        ("States.JsonToString($.whole)", "1.0"),
        (
            'States.JsonMerge($.o, States.StringToJson(\'{"b": 2, "c": 3}\'), false)',
            {"b": 2, "a": [1, "x", None], "c": 3},
        ),
        # Arrays
        ("States.Array()", []),
        ("States.Array(1, 'a', true, null, $.n, States.Array(2))", [1, "a", True, None, 5, [2]]),
        ("States.ArrayPartition($.arr, 4)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayPartition(States.Array(), 2)", []),
        ("States.ArrayPartition($.arr, 4.9)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayContains($.arr, 5)", True),
        ("States.ArrayContains($.arr, '5')", False),
        ("States.ArrayContains($.objs, States.StringToJson('{\"k\": 2}'))", True),
        ("States.ArrayContains(States.Array(1, 0), true)", False),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(0, 10, 3)", [0, 3, 6, 9]),
        ("States.ArrayRange(1, 9, 9)", [1]),
        ("States.ArrayRange(3, 3, -1)", [3]),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayRange(5, 1, 1)", []),
        ("States.ArrayRange(1.6, 1.4, 1)", [1]),
        ("States.ArrayRange(5.4, -0.6, -2.4)", [5, 3, 1]),
        ("States.ArrayGetItem($.arr, 5)", 6),
        ("States.ArrayGetItem($.objs, 1)", {"k": 2}),
        ("States.ArrayLength($.arr)", 9),
        ("States.ArrayLength($.objs[*].missing)", 0),
        ("States.ArrayUnique($nums)", [3, 1]),
        (
            'States.ArrayUnique(States.StringToJson(\'[null,null,true,1,1,1.1,"a","a",[],[],{"a":1},{"a":1}]\'))',
            [None, True, 1, 1.1, "a", [], {"a": 1}],
        ),
        # Encoding and hashing
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Encode('')", ""),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Base64Decode('YQ')", "a"),
        ("States.Base64Decode(States.Base64Encode($.name))", "Ada"),
        ("States.Hash($.data, 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("States.Hash($.data, 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "States.Hash($.data, 'SHA-256')",
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        ),
        ("States.Hash('v787', 'MD5')", "0003ec0d0c76934ba8a8b39809c825b3"),
        # Math
        ("States.MathAdd(111, -1)", 110),
        ("States.MathAdd(-9, 3)", -6),
        ("States.MathAdd(1.49, 1.50)", 3),
        ("States.MathAdd(0.5, 0)", 1),
        ("States.MathAdd(2.5, 0)", 3),
        ("States.MathAdd(-0.5, 0)", 0),
        ("States.MathAdd(-1.5, 0)", -1),
        ("States.MathAdd(-1.51, 0)", -2),
        ("States.MathAdd(-0.5, 0.5)", 1),
        ("States.MathAdd(2147483646, 1)", 2147483647),
        ("States.MathAdd(-2147483647, -1)", -2147483648),
        ("States.MathAdd(1.6, 2.7)", 5),
        # Strings
        (
            "States.StringSplit('This.is+a,test=string', '.+,=')",
            ["This", "is", "a", "test", "string"],
        ),
        ("States.StringSplit('1,2,3,4,5', ',')", ["1", "2", "3", "4", "5"]),
        ("States.StringSplit(',,a,,b,,', ',')", ["a", "b"]),
        ("States.StringSplit('', ',')", []),
        ("States.StringSplit('abc', '')", ["abc"]),
    ],
)
def test_results(text: str, expected: Any) -> None:
    if text == "States.JsonToString($)":
        expected = java_json(INPUT)
    assert run(text) == expected


def test_array_range_at_the_limit() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    assert run("States.ArrayRange(1000, 1, -1)")[-1] == 1


def test_base64_and_hash_accept_exactly_ten_thousand_characters() -> None:
    assert len(run("States.Base64Encode($.max)")) == 13_336
    assert len(run("States.Hash($.max, 'SHA-512')")) == 128


def test_math_random_stays_in_range_and_seed_repeats() -> None:
    values = {run("States.MathRandom(1, 3)") for _ in range(200)}
    assert values == {1, 2}
    assert run("States.MathRandom(0, 999, 3)") == run("States.MathRandom(0, 999, 3)")
    assert 12 <= run("States.MathRandom(12.50, 44.51)") < 44
    assert -99999 <= run("States.MathRandom(-99999, -9999)") < -9999


def test_uuid_is_version_4() -> None:
    value = run("States.UUID()")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value
    )
    assert value != run("States.UUID()")


def _cause(text: str, detail: str) -> str:
    return f"The function '{text}' had the following error: {detail}"


INVALID = [
    "States.Format('{} {}', 'x')",
    "States.Format('{}', 'x', 'y')",
    "States.Format('Hello {', 'x')",
    "States.Format('}')",
    "States.Format($.n, 1)",
    "States.StringToJson($.n)",
    "States.StringToJson('{bad')",
    "States.JsonMerge($.o, $.o, true)",
    "States.JsonMerge($.o, $.arr, false)",
    "States.JsonMerge($.o, $.o, 'false')",
    "States.ArrayPartition($.arr, 0)",
    "States.ArrayPartition($.arr, 0.49)",
    "States.ArrayPartition($.name, 1)",
    "States.ArrayContains($.name, 1)",
    "States.ArrayRange('a', 5, 1)",
    "States.ArrayRange(1, 10, 0)",
    "States.ArrayRange(1, 10, 0.49)",
    "States.ArrayRange(1, 1001, 1)",
    "States.ArrayRange(1001, 1, -1)",
    "States.ArrayRange(1, 5)",
    "States.ArrayRange(1, 5, 1, 99)",
    "States.ArrayGetItem($.arr, 9)",
    "States.ArrayGetItem($.arr, -1)",
    "States.ArrayGetItem($.arr, '1')",
    "States.ArrayGetItem($.name, 0)",
    "States.ArrayLength($.o)",
    "States.ArrayUnique($.name)",
    "States.Base64Encode($.n)",
    "States.Base64Encode($.long)",
    "States.Base64Decode('not base64!!!')",
    "States.Base64Decode('A')",
    "States.Base64Decode($.long)",
    "States.Hash($.data, 'SHA256')",
    "States.Hash($.data, 'sha-256')",
    "States.Hash($.data, 5)",
    "States.Hash($.n, 'MD5')",
    "States.Hash($.long, 'MD5')",
    "States.Hash($.data)",
    "States.MathAdd(1, 'NOT A NUMBER')",
    "States.MathAdd($.t, 1)",
    "States.MathAdd(2147483647, 1)",
    "States.MathAdd(-2147483648, -1)",
    "States.MathAdd(3000000000, 1)",
    "States.MathAdd(null, 1)",
    "States.MathAdd('1.5', 2)",
    "States.MathRandom(1.4, 1.6)",
    "States.MathRandom(5, 1)",
    "States.MathRandom('a', 1)",
    "States.StringSplit($.n, ',')",
    "States.UUID(1)",
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_arguments(text: str) -> None:
    name = text.split("(", 1)[0]
    with pytest.raises(StatesError) as info:
        run(text)
    assert info.value.name == "States.Runtime"
    assert info.value.cause == _cause(text, f"Invalid arguments in {name}")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("States.Format('{}', $.nope)", "$.nope"),
        ("States.Format('{}',$.nope)", "$.nope"),
        ("States.Format('{} {}', $.name, $.a.b)", "$.a.b"),
        ("States.Format($.nope, 1)", "$.nope"),
        ("States.Format('{}', States.Format('{}', $.nope))", "$.nope"),
        ("States.Format('{}', $.arr[9])", "$.arr[9]"),
        ("States.Format('{}', $.name[0])", "$.name[0]"),
        ("States.Format('{}', $$.Nope.Deep)", "$.Nope.Deep"),
        ("States.ArrayLength($.nope)", "$.nope"),
        ("States.JsonMerge($.nope, $.o, false)", "$.nope"),
        ("States.Format('{}', $undefined)", "$undefined"),
    ],
)
def test_missing_path_arguments(text: str, field: str) -> None:
    data = {"other": 1}
    with pytest.raises(StatesError) as info:
        run(
            text, {"other": 1, "name": "x", "arr": [1]} if "name" in text or "arr" in text else data
        )
    shown = info.value.cause
    assert info.value.name == "States.Runtime"
    assert shown.startswith(_cause(text, f"The JsonPath argument for the field '{field}' "))
    assert shown.endswith("'") and "could not be found in the input '{" in shown


def test_missing_path_cause_prints_the_input_compactly() -> None:
    with pytest.raises(StatesError) as info:
        run("States.Format('{}', $.nope)", {"other": 1})
    assert info.value.cause == _cause(
        "States.Format('{}', $.nope)",
        "The JsonPath argument for the field '$.nope' could not be found in the input "
        "'{\"other\":1}'",
    )


@pytest.mark.parametrize(
    "text",
    [
        "States.Format(",
        "States.Format('x'",
        "States.Format('x') extra",
        "States.Nope(1)",
        "States.Format(@)",
        "States.Format('unterminated)",
    ],
)
def test_malformed_or_unknown_calls_fail_with_states_runtime(text: str) -> None:
    with pytest.raises(StatesError) as info:
        run(text)
    assert info.value.name == "States.Runtime"
    assert info.value.cause.startswith(f"The function '{text}' had the following error: ")


def test_nesting_is_limited_to_ten_levels() -> None:
    ten = "States.Array(" * 10 + ")" * 10
    assert run(ten) == [[[[[[[[[[]]]]]]]]]]
    with pytest.raises(IntrinsicSyntaxError):
        parse_intrinsic("States.Array(" * 11 + ")" * 11)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("States.Format('x')", True), ("  States.UUID()", True), ("$.a", False), ("States", False)],
)
def test_is_intrinsic(text: str, expected: bool) -> None:
    assert is_intrinsic(text) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "1"), (1.0, "1.0"), (1.1, "1.1"), (-0.0, "-0.0"), (1e7, "1.0E7"), (1.5e-5, "1.5E-5")],
)
def test_java_number(value: float, text: str) -> None:
    assert java_number(value) == text


@given(st.text(max_size=60))
def test_arbitrary_text_raises_only_states_error(text: str) -> None:
    try:
        run("States.Format(" + text)
        run(text)
    except StatesError:
        pass


@given(st.from_regex(r"States\.(Format|Array|ArrayRange|MathAdd|Hash|StringSplit)\([^()]{0,30}\)"))
def test_arbitrary_calls_raise_only_states_error(text: str) -> None:
    with contextlib.suppress(StatesError):
        run(text)
