"""The public surface of ``batchyard.asl`` as outside callers use it."""

from __future__ import annotations

import pytest

from batchyard import asl

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def test_without_input_the_execution_starts_with_an_empty_object() -> None:
    result = asl.execute(PASS)
    assert result.output == {}
    assert result.events[0]["executionStartedEventDetails"]["input"] == "{}"


def test_none_is_the_json_null_input() -> None:
    result = asl.execute(PASS, None)
    assert result.output is None
    assert result.events[0]["executionStartedEventDetails"]["input"] == "null"


def test_a_compiled_machine_runs_many_times() -> None:
    machine = asl.compile(PASS)
    assert [asl.execute(machine, n).output for n in range(3)] == [0, 1, 2]


def test_compile_accepts_json_text() -> None:
    assert (
        asl.execute(
            asl.compile('{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'), 7
        ).output
        == 7
    )


def test_invalid_definition_carries_every_diagnostic() -> None:
    definition = {"StartAt": "Nope", "States": {"A": {"Type": "Pass", "Next": "Gone"}}}
    with pytest.raises(asl.InvalidDefinition) as caught:
        asl.compile(definition)
    assert caught.value.message.startswith("Invalid State Machine Definition: ")
    assert len(caught.value.diagnostics) >= 2
    assert all(d.severity == "ERROR" for d in caught.value.diagnostics)


def test_jsonpath_selector_in_a_jsonata_choice_rule_is_a_diagnostic_not_a_crash() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "E"}],
                "Default": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }
    messages = [d.message for d in asl.validate(definition)]
    assert "These fields are required: [Condition]" in messages
    assert any("'Variable' is only supported for the 'JSONPath'" in m for m in messages)
