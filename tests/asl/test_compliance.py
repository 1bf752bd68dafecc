"""Compliance fixtures for :func:`batchyard.asl.execute`, replayed from AWS recordings and docs.

Every ``tests/fixtures/asl/*.json`` file describes one feature::

    {"feature": "...",
     "source": "where the expected values come from (AWS doc URL, or repo+path of a recording)",
     "cases": [
       {"name": "...",
        "definition": {...},            # the state machine, as sent to CreateStateMachine
        "input": {...},                 # the execution input (any JSON value; omitted means {})
        "functions": "echo",            # optional: a handler set of HANDLERS below
        "expected": {"status": "SUCCEEDED", "output": {...}}
                  | {"status": "FAILED", "error": "...", "cause": "..."},
        "event_types": ["ExecutionStarted", "PassStateEntered", ...]   # optional
       }]}

Only the keys present in ``expected`` are compared: ``status`` always; ``output`` by deep
equality (``true`` is not ``1``); ``error`` and ``cause`` as exact strings. A case leaves
``cause`` out when AWS's text is not known verbatim -- we never guess it. For a Lambda that
raised, ``cause_json`` gives the fields of the JSON cause the recording pins down
(``errorMessage``, ``errorType``; the request id and stack trace cannot be reproduced), and
``cause_startswith`` the known beginning of a cause when only that much was recorded.
A case may carry its own ``source`` when it differs from the file's. A definition AWS rejects
at CreateStateMachine expects ``{"status": "INVALID_DEFINITION", "message": "<AWS's text>"}``:
``execute`` must raise :class:`InvalidDefinition` whose ``str()`` is that message. ``event_types`` is compared with the ``type`` of
every history event, in order, when the recording gives it.

The expected values never come from our own code: each file's ``source`` names the AWS
recording (LocalStack's ``*.snapshot.json`` files hold real ``GetExecutionHistory`` responses)
or the AWS documentation page the case is taken from.

Lambda handlers: a case's ``functions`` names a handler set; each set maps a Lambda function
*name* (the last part of the ARN) to a Python ``handler(event, context)`` that returns or raises
what the recorded Lambda did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.asl import InvalidDefinition, execute

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "asl"

Handler = Callable[[Any, Any], Any]


# --- Lambda handlers reproducing what the recorded functions returned or raised -------------


def _echo(event: Any, context: Any) -> Any:
    """LocalStack's ``lambda_functions/base/id_function.py``: return the event unchanged."""
    return event


class CustomError(Exception):
    """The Developer Guide's error-handling example raises an exception of this name."""


def _raise_custom_error(event: Any, context: Any) -> Any:
    raise CustomError("This is a custom error!")


class CustomException(Exception):
    """LocalStack's ``raise_custom_exception.py``: this very name, and no message at all."""

    def __init__(self) -> None:
        self.message = "CustomException message"


def _raise_custom(event: Any, context: Any) -> Any:
    raise CustomException()


def _raise_exception(event: Any, context: Any) -> Any:
    """LocalStack's ``raise_exception.py``."""
    raise Exception("Some exception was raised.")


def _large_output(event: Any, context: Any) -> Any:
    """LocalStack's ``large_output_string.py``: 257 KiB of ``a``, over the 256 KiB quota."""
    return "a" * (257 * 1024)


def _hello_who(event: Any, context: Any) -> Any:
    """The Developer Guide's HelloFunction: ``"Hello, " + event.who + "!"``."""
    return f"Hello, {event['who']}!"


# A factory per set, so every case gets handlers of its own.
HANDLERS: dict[str, Callable[[], dict[str, Handler]]] = {
    "echo": lambda: {"echo": _echo},
    "raise_custom": lambda: {"raise_custom": _raise_custom, "echo": _echo},
    "raise_exception": lambda: {"raise_exception": _raise_exception, "echo": _echo},
    "large_output": lambda: {"large_output": _large_output},
    "hello_who": lambda: {"HelloFunction": _hello_who},
    "custom_error": lambda: {"CustomErrorFunction": _raise_custom_error},
}


# --- fixture loading --------------------------------------------------------------------------


def _load_cases() -> Iterator[Any]:
    for path in sorted(FIXTURES.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            yield pytest.param(case, id=f"{path.stem}::{case['name']}")


CASES = list(_load_cases())
STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _first_difference(got: list[str], want: list[str]) -> str:
    """Where two event-type lists part, for a failure message a reader can act on."""
    for index, (mine, theirs) in enumerate(zip(got, want, strict=False)):
        if mine != theirs:
            return f"event #{index + 1}: got {mine}, AWS has {theirs}"
    return f"got {len(got)} events, AWS has {len(want)} (first extra: {(got + want)[min(len(got), len(want))]})"


def _canonical(value: Any) -> Any:
    """A value for deep equality that, unlike ``==``, tells ``true`` from ``1`` (JSON does)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def test_fixtures_are_well_formed() -> None:
    """Every fixture file names its source, and case names are unique within a file."""
    files = sorted(FIXTURES.glob("*.json"))
    assert files, "no fixture files found"
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document.get("feature"), path.name
        assert document.get("source"), path.name
        names = [case["name"] for case in document["cases"]]
        assert len(names) == len(set(names)), f"duplicate case names in {path.name}"
        for case in document["cases"]:
            assert case["expected"]["status"] in {*STATUSES, "INVALID_DEFINITION"}
            assert case.get("functions") is None or case["functions"] in HANDLERS


@pytest.mark.parametrize("case", CASES)
def test_compliance(case: dict[str, Any]) -> None:
    functions = HANDLERS[case["functions"]]() if case.get("functions") else None
    expected = case["expected"]
    if expected["status"] == "INVALID_DEFINITION":
        with pytest.raises(InvalidDefinition) as raised:
            execute(case["definition"], case.get("input", {}), functions=functions)
        assert str(raised.value) == expected["message"]
        return
    result = execute(case["definition"], case.get("input", {}), functions=functions)

    assert result.status == expected["status"], (result.status, result.error, result.cause)
    if "output" in expected:
        assert _canonical(result.output) == _canonical(expected["output"]), (
            f"output {result.output!r:.300}"
        )
    if "error" in expected:
        assert result.error == expected["error"], f"error {result.error!r}"
    if "cause" in expected:
        assert result.cause == expected["cause"], f"cause {result.cause!r}"
    if "cause_startswith" in expected:
        assert result.cause is not None
        assert result.cause.startswith(expected["cause_startswith"]), f"cause {result.cause!r}"
    if "cause_json" in expected:
        # Lambda causes embed a request id and a stack trace we cannot reproduce; compare the
        # keys the recording pins down, and the key order AWS writes them in.
        assert result.cause is not None
        cause = json.loads(result.cause)
        assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
        for key, value in expected["cause_json"].items():
            assert cause[key] == value, key
    if "event_types" in case:
        types = [event["type"] for event in result.events]
        assert types == case["event_types"], _first_difference(types, case["event_types"])
