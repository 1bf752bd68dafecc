"""JSONPath for ASL: definite and indefinite paths, roots, failures, ResultPath."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchyard.asl.paths import (
    PathNotFound,
    ResultPathMatchFailure,
    get_path,
    is_reference_path,
    json_compact,
    set_result_path,
)

DATA: dict[str, Any] = {
    "a": {"b": {"c": 1}},
    "list": [10, 20, 30],
    "items": [{"x": 1, "n": "p"}, {"x": 2, "n": "q"}, {"x": 3}],
    "b c": 5,
    "nul": None,
    "s": "text",
}
CONTEXT = {"Execution": {"Id": "arn:exec", "Input": {"k": "v"}}, "State": {"Name": "S"}}
VARIABLES = {"count": 3, "obj": {"deep": [7, 8]}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.a", {"b": {"c": 1}}),
        ("$.a.b.c", 1),
        ("$['a']['b']", {"c": 1}),
        ('$["a"].b', {"c": 1}),
        ("$['b c']", 5),
        ("$.list[0]", 10),
        ("$.list[2]", 30),
        ("$.list[-1]", 30),
        ("$.items[1].n", "q"),
        ("$.nul", None),
        ("$$", CONTEXT),
        ("$$.Execution.Input.k", "v"),
        ("$$.State.Name", "S"),
        ("$count", 3),
        ("$obj.deep[1]", 8),
        ("$obj", {"deep": [7, 8]}),
    ],
)
def test_definite_paths_select_one_value(path: str, expected: Any) -> None:
    assert get_path(path, DATA, context=CONTEXT, variables=VARIABLES) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.items[*].x", [1, 2, 3]),
        ("$.items[*].n", ["p", "q"]),
        ("$.items[*].missing", []),
        ("$.items[?(@.x > 1)].x", [2, 3]),
        ("$.items[?(@.n == 'p')]", [{"x": 1, "n": "p"}]),
        ("$.list[1:]", [20, 30]),
        ("$.list[0,2]", [10, 30]),
        ("$..c", [1]),
        ("$.list[*]", [10, 20, 30]),
        ("$$.Execution.Input[*]", ["v"]),
        ("$.items[?(@.x >= 2 && @.n)].n", ["q"]),
        ("$.items[?(@.x == 1 || @.x == 3)].x", [1, 3]),
        ("$.items[?(@.n =~ /[pq]/)].x", [1, 2]),
        ("$.items[?(@.x in [2, 3])].x", [2, 3]),
        ("$.items[?(!(@.x < 3))].x", [3]),
        ("$.items[?(@.x > $.list[0])]", []),
        ("$.a.*", [{"c": 1}]),
        ("$.a[*].c", [1]),
        ("$.s[*]", []),
        ("$..[0]", [10, {"x": 1, "n": "p"}]),
        ("$.list[-2:]", [20, 30]),
        ("$['a','s']", [{"b": {"c": 1}}, "text"]),
    ],
)
def test_indefinite_paths_return_lists(path: str, expected: Any) -> None:
    assert get_path(path, DATA, context=CONTEXT, variables=VARIABLES) == expected


@pytest.mark.parametrize(
    ("path", "message", "out_of_range"),
    [
        ("$.missing", "No results for path: $['missing']", False),
        ("$.a.missing", "No results for path: $['a']['missing']", False),
        ("$.missing.deeper", "Missing property in path $['missing']", False),
        ("$.list[3]", "No results for path: $['list'][3]", True),
        ("$.list[-4]", "No results for path: $['list'][-4]", True),
        ("$.list[5].x", "No results for path: $['list'][5]['x']", False),
        ("$.s[0]", 'Filter: [0] can only be applied to arrays. Current context is: "text"', False),
        ("$.s.x", "No results for path: $['s']['x']", False),
        ("$undefinedVar", "No results for path: $undefinedVar", False),
        ("$$.Nope", "No results for path: $['Nope']", False),
    ],
)
def test_missing_definite_paths_raise(path: str, message: str, out_of_range: bool) -> None:
    with pytest.raises(PathNotFound) as info:
        get_path(path, DATA, context=CONTEXT, variables=VARIABLES)
    assert info.value.path == path
    assert info.value.message == message
    assert info.value.index_out_of_range is out_of_range


@pytest.mark.parametrize("path", ["", "a.b", "$.", "$[", "$.a[?(", "$$$"])
def test_malformed_paths_raise_path_not_found(path: str) -> None:
    with pytest.raises(PathNotFound):
        get_path(path, DATA)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", True),
        ("$.a.b", True),
        ("$['a b'][0]", True),
        ("$$.Execution.Id", True),
        ("$var.x", True),
        ("$.a[*]", False),
        ("$..a", False),
        ("$.a[?(@.x)]", False),
        ("$.a[1:2]", False),
        ("a", False),
        ("", False),
    ],
)
def test_is_reference_path(path: str, expected: bool) -> None:
    assert is_reference_path(path) is expected


@pytest.mark.parametrize(
    ("path", "data", "result", "expected"),
    [
        (None, {"a": 1}, {"r": 2}, {"a": 1}),
        ("$", {"a": 1}, {"r": 2}, {"r": 2}),
        ("$", "anything", 5, 5),
        ("$.r", {"a": 1}, 2, {"a": 1, "r": 2}),
        ("$.a", {"a": 1}, 2, {"a": 2}),
        ("$.x.y.z", {"a": 1}, 2, {"a": 1, "x": {"y": {"z": 2}}}),
        ("$.a.b", {"a": {"c": 1}}, 2, {"a": {"c": 1, "b": 2}}),
        ("$['k k']", {}, None, {"k k": None}),
        ("$.l[1]", {"l": [0, 0]}, 9, {"l": [0, 9]}),
    ],
)
def test_set_result_path(path: str | None, data: Any, result: Any, expected: Any) -> None:
    assert set_result_path(path, data, result) == expected


def test_set_result_path_copies_only_along_the_path() -> None:
    data = {"a": {"b": 1}, "other": {"big": [1, 2, 3]}}
    out = set_result_path("$.a.c", data, 2)
    assert data == {"a": {"b": 1}, "other": {"big": [1, 2, 3]}}
    assert out["other"] is data["other"]
    assert out["a"] is not data["a"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("$.x", "foo"),
        ("$.x", [1, 2]),
        ("$.a.b", {"a": 1}),
        ("$.a.b", {"a": "s"}),
        ("$.l[5]", {"l": [1]}),
        ("$.a[*]", {"a": []}),
        ("$$.x", {}),
    ],
)
def test_result_path_match_failure(path: str, data: Any) -> None:
    with pytest.raises(ResultPathMatchFailure) as info:
        set_result_path(path, data, 1)
    assert info.value.cause == f"Unable to apply ReferencePath {path} to input {json_compact(data)}"


def test_result_path_failure_cause_text() -> None:
    with pytest.raises(ResultPathMatchFailure) as info:
        set_result_path("$.partitioned", '{"min_size":1}', {})
    assert info.value.cause == (
        'Unable to apply ReferencePath $.partitioned to input "{\\"min_size\\":1}"'
    )


def test_json_compact_keeps_order_and_unicode() -> None:
    assert json_compact({"b": 1, "a": [1.5, "é", None, True]}) == '{"b":1,"a":[1.5,"é",null,true]}'


@given(st.text(max_size=40))
def test_arbitrary_paths_raise_only_path_not_found(path: str) -> None:
    with contextlib.suppress(PathNotFound):
        get_path(path, DATA, context=CONTEXT, variables=VARIABLES)


@given(st.text(max_size=30))
def test_arbitrary_result_paths_raise_only_result_path_failure(path: str) -> None:
    with contextlib.suppress(ResultPathMatchFailure):
        set_result_path(path, DATA, 1)
