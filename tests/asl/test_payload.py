"""Payload templates: references, context, variables, intrinsics, nesting, and failure data."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.asl.errors import StatesError
from batchyard.asl.payload import InvalidPayloadValue, PayloadPathNotFound, evaluate_payload

INPUT = {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50], "name": "Ada", "o": {"k": 1}}
CONTEXT = {"Execution": {"Id": "arn:x", "Input": {"a": 1}}, "Map": {"Item": {"Index": 2}}}
VARIABLES = {"count": 4}


def run(template: Any, data: Any = INPUT) -> Any:
    return evaluate_payload(template, data, context=CONTEXT, variables=VARIABLES)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            {"flagged": True, "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[3:]"}},
            {"flagged": True, "parts": {"first": 0, "last3": [30, 40, 50]}},
        ),
        ({"all.$": "$"}, {"all": INPUT}),
        ({"id.$": "$$.Execution.Id", "index.$": "$$.Map.Item.Index"}, {"id": "arn:x", "index": 2}),
        ({"c.$": "$count"}, {"c": 4}),
        ({"g.$": "States.Format('hi {}', $.name)"}, {"g": "hi Ada"}),
        ({"list": [{"x.$": "$.name"}, 1, "s"]}, {"list": [{"x": "Ada"}, 1, "s"]}),
        ({"literal": {"a": [1, {"b": None}]}}, {"literal": {"a": [1, {"b": None}]}}),
        ({"not.a.path": "$.name"}, {"not.a.path": "$.name"}),
        ({"past.$": "$.vals[9]"}, {"past": None}),
        ({"wild.$": "$.o[*]"}, {"wild": [1]}),
        ([{"x.$": "$.flagged"}], [{"x": 7}]),
        ("plain", "plain"),
        ({}, {}),
    ],
)
def test_templates(template: Any, expected: Any) -> None:
    assert run(template) == expected


def test_template_is_not_modified_and_results_are_fresh() -> None:
    template = {"a.$": "$.name", "b": {"c": 1}}
    first = run(template)
    second = run(template, {"name": "Bob"})
    assert template == {"a.$": "$.name", "b": {"c": 1}}
    assert first == {"a": "Ada", "b": {"c": 1}}
    assert second == {"a": "Bob", "b": {"c": 1}}
    assert first is not second


def test_missing_path_carries_field_path_input_and_aws_cause() -> None:
    with pytest.raises(PayloadPathNotFound) as info:
        run({"address.$": "$.application.address"}, {"flagged": False})
    error = info.value
    assert isinstance(error, StatesError)
    assert error.name == "States.Runtime"
    assert (error.field, error.path, error.input) == (
        "address.$",
        "$.application.address",
        {"flagged": False},
    )
    assert error.cause == (
        "The JSONPath '$.application.address' specified for the field 'address.$' could not be "
        "found in the input '{\"flagged\":false}'"
    )


def test_nested_missing_path_names_the_nested_key() -> None:
    with pytest.raises(PayloadPathNotFound) as info:
        run({"outer": {"m.$": "$.nope"}}, {"x": "a"})
    assert info.value.cause == (
        "The JSONPath '$.nope' specified for the field 'm.$' could not be found in the input "
        '\'{"x":"a"}\''
    )


def test_missing_context_path_reports_the_context_object() -> None:
    with pytest.raises(PayloadPathNotFound) as info:
        run({"ctx.$": "$$.Nope"})
    assert info.value.input == CONTEXT


def test_intrinsic_failure_propagates_as_states_error() -> None:
    with pytest.raises(StatesError) as info:
        run({"v.$": "States.Format('{}', $.nope)"}, {"other": 1})
    assert info.value.cause.startswith("The function 'States.Format('{}', $.nope)' had the")


@pytest.mark.parametrize("value", [5, "name", None, ["$.a"]])
def test_invalid_reference_values(value: Any) -> None:
    with pytest.raises(InvalidPayloadValue) as info:
        run({"x.$": value})
    assert info.value.name == "States.Runtime"
    assert info.value.field == "x.$"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_reference = st.sampled_from(
    ["$", "$.a", "$$.Execution", "$count", "$.vals[*]", "States.UUID()"]
) | st.text(max_size=12)
_templates = st.recursive(
    _json,
    lambda inner: (
        st.dictionaries(st.text(max_size=4), inner, max_size=3)
        | st.dictionaries(st.text(max_size=4).map(lambda k: k + ".$"), _reference, max_size=3)
        | st.lists(inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(_templates, _json)
def test_arbitrary_templates_raise_only_states_errors(template: Any, data: Any) -> None:
    with contextlib.suppress(StatesError):
        evaluate_payload(template, data, context=CONTEXT, variables=VARIABLES)
