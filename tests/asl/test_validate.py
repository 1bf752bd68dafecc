"""``asl.validate``: AWS's ValidateStateMachineDefinition diagnostics, as data.

* ``tests/fixtures/asl/validation/cases.json``: one definition per rule with the exact
  ``[code, location, message]`` list AWS gives (each case says whether the text is recorded from
  AWS, quoted in public material, or inferred).
* ``tests/fixtures/asl/validation/valid/*.json``: realistic machines (every state type, JSONata,
  distributed Map, intrinsics) that must produce no diagnostics, together with every definition
  of the other ASL fixtures, which AWS accepted when they were recorded.
* A Hypothesis property: any JSON value (or text) given as a definition yields a list of
  diagnostics and never raises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.asl import validate
from batchyard.asl.diagnostics import Diagnostic
from batchyard.asl.validate import invalid_definition_message

FIXTURES = Path(__file__).parent.parent / "fixtures" / "asl"
CASES = json.loads((FIXTURES / "validation" / "cases.json").read_text())["cases"]
VALID = sorted((FIXTURES / "validation" / "valid").glob("*.json"))


def _accepted_definitions() -> list[tuple[str, Any]]:
    """Definitions of the execution fixtures that AWS accepted (recorded runs of them exist)."""
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text()).get("cases", []):
            if (
                "definition" in case
                and case.get("expected", {}).get("status") != "INVALID_DEFINITION"
            ):
                found.append((f"{path.stem}:{case['name']}", case["definition"]))
    return found


def _rejected_definitions() -> list[tuple[str, Any, str]]:
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text()).get("cases", []):
            expected = case.get("expected", {})
            if expected.get("status") == "INVALID_DEFINITION":
                found.append(
                    (f"{path.stem}:{case['name']}", case["definition"], expected["message"])
                )
    return found


def _triples(diagnostics: list[Diagnostic], severity: str = "ERROR") -> list[list[str]]:
    return [[d.code, d.location, d.message] for d in diagnostics if d.severity == severity]


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "ERROR"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_rule(case: dict[str, Any]) -> None:
    diagnostics = validate(case["definition"], machine_type=case.get("type", "STANDARD"))
    assert _triples(diagnostics) == case["diagnostics"]
    assert _triples(diagnostics, "WARNING") == case.get("warnings", [])


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_rule_from_json_text(case: dict[str, Any]) -> None:
    """The API receives the definition as text; parsing must not change the answer."""
    definition = case["definition"]
    if isinstance(definition, dict):
        text = json.dumps(definition)
        machine_type = case.get("type", "STANDARD")
        assert _triples(validate(text, machine_type=machine_type)) == case["diagnostics"]


@pytest.mark.parametrize("path", VALID, ids=[path.stem for path in VALID])
def test_valid_corpus(path: Path) -> None:
    assert _errors(validate(path.read_text())) == []


@pytest.mark.parametrize(("name", "definition"), _accepted_definitions())
def test_definitions_aws_accepted(name: str, definition: Any) -> None:
    assert _errors(validate(definition)) == [], name


@pytest.mark.parametrize(("name", "definition", "message"), _rejected_definitions())
def test_definitions_aws_rejected(name: str, definition: Any, message: str) -> None:
    assert invalid_definition_message(validate(definition)) == message, name


def test_message_joins_every_error_like_create_state_machine() -> None:
    """Recorded: ``Invalid State Machine Definition: 'A at /x, B at /y'``."""
    definition = {
        "StartAt": "pass1",
        "States": {
            "pass1": {"Type": "Pass", "Next": "pass3"},
            "pass2": {"Type": "Pass", "End": True},
        },
    }
    assert invalid_definition_message(validate(definition)) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 "
        'at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. '
        "at /States/pass2'"
    )


def test_message_says_null_for_a_diagnostic_without_location() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}
    assert invalid_definition_message(validate(definition)) == (
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    )


def test_message_leaves_out_warnings() -> None:
    diagnostics = [
        Diagnostic("WARNING", "SOME_WARNING", "ignored", "/States/A"),
        Diagnostic(
            "ERROR", "SCHEMA_VALIDATION_FAILED", "Value cannot be empty", "/States/C/Choices"
        ),
    ]
    assert invalid_definition_message(diagnostics) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/C/Choices'"
    )


def test_json_parse_error_is_not_repeated_in_the_message() -> None:
    message = invalid_definition_message(validate("not a definition"))
    assert message.count("[Source:") == 1


def test_schema_errors_suppress_graph_checks() -> None:
    """A state without Next is one schema error, not also an unreachable successor."""
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass"}, "B": {"Type": "Succeed"}}}
    assert [d.code for d in validate(definition)] == ["SCHEMA_VALIDATION_FAILED"]


def test_jsonata_only_checked_in_jsonata_states() -> None:
    """In a JSONPath state a ``{% %}`` string is plain data."""
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": "{% 1 + %}", "End": True}},
    }
    assert validate(definition) == []


def test_warnings_do_not_make_a_definition_invalid() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"a.$": "$"}, "End": True}},
    }
    assert [d.severity for d in validate(definition)] == ["WARNING"]
    assert (
        invalid_definition_message(validate(definition)) == "Invalid State Machine Definition: ''"
    )


# --- property: anything in, diagnostics out ------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)
_KEYS = st.sampled_from(
    [
        "StartAt",
        "States",
        "Type",
        "Next",
        "End",
        "Choices",
        "Variable",
        "Branches",
        "ItemProcessor",
        "Retry",
        "Catch",
        "ErrorEquals",
        "Parameters",
        "x.$",
        "Assign",
        "Output",
        "QueryLanguage",
        "Seconds",
        "Timestamp",
        "ResultPath",
        "Condition",
        "And",
        "Not",
        "StringEquals",
        "Iterator",
        "Default",
        "ItemSelector",
        "Arguments",
        "Credentials",
    ]
)
_VALUES = st.sampled_from(
    [
        *(
            "Pass",
            "Task",
            "Choice",
            "Wait",
            "Map",
            "Parallel",
            "Fail",
            "Succeed",
            "JSONata",
            "JSONPath",
        ),
        *("A", "$", "$.a", "$$.Execution", "States.Format('{}', $.a)", "{% $states.input %}"),
        *("{% a %}", "{% 1 + %}", "States.ALL", "arn:aws:states:::lambda:invoke"),
    ]
)
# Definition-shaped values, so the property reaches deep into the checks and not only the top.
_ASL = st.recursive(
    _VALUES | st.booleans() | st.integers(min_value=-2, max_value=3) | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS | _VALUES, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(_JSON | _ASL)
def test_any_value_gives_diagnostics(definition: Any) -> None:
    result = validate(definition)
    assert isinstance(result, list)
    assert all(isinstance(d, Diagnostic) and d.severity in ("ERROR", "WARNING") for d in result)
    invalid_definition_message(result)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40) | _JSON.map(json.dumps) | _ASL.map(json.dumps))
def test_any_text_gives_diagnostics(text: str) -> None:
    result = validate(text)
    assert all(isinstance(d, Diagnostic) for d in result)


def _resolves(definition: Any, pointer: str) -> bool:
    """Whether an AWS-style location (``/States/C/Choices[0]/Next``) names a node of ``definition``."""
    node = definition
    for part in pointer.split("/")[1:] if pointer != "/" else []:
        name, *indexes = part.split("[")
        if not (isinstance(node, dict) and name in node):
            return False
        node = node[name]
        for index in indexes:
            position = int(index.rstrip("]"))
            if not (isinstance(node, list) and position < len(node)):
                return False
            node = node[position]
    return True


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _ASL, max_size=4))
def test_every_location_exists_in_the_definition(definition: dict[str, Any]) -> None:
    for diagnostic in validate(definition):
        assert diagnostic.location == "" or _resolves(definition, diagnostic.location), diagnostic
