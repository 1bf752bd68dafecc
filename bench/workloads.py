"""State machines shared by the benchmarks, so every bench measures the same workloads."""

from __future__ import annotations

from typing import Any


def pass_chain(length: int = 1000) -> dict[str, Any]:
    """A chain of ``length`` Pass states: pure transition overhead."""
    states: dict[str, Any] = {}
    for index in range(length):
        state: dict[str, Any] = {"Type": "Pass"}
        if index + 1 < length:
            state["Next"] = f"P{index + 1}"
        else:
            state["End"] = True
        states[f"P{index}"] = state
    return {"StartAt": "P0", "States": states}


def ten_state_machine() -> dict[str, Any]:
    """Ten states (nested ones counted): Pass, Choice, Wait 0 s, Parallel with two branches, Map over 20 items."""
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {
                "Type": "Pass",
                "Parameters": {"items.$": "$.items", "flag": True},
                "Next": "Decide",
            },
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.flag", "BooleanEquals": True, "Next": "Pause"}],
                "Default": "Done",
            },
            "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Fan out"},
            "Fan out": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                    {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
                ],
                "ResultPath": "$.branches",
                "Next": "Each item",
            },
            "Each item": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Touch",
                    "States": {"Touch": {"Type": "Pass", "End": True}},
                },
                "ResultPath": "$.mapped",
                "Next": "Shape",
            },
            "Shape": {"Type": "Pass", "OutputPath": "$.mapped", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def ten_state_input() -> dict[str, Any]:
    return {"items": list(range(20))}
